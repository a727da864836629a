"""The forms of FORMS.md: column aliases, detection, and per-form reading with validation.

Single-unit forms (Appendix II, IV) are all-or-nothing: one error sets the file aside. Multi-unit files (the
scoring software's export, the survey roster and progress) reject only their bad rows; good rows go on.

Each reader turns a row that validated into a typed record (:mod:`par_index.intake.records`) through
:meth:`ParsedForm.keep`, which refuses a row with an error-severity issue: it is reported, never a record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import cast

from par_index import nominee_rules
from par_index.addresses import InvalidAddress, normalise_address
from par_index.campaign import Campaign
from par_index.intake.issue import Issue
from par_index.intake.records import (
    RECORD_TYPES,
    Coverage,
    NomineeRecord,
    PortalAccountRecord,
    PortalScoreRecord,
    Record,
    ReportScoreRecord,
    SurveyProgressRecord,
    SurveyRosterRecord,
)
from par_index.intake.sheets import HeaderField, Sheet, Table, cell_ref, cell_text, find_table, header_fields
from par_index.text import fold, free_text, parse_decimal, parse_vn_date, parse_vn_datetime

PHONE = re.compile(r"^(0\d{9,10}|\+84\d{9,10})$")
PASSWORD_TITLES = ("mat khau", "password", "mk", "pass", "mat khau dang nhap")


@dataclass(frozen=True)
class FormSpec:
    """What one form kind looks like: its columns' titles, required fields and unit rules."""

    kind: str
    title_vi: str
    aliases: dict[str, tuple[str, ...]]
    required: frozenset[str]
    per_unit: bool  # True: the unit comes from the header block and one error rejects the file


SPECS = (
    FormSpec(
        "portal_export",
        "Dữ liệu xuất từ phần mềm chấm điểm",
        {
            "unit": ("Mã đơn vị",),
            "criterion": ("Mã tiêu chí",),
            "score": ("Điểm tự đánh giá", "Điểm tự chấm"),
            "evidence_count": ("Số tài liệu kiểm chứng", "Số TLKC"),
            "status": ("Trạng thái",),
            "updated_at": ("Cập nhật lúc", "Thời gian cập nhật"),
        },
        frozenset({"unit", "criterion", "score", "updated_at"}),
        False,
    ),
    FormSpec(
        "appendix_ii",
        "Phụ lục II — Báo cáo kết quả tự chấm điểm",
        {
            "criterion": ("Mã tiêu chí", "Mã TC", "Mã tiêu chí/tiêu chí thành phần"),
            "content": ("Nội dung",),
            "max_points": ("Điểm tối đa",),
            "score": ("Điểm tự chấm", "Điểm tự đánh giá"),
            "evidence": ("Tài liệu kiểm chứng", "TLKC"),
            "explanation": ("Giải trình",),
            "note": ("Ghi chú",),
        },
        frozenset({"criterion", "score"}),
        True,
    ),
    FormSpec(
        "appendix_iii",
        "Phụ lục III — Danh sách tài khoản",
        {
            "unit_name": ("Đơn vị",),
            "unit": ("Mã đơn vị",),
            "login": ("Tên đăng nhập", "Tài khoản"),
            "scope": ("Lĩnh vực/tiêu chí được phân quyền",),
            "manager": ("Người quản lý tài khoản",),
            "email": ("Email",),
        },
        frozenset({"unit", "login"}),
        False,
    ),
    FormSpec(
        "survey_progress",
        "Tiến độ trả lời phiếu khảo sát",
        {
            "email": ("Email",),
            "status": ("Trạng thái",),
            "completed_at": ("Hoàn thành lúc",),
            "answered": ("Số câu đã trả lời",),
            "total": ("Tổng số câu",),
        },
        frozenset({"email", "status", "answered", "total"}),
        False,
    ),
    FormSpec(
        "survey_roster",
        "Danh sách người trả lời phiếu khảo sát",
        {
            "name": ("Họ và tên", "Họ tên"),
            "position": ("Chức vụ",),
            "unit": ("Mã đơn vị",),
            "email": ("Email",),
            "group": ("Nhóm đối tượng",),
        },
        frozenset({"name", "unit", "email", "group"}),
        False,
    ),
    FormSpec(
        "appendix_iv",
        "Phụ lục IV — Danh sách công chức đầu mối",
        {
            "name": ("Họ và tên", "Họ tên"),
            "position": ("Chức vụ",),
            "division": ("Phòng/Ban", "Phòng ban"),
            "areas": ("Lĩnh vực phụ trách",),
            "phone": ("Điện thoại", "Số điện thoại"),
            "email": ("Email",),
            "council": ("Thành viên Hội đồng thẩm định", "Thành viên HĐTĐ"),
            "note": ("Ghi chú",),
        },
        frozenset({"name", "position", "areas", "email"}),
        True,
    ),
)
SPEC_BY_KIND = {spec.kind: spec for spec in SPECS}
HEADER_LABELS = {
    "unit": ("Đơn vị", "Tên đơn vị", "Cơ quan"),
    "number": ("Số", "Số báo cáo"),
    "date": ("Ngày", "Ngày báo cáo"),
    "signer": ("Người ký",),
    # Appendix II: the unit's difficulties and proposals to the PPC through SNV (the directive's closing paragraph)
    "difficulties": (
        "Khó khăn, vướng mắc, đề xuất",
        "Khó khăn, vướng mắc, kiến nghị",
        "Khó khăn, vướng mắc",
        "Khó khăn vướng mắc đề xuất",
    ),
}
# the software export's statement of what it holds (docs/forms.md): "Phạm vi: Tất cả đơn vị", or units; areas
SCOPE_LABELS = {
    "units": ("Phạm vi", "Đơn vị", "Các đơn vị"),
    "areas": ("Lĩnh vực", "Các lĩnh vực"),
}
EVERY = ("tat ca", "tat ca don vi", "toan bo", "toan tinh", "tat ca linh vuc")  # folded "all"
# a form whose whole file is refused by one of these, even where only bad rows are refused otherwise
WHOLE_FILE_CODES = frozenset({"INT010", "INT054"})


@dataclass
class ParsedForm:
    """One file read as a form: its unit, header, issues and records."""

    kind: str
    unit_code: str | None = None
    header: dict[str, object] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    sheet: str | None = None  # the sheet its table was read from
    header_cells: dict[str, HeaderField] = field(default_factory=dict)  # where each header value was written
    _records: list[Record] = field(default_factory=list, init=False, repr=False)
    _error_rows: set[int] = field(default_factory=set, init=False, repr=False)
    _issues_seen: int = field(default=0, init=False, repr=False)

    @property
    def records(self) -> tuple[Record, ...]:
        """The rows that were read without an error, typed by the form's kind, in the order of the table."""
        return tuple(self._records)

    def keep(self, record: Record) -> bool:
        """Take ``record`` as one of the form's records, unless an error-severity issue was reported on its row
        (in the form's sheet): such a row stays reported with its issue and never becomes a record. The only way
        a record enters a form."""
        expected = RECORD_TYPES.get(self.kind)
        if type(record) is not expected:
            raise TypeError(
                f"a {self.kind} form holds {expected and expected.__name__} records, not "
                f"{type(record).__name__}"
            )
        for issue in self.issues[self._issues_seen :]:
            if issue.severity == "error" and issue.row and issue.sheet in (self.sheet, None):
                self._error_rows.add(issue.row)
        self._issues_seen = len(self.issues)
        if record.row in self._error_rows:
            return False
        self._records.append(record)
        return True

    @property
    def errors(self) -> list[Issue]:
        """The issues that are errors."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def rejected(self) -> bool:
        """Whether the whole file is set aside."""
        spec = SPEC_BY_KIND.get(self.kind)
        return (
            self.kind == "unknown"
            or bool(self.errors and (spec is None or spec.per_unit))
            or any(i.code in WHOLE_FILE_CODES for i in self.issues)
        )


def detect(sheets: list[Sheet]) -> tuple[FormSpec, Table] | None:
    """The form whose table the sheets hold, with that table; None when none is recognised."""
    for spec in SPECS:
        table = find_table(sheets, spec.aliases, set(spec.required))
        if table is not None:
            return spec, table
    return None


def parse_form(
    sheets: list[Sheet], campaign: Campaign, snapshot: bool = False, roster: AbstractSet[str] | None = None
) -> ParsedForm:
    """Detect which form ``sheets`` hold and read it with every validation rule of FORMS.md. ``snapshot``: the
    rows are everything the source holds (a feed fetched for every unit), so a software export replaces every
    unit's rows. ``roster``: the survey roster's emails, against which a progress export's rows are checked
    (``None``: no roster yet, nothing checked)."""
    found = detect(sheets)
    if found is None:
        return ParsedForm(
            "unknown",
            issues=[
                Issue(
                    "INT007",
                    "Không nhận ra biểu mẫu: không tìm thấy dòng tiêu đề của Phụ lục II, III, IV, dữ liệu xuất "
                    "phần mềm chấm điểm hay danh sách/tiến độ khảo sát. Dùng đúng biểu mẫu của Sở Nội vụ.",
                )
            ],
        )
    spec, table = found
    form = ParsedForm(spec.kind, sheet=table.sheet)
    form.issues += [
        i for sheet in sheets for i in sheet.issues if sheet.name == table.sheet or i.sheet is None
    ]
    _refuse_password_columns(table, form)
    if form.rejected:
        return form
    if spec.per_unit:
        _read_unit_header(table, campaign, form)
        if form.rejected:
            return form
    reader: dict[str, Callable[[Table, Campaign, ParsedForm], None]] = {
        "appendix_ii": _appendix_ii,
        "appendix_iv": _appendix_iv,
        "portal_export": partial(_portal_export, snapshot=snapshot),
        "survey_roster": _survey_roster,
        "survey_progress": partial(_survey_progress, roster=roster),
        "appendix_iii": _appendix_iii,
    }
    reader[spec.kind](table, campaign, form)
    return form


def _issue(
    form: ParsedForm,
    table: Table,
    code: str,
    message: str,
    row: int | None = None,
    field_name: str | None = None,
    severity: str = "error",
    unit: str | None = None,
    criterion: str | None = None,
) -> None:
    column = table.titles.get(field_name) if field_name else None
    cell = cell_ref(row, table.columns[field_name]) if row and field_name in table.columns else None
    form.issues.append(Issue(code, message, severity, table.sheet, row, column, cell, unit, criterion))


def _header_issue(form: ParsedForm, table: Table, code: str, message: str, at: HeaderField | None) -> None:
    """An error of the header block, at the label's row and the value's cell; a missing label at the cell above
    the table where the header block starts (A1)."""
    row, cell = (at.row, at.value_cell) if at else (1, cell_ref(1, 0))
    form.issues.append(Issue(code, message, "error", table.sheet, row, None, cell))


def _refuse_password_columns(table: Table, form: ParsedForm) -> None:
    header = table.rows[table.header_row]
    for col, value in enumerate(header):
        if any(
            fold(cell_text(value)) == t or fold(cell_text(value)).startswith(t + " ") for t in PASSWORD_TITLES
        ):
            form.issues.append(
                Issue(
                    "INT010",
                    "Tệp có cột mật khẩu: không bao giờ gửi mật khẩu. Tệp bị từ chối và "
                    "không được lưu; xóa cột này rồi gửi lại.",
                    "error",
                    table.sheet,
                    table.header_row + 1,
                    cell_text(value),
                    cell_ref(table.header_row + 1, col),
                )
            )


def _read_unit_header(table: Table, campaign: Campaign, form: ParsedForm) -> None:
    form.header_cells = header_fields(table.header_block(), HEADER_LABELS)
    header = {k: found.value for k, found in form.header_cells.items()}
    form.header = {k: cell_text(v) for k, v in header.items() if k != "difficulties"}
    if difficulties := free_text(header.get("difficulties")):  # kept whole, line breaks and all
        form.header["difficulties"] = difficulties
    unit_text = form.header.get("unit")
    if not unit_text:
        _header_issue(
            form,
            table,
            "INT008",
            "Thiếu dòng “Đơn vị:” ở phần đầu biểu mẫu, phía trên dòng tiêu đề cột (dòng "
            f"{table.header_row + 1}): ghi tên hoặc mã đơn vị.",
            None,
        )
        return
    unit = campaign.unit_for(cast(str, unit_text))
    if unit is None:
        _header_issue(
            form,
            table,
            "INT009",
            f"Đơn vị “{unit_text}” không có trong danh sách đơn vị của chiến dịch.",
            form.header_cells["unit"],
        )
        return
    form.unit_code = unit.code
    if "date" in header:
        try:
            signed = parse_vn_date(header["date"])
            form.header["date"] = signed.isoformat() if signed else None
        except ValueError:
            _header_issue(
                form,
                table,
                "INT012",
                f"Ngày “{cell_text(header['date'])}” không đúng dạng dd/mm/yyyy.",
                form.header_cells["date"],
            )


def _number(form: ParsedForm, table: Table, raw: object, row: int, field_name: str) -> Decimal | None:
    try:
        return parse_decimal(raw)
    except ValueError:
        _issue(form, table, "INT013", f"“{cell_text(raw)}” không phải là số.", row, field_name)
        return None


_BAD = object()  # a value already reported as an issue


def _row_unit(form: ParsedForm, table: Table, campaign: Campaign, values: dict, row: int):
    """The unit a multi-unit row names, or None after reporting INT050."""
    unit = campaign.unit_for(cell_text(values.get("unit")))
    if unit is None:
        _issue(
            form,
            table,
            "INT050",
            f"Mã đơn vị “{cell_text(values.get('unit'))}” không có trong chiến dịch.",
            row,
            "unit",
        )
    return unit


def _moment(form: ParsedForm, table: Table, campaign: Campaign, values: dict, row: int, field_name: str):
    """A local date-time (naive values are the campaign's time zone), None when blank, or _BAD after INT051."""
    try:
        moment = parse_vn_datetime(values.get(field_name))
    except ValueError:
        _issue(
            form,
            table,
            "INT051",
            f"Thời gian “{cell_text(values.get(field_name))}” không đúng dạng dd/mm/yyyy HH:MM.",
            row,
            field_name,
        )
        return _BAD
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=campaign.tz)
    return moment


# Appendix II's rules read in the order the form states them, each row checked in place: splitting hides that order.
def _appendix_ii(table: Table, campaign: Campaign, form: ParsedForm) -> None:  # noqa: C901
    catalogue = campaign.catalogue
    seen: set[str] = set()
    scores: dict[str, Decimal] = {}
    rows: dict[str, int] = {}  # the row each criterion's score was read from
    for row, values in table.records():
        code = cell_text(values.get("criterion"))
        if not code or fold(code) in ("tong", "tong cong", "cong"):
            continue
        code = catalogue.official(code)  # a form made before the official Table 2 was imported
        if code not in catalogue:
            _issue(form, table, "INT020", f"Mã tiêu chí “{code}” không có trong Bảng 2.", row, "criterion")
            continue
        item = catalogue[code]
        known = len(form.issues)
        score = _number(form, table, values.get("score"), row, "score")
        maximum = _number(form, table, values.get("max_points"), row, "max_points")
        if len(form.issues) > known:  # a value that is not a number: already reported
            continue
        if maximum is not None and maximum != item.max_points:
            _issue(
                form,
                table,
                "INT021",
                f"Điểm tối đa của {code} ghi {maximum}, Bảng 2 là {item.max_points}.",
                row,
                "max_points",
            )
        if not item.is_leaf:
            if score is not None:
                scores[code], rows[code] = score, row
            continue
        if code in seen:
            _issue(form, table, "INT022", f"Mã tiêu chí {code} xuất hiện nhiều lần.", row, "criterion")
            continue
        seen.add(code)
        if item.method == "survey":
            if score is not None:
                _issue(
                    form,
                    table,
                    "INT023",
                    f"{code} do Bộ Nội vụ chấm qua điều tra xã hội học, đơn vị không tự chấm.",
                    row,
                    "score",
                )
            continue
        assigned = campaign.assignment_of.get(code)
        if assigned != form.unit_code:
            _issue(
                form,
                table,
                "INT024",
                f"{code} không được giao cho đơn vị này (Phụ lục I giao cho {assigned}).",
                row,
                "criterion",
            )
            continue
        if score is None:
            _issue(form, table, "INT025", f"Thiếu điểm tự chấm của {code}.", row, "score")
            continue
        if not Decimal(0) <= score <= item.max_points:
            _issue(
                form,
                table,
                "INT026",
                f"Điểm {score} của {code} ngoài khoảng 0–{item.max_points}.",
                row,
                "score",
            )
            continue
        if item.step and (score / item.step) % 1 != 0:
            _issue(
                form, table, "INT027", f"Điểm {score} của {code} không theo bước {item.step}.", row, "score"
            )
            continue
        evidence = cell_text(values.get("evidence")) or None
        explanation = cell_text(values.get("explanation")) or None
        if not evidence and not explanation:
            _issue(
                form,
                table,
                "INT028",
                f"{code} không có tài liệu kiểm chứng và không có giải trình.",
                row,
                "evidence",
                severity="warning",
            )
        scores[code] = score
        form.keep(
            ReportScoreRecord(
                row=row,
                criterion=code,
                score=score,
                evidence=evidence,
                evidence_count=len([e for e in (evidence or "").split(";") if e.strip()]),
                explanation=explanation,
            )
        )
    for code, stated in scores.items():
        item = catalogue[code]
        if item.is_leaf:
            continue
        children = [scores[c] for c in _leaves_under(catalogue, code) if c in scores]
        if children and sum(children, Decimal(0)) != stated:
            _issue(
                form,
                table,
                "INT029",
                f"Tổng của {code} ghi {stated}, cộng các mục con được {sum(children, Decimal(0))}.",
                rows[code],
                "score",
            )
    if not form.records and not form.errors:
        _issue(
            form,
            table,
            "INT030",
            "Báo cáo không có điểm tự chấm nào: ghi điểm ở cột này, dưới dòng tiêu đề.",
            table.header_row + 1,
            "score",
        )


def _leaves_under(catalogue, code: str) -> list[str]:
    return [leaf.code for leaf in catalogue.leaves if leaf.code.startswith(code + ".")]


def _appendix_iv(table: Table, campaign: Campaign, form: ParsedForm) -> None:
    owned = set(campaign.area_owners.get(form.unit_code or "", []))
    if not owned:
        _header_issue(
            form,
            table,
            "INT040",
            "Đơn vị không được giao lĩnh vực nào (Phụ lục I) nên không cử đầu mối.",
            form.header_cells.get("unit"),
        )
        return
    for row, values in table.records():
        name = cell_text(values.get("name"))
        if fold(name) in ("", "tong", "tong cong"):
            continue
        position = cell_text(values.get("position"))
        email = cell_text(values.get("email"))
        phone = re.sub(r"[\s.\-]", "", cell_text(values.get("phone")))
        areas = [a.strip() for a in re.split(r"[,;\s]+", cell_text(values.get("areas"))) if a.strip()]
        ok = True
        if not position:
            _issue(form, table, "INT041", "Thiếu chức vụ.", row, "position")
            ok = False
        try:
            email = normalise_address(email)
        except InvalidAddress:
            _issue(form, table, "INT042", _bad_email(email), row, "email")
            ok = False
        if phone and not PHONE.match(phone):
            _issue(
                form,
                table,
                "INT043",
                f"Số điện thoại “{phone}” không hợp lệ (0xxxxxxxxx hoặc +84…).",
                row,
                "phone",
            )
            ok = False
        bad = [a for a in areas if a not in owned]
        if not areas or bad:
            _issue(
                form,
                table,
                "INT044",
                f"Lĩnh vực “{', '.join(bad) or '(trống)'}” không thuộc các lĩnh vực đơn vị "
                f"phụ trách ({', '.join(sorted(owned, key=int))}).",
                row,
                "areas",
            )
            ok = False
        if ok and campaign.council.members and not campaign.council.has(name, email):
            _issue(
                form,
                table,
                "INT045",
                f"{name} không có trong danh sách Hội đồng thẩm định ({campaign.council.decision}).",
                row,
                "name",
                severity="warning",
            )
        if ok:
            form.keep(
                NomineeRecord(
                    row=row,
                    name=name,
                    position=position,
                    division=cell_text(values.get("division")) or None,
                    areas=tuple(areas),
                    phone=phone or None,
                    email=email,
                    council=fold(cell_text(values.get("council"))) in ("x", "co", "yes", "1"),
                    note=cell_text(values.get("note")) or None,
                )
            )
    if not form.errors:
        _nominee_rule_warnings(table, campaign, form)


def _nominee_rule_warnings(table: Table, campaign: Campaign, form: ParsedForm) -> None:
    """The directive's rules on nominees (:mod:`par_index.nominee_rules`), each breach a warning where it is: at
    the name (exactly one person) or the area (too many for an area) of each person beyond the limit, or at the
    title of the areas column when an area has too few (nobody's row is at fault). The phase still judges them."""
    people = [(r.row, r.areas) for r in form.records if isinstance(r, NomineeRecord)]
    for breach in nominee_rules.breaches(campaign, cast(str, form.unit_code), people):
        if breach.area is None and breach.rows:
            what = f"Đơn vị {breach.rule}: người ở dòng này vượt số được cử. Chỉ giữ lại 01 người rồi gửi lại tệp."
        elif breach.area is None:
            what = f"Đơn vị {breach.rule}: chưa có ai. Ghi 01 người rồi gửi lại tệp."
        elif breach.rows:
            what = (
                f"Quy định về đầu mối, {breach.rule}: người ở dòng này vượt số được cử. Bỏ bớt người cho lĩnh "
                f"vực {breach.area} hoặc giao người này lĩnh vực khác rồi gửi lại tệp."
            )
        else:
            what = (
                f"Quy định về đầu mối, {breach.rule}: chưa đủ người phụ trách lĩnh vực {breach.area}. Ghi lĩnh vực "
                f"{breach.area} cho một người ở cột này (thêm dòng nếu cần) rồi gửi lại tệp."
            )
        field_name = "name" if breach.area is None else "areas"
        for row in breach.rows or (table.header_row + 1,):
            _issue(form, table, "INT046", what, row, field_name, severity="warning")


def _export_scope(table: Table, campaign: Campaign, form: ParsedForm, snapshot: bool) -> Coverage | None:
    """What the export's header block states it holds (:data:`SCOPE_LABELS`): its units (``None``: every unit —
    "Tất cả đơn vị", or a feed fetched for every unit) and its areas; ``None`` after INT054 when a statement
    cannot be read (the file is refused: what it replaces is unknown)."""
    stated = header_fields(table.header_block(), SCOPE_LABELS)
    units: frozenset[str] | None = None if snapshot else frozenset()
    areas: frozenset[str] | None = None
    if "units" in stated and units is not None:
        text = cell_text(stated["units"].value)
        if fold(text) not in EVERY:
            found = set()
            for name in (n.strip() for n in re.split(r"[,;]", text) if n.strip()):
                unit = campaign.unit_for(name)
                if unit is None:
                    _header_issue(
                        form,
                        table,
                        "INT054",
                        f"Đơn vị “{name}” ở dòng phạm vi không có trong chiến dịch: không rõ tệp thay thế dữ "
                        "liệu của đơn vị nào nên tệp không được dùng. Sửa hoặc xóa dòng này rồi gửi lại.",
                        stated["units"],
                    )
                    return None
                found.add(unit.code)
            units = frozenset(found)
        else:
            units = None
    if "areas" in stated:
        text = cell_text(stated["areas"].value)
        if fold(text) not in EVERY:
            known = {area.code for area in campaign.catalogue.areas}
            codes = [c.strip() for c in re.split(r"[,;\s]+", text) if c.strip()]
            bad = [c for c in codes if c not in known]
            if bad or not codes:
                _header_issue(
                    form,
                    table,
                    "INT054",
                    f"Lĩnh vực “{', '.join(bad) or text}” ở dòng phạm vi không có trong Bảng 2 (các lĩnh vực: "
                    f"{', '.join(sorted(known, key=int))}): không rõ tệp thay thế dữ liệu nào nên tệp không được "
                    "dùng. Sửa hoặc xóa dòng này rồi gửi lại.",
                    stated["areas"],
                )
                return None
            areas = frozenset(codes)
    return Coverage(units, areas)


PORTAL_STATUS = {
    "da nop": "submitted",
    "submitted": "submitted",
    "chua nop": "draft",
    "draft": "draft",
    "": "draft",
}


def _portal_export(table: Table, campaign: Campaign, form: ParsedForm, snapshot: bool = False) -> None:
    """The software's rows. What the file replaces (:class:`~par_index.intake.records.Coverage`, in
    ``form.header``): every unit when it is a full snapshot (a feed fetched for every unit, or a header line
    "Phạm vi: Tất cả đơn vị"), else the units its header names and those of its rows (refused rows included: a
    unit whose score is not a number on the software has no valid score there); only the areas its header
    names, if it names some. A score, count or time that cannot be read, or a status other than Đã nộp / Chưa
    nộp (blank: not submitted), refuses the row with an issue naming the unit and criterion."""
    scope = _export_scope(table, campaign, form, snapshot)
    if scope is None:
        return
    seen: set[str] = set()
    for row, values in table.records():
        unit = _row_unit(form, table, campaign, values, row)
        code = cell_text(values.get("criterion"))
        if unit is None:
            continue
        seen.add(unit.code)
        code = campaign.catalogue.official(code) if code else code  # provisional codes of an older export
        if code not in campaign.catalogue:
            _issue(
                form,
                table,
                "INT020",
                f"Mã tiêu chí “{code}” không có trong Bảng 2.",
                row,
                "criterion",
                unit=unit.code,
            )
            continue
        area = campaign.catalogue[code].area
        if scope.areas is not None and area not in scope.areas:
            _issue(
                form,
                table,
                "INT055",
                f"{code} thuộc lĩnh vực {area}, ngoài các lĩnh vực tệp nêu ở dòng phạm vi "
                f"({', '.join(sorted(scope.areas, key=int))}): dòng không được dùng.",
                row,
                "criterion",
                unit=unit.code,
                criterion=code,
            )
            continue
        known = len(form.issues)
        score = _number(form, table, values.get("score"), row, "score")
        count = _number(form, table, values.get("evidence_count"), row, "evidence_count")
        updated = _moment(form, table, campaign, values, row, "updated_at")
        status = PORTAL_STATUS.get(fold(cell_text(values.get("status"))))
        if status is None:
            _issue(
                form,
                table,
                "INT053",
                f"Trạng thái “{cell_text(values.get('status'))}” không hợp lệ: chỉ nhận “Đã nộp” hoặc “Chưa nộp”.",
                row,
                "status",
            )
        # a value that cannot be read: the row is refused, and a finding of the unit
        for issue in form.issues[known:]:
            issue.unit, issue.criterion = unit.code, code
            issue.message += f" Điểm của {unit.code} cho {code} trên phần mềm không được dùng."
        if len(form.issues) > known:
            continue
        form.keep(
            PortalScoreRecord(
                row=row,
                unit=unit.code,
                criterion=code,
                score=score,
                evidence_count=int(count) if count is not None else None,
                status=cast(str, status),
                updated_at=updated,
            )
        )
    covered = scope if scope.units is None else Coverage(scope.units | seen, scope.areas)
    form.header = {**form.header, **covered.as_header()}


def _bad_email(text: str) -> str:
    return f"Email “{text}” không hợp lệ: cần dạng ten@ten-mien (chỉ chữ không dấu, số và . _ - trước @)."


def _survey_roster(table: Table, campaign: Campaign, form: ParsedForm) -> None:
    seen: set[str] = set()
    for row, values in table.records():
        unit = _row_unit(form, table, campaign, values, row)
        if unit is None:
            continue
        try:
            email = normalise_address(cell_text(values.get("email")))
        except InvalidAddress:
            _issue(form, table, "INT042", _bad_email(cell_text(values.get("email"))), row, "email")
            continue
        if email in seen:
            _issue(form, table, "INT052", f"Email {email} lặp lại trong danh sách.", row, "email")
            continue
        seen.add(email)
        form.keep(
            SurveyRosterRecord(
                row=row,
                name=cell_text(values.get("name")),
                position=cell_text(values.get("position")),
                unit=unit.code,
                email=email,
                group=cell_text(values.get("group")),
            )
        )


SURVEY_STATUS = {  # folded spellings (accents, case, spacing, "_" or "-" ignored) that name one status only
    "da hoan thanh": "completed",
    "hoan thanh": "completed",
    "completed": "completed",
    "dang tra loi": "in_progress",
    "in progress": "in_progress",
    "chua tra loi": "not_started",
    "not started": "not_started",
}
SURVEY_STATUS_VI = "“Đã hoàn thành”, “Đang trả lời” hoặc “Chưa trả lời”"


def survey_status(text: str) -> str | None:
    """The survey status a progress export writes (``completed`` | ``in_progress`` | ``not_started``), from any
    spelling of the three documented ones that names exactly one; ``None`` for anything else."""
    return SURVEY_STATUS.get(fold(re.sub(r"[_\-]", " ", text)))


def _survey_progress(
    table: Table, campaign: Campaign, form: ParsedForm, roster: AbstractSet[str] | None = None
) -> None:
    """Respondents' progress. A row whose email is not on the stored roster is kept with a warning naming it (it
    counts for no unit); a status that is none of the three documented ones refuses the row."""
    for row, values in table.records():
        email = cell_text(values.get("email")).lower()
        status = survey_status(cell_text(values.get("status")))
        if status is None:
            _issue(
                form,
                table,
                "INT053",
                f"Trạng thái “{cell_text(values.get('status'))}” không hợp lệ: chỉ nhận {SURVEY_STATUS_VI}.",
                row,
                "status",
            )
            continue
        answered = _number(form, table, values.get("answered"), row, "answered")
        total = _number(form, table, values.get("total"), row, "total")
        completed_at = _moment(form, table, campaign, values, row, "completed_at")
        if completed_at is _BAD or answered is None or total is None:
            continue
        if roster is not None and email not in roster:
            _issue(
                form,
                table,
                "INT056",
                f"{email or '(trống)'} không có trong danh sách người trả lời phiếu khảo sát: tiến độ của người "
                "này không được tính cho đơn vị nào. Kiểm tra email, hoặc bổ sung người này vào danh sách.",
                row,
                "email",
                severity="warning",
            )
        form.keep(
            SurveyProgressRecord(
                row=row,
                email=email,
                status=status,
                answered=int(answered),
                total=int(total),
                completed_at=completed_at,
            )
        )


def _appendix_iii(table: Table, campaign: Campaign, form: ParsedForm) -> None:
    for row, values in table.records():
        unit = _row_unit(form, table, campaign, values, row)
        if unit is None:
            continue
        form.keep(
            PortalAccountRecord(
                row=row,
                unit=unit.code,
                login=cell_text(values.get("login")),
                scope=cell_text(values.get("scope")),
                manager=cell_text(values.get("manager")),
                email=cell_text(values.get("email")).lower(),
            )
        )
