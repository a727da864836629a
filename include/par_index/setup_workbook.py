"""The campaign setup workbook ("Sổ thiết lập chiến dịch"): a coordinator changes units, unit kinds, contacts, the
council, Appendix I and the survey roster in Excel instead of the campaign file.

- :func:`export_workbook` writes the campaign (and the stored survey roster) to an .xlsx, one sheet per section.
- :func:`check_workbook` reads it back, validates every row (errors name sheet, row and column), builds the new
  campaign file's text and validates it like any campaign file, and lists the differences (:func:`diff_lines`).
- :func:`apply_workbook` writes the new campaign file (a dated copy of the previous one kept; only the sections
  that changed are rewritten, every comment elsewhere kept) and drops the roster sheet, as a survey roster form,
  into the campaign's inbox so that it flows through the normal intake.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from par_index.addresses import InvalidAddress, normalise_address
from par_index.campaign import (
    DEFAULT_UNIT_KINDS,
    PHONE,
    UNIT_KIND_CODE,
    Campaign,
    HeadTitleRule,
    UnitKind,
    load_campaign,
)
from par_index.errors import CampaignError, ParError
from par_index.paths import inbox_dir, setup_dir
from par_index.text import fold, parse_vn_date, vn_date

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LAST_ROW = 1000  # data validation lists cover rows 2..LAST_ROW
STATUS_TITLES = {"confirmed": "Đã xác nhận", "inferred": "Suy luận"}
ROLE_TITLES = {
    "coordinator": "Điều phối viên",
    "snv_leader": "Lãnh đạo Sở Nội vụ",
    "ppc_office": "Văn phòng UBND tỉnh",
}
YES, NO = "Có", "Không"
ALL_NAMES = "*"  # a head title rule for every name of the kind


class SetupWorkbookError(ParError):
    """The setup workbook cannot be read or applied."""

    code = "SET000"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: field, Vietnamese header, width, whether a row needs it."""

    field: str
    title: str
    width: int
    required: bool = False


UNITS, KINDS, CONTACTS, COUNCIL, ASSIGNMENTS, ROSTER = (
    "Đơn vị",
    "Loại đơn vị",
    "Đầu mối",
    "Hội đồng",
    "Phụ lục I",
    "Danh sách khảo sát",
)
SHEETS: dict[str, tuple[Column, ...]] = {
    UNITS: (
        Column("code", "Mã đơn vị", 12, True),
        Column("name_vi", "Tên đơn vị", 40, True),
        Column("kind", "Loại đơn vị", 16, True),
        Column("email", "Email đơn vị", 30, True),
        Column("head_email", "Email thủ trưởng", 32, True),
        Column("head_title_vi", "Chức danh thủ trưởng", 22),
        Column("valid_from", "Hiệu lực từ ngày", 14),
        Column("valid_until", "Hiệu lực đến ngày", 14),
        Column("status", "Trạng thái", 14),
    ),
    KINDS: (
        Column("code", "Mã loại", 16, True),
        Column("title_vi", "Tên nhóm", 30, True),
        Column("head_titles", "Chức danh thủ trưởng theo tên đơn vị", 42),
        Column("local", "Gửi “UBND …”", 12),
    ),
    CONTACTS: (
        Column("role", "Vai trò", 22, True),
        Column("name", "Họ tên / tên", 38, True),
        Column("email", "Email", 30, True),
        Column("phone", "Điện thoại", 16),
        Column("login", "Tài khoản Airflow", 18),
    ),
    COUNCIL: (
        Column("name", "Họ và tên", 24, True),
        Column("title_vi", "Chức vụ", 40),
        Column("email", "Email", 34, True),
        Column("unit", "Mã đơn vị", 12, True),
    ),
    ASSIGNMENTS: (
        Column("code", "Mã tiêu chí", 12, True),
        Column("title", "Tên lĩnh vực / tiêu chí (để tham khảo)", 60),
        Column("unit", "Mã đơn vị", 12, True),
    ),
    ROSTER: (
        Column("name", "Họ và tên", 26, True),
        Column("position", "Chức vụ", 22),
        Column("unit", "Mã đơn vị", 12, True),
        Column("email", "Email", 30, True),
        Column("group", "Nhóm đối tượng", 24, True),
    ),
}


@dataclass(frozen=True)
class RosterRow:
    """One respondent of the survey roster, as stored (SurveyRespondent) or as the sheet gives it."""

    name: str
    position: str
    unit: str
    email: str
    group: str


@dataclass(frozen=True)
class SetupIssue:
    """A problem of one cell or row of the workbook."""

    code: str
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        """``[SET004] Trang “Đơn vị”, dòng 5, cột “Email đơn vị”: …``."""
        where = f"Trang “{self.sheet}”"
        if self.row is not None:
            where += f", dòng {self.row}"
        if self.column:
            where += f", cột “{self.column}”"
        return f"[{self.code}] {where}: {self.message}"


@dataclass
class SetupCheck:
    """What a workbook would change: its issues, else the new campaign, its file text and the differences."""

    issues: list[SetupIssue] = field(default_factory=list)
    campaign: Campaign | None = None
    text: str | None = None
    diff: list[str] = field(default_factory=list)
    roster: list[RosterRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the workbook can be applied."""
        return not self.issues and self.campaign is not None


# ---- export -------------------------------------------------------------------------------------------------
def _rules_text(kind: UnitKind) -> str:
    """A kind's head title rules, one a line: "Sở → Giám đốc", "* → Chủ tịch UBND" for every name."""
    return "\n".join(f"{rule.prefix.strip() or ALL_NAMES} → {rule.title_vi}" for rule in kind.head_titles)


def _sheet(wb: Workbook, title: str, rows: list[list[Any]]) -> Any:
    """A sheet with its bold header row, widths, frozen header and ``rows``."""
    ws = wb.create_sheet(title)
    columns = SHEETS[title]
    for col, column in enumerate(columns, 1):
        cell = ws.cell(1, col, f"{column.title} (*)" if column.required else column.title)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = column.width
    for r, values in enumerate(rows, 2):
        for c, value in enumerate(values, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, str) and "\n" in value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    return ws


def _list(ws: Any, title: str, field_name: str, formula: str, error: str) -> None:
    """A drop-down list on one column of ``ws`` (rows 2..LAST_ROW)."""
    col = next(i for i, c in enumerate(SHEETS[title], 1) if c.field == field_name)
    letter = get_column_letter(col)
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, error=error, errorTitle="Giá trị")
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}{LAST_ROW}")


def export_workbook(campaign: Campaign, path: Path, roster: list[RosterRow] | None = None) -> Path:
    """Write ``campaign``'s units, kinds, contacts, council, Appendix I and ``roster`` to the workbook ``path``."""
    wb = Workbook()
    wb.remove(wb.active)
    units = _sheet(
        wb,
        UNITS,
        [
            [
                u.code,
                u.name_vi,
                u.kind,
                u.email,
                u.head_email,
                u.head_title_vi,
                vn_date(u.valid_from) or None,
                vn_date(u.valid_until) or None,
                STATUS_TITLES[u.status],
            ]
            for u in campaign.units
        ],
    )
    kinds = _sheet(
        wb,
        KINDS,
        [
            [code, k.title_vi, _rules_text(k) or None, YES if k.local else NO]
            for code, k in campaign.kinds.items()
        ],
    )
    contacts = campaign.contacts
    people = [("coordinator", c) for c in contacts.coordinators] + [
        ("snv_leader", contacts.snv_leader),
        ("ppc_office", contacts.ppc_office),
    ]
    contact_sheet = _sheet(
        wb, CONTACTS, [[ROLE_TITLES[role], c.name, c.email, c.phone, c.login] for role, c in people]
    )
    council = _sheet(
        wb, COUNCIL, [[m.name, m.title_vi or None, m.email, m.unit] for m in campaign.council.members]
    )
    catalogue = campaign.catalogue
    assignments = _sheet(
        wb,
        ASSIGNMENTS,
        [
            [code, catalogue[code].name_vi if code in catalogue else None, unit]
            for code, unit in campaign.assignments.items()
        ],
    )
    roster_sheet = _sheet(
        wb, ROSTER, [[p.name, p.position or None, p.unit, p.email, p.group] for p in roster or []]
    )
    unit_codes = f"'{UNITS}'!$A$2:$A${LAST_ROW}"
    _list(units, UNITS, "kind", f"'{KINDS}'!$A$2:$A$100", "Chọn loại trong trang “Loại đơn vị”.")
    _list(units, UNITS, "status", f'"{",".join(STATUS_TITLES.values())}"', "Chọn trạng thái trong danh sách.")
    _list(kinds, KINDS, "local", f'"{YES},{NO}"', "Chọn Có hoặc Không.")
    _list(
        contact_sheet,
        CONTACTS,
        "role",
        f'"{",".join(ROLE_TITLES.values())}"',
        "Chọn vai trò trong danh sách.",
    )
    for ws, title in ((council, COUNCIL), (assignments, ASSIGNMENTS), (roster_sheet, ROSTER)):
        _list(ws, title, "unit", unit_codes, "Chọn mã đơn vị trong trang “Đơn vị”.")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def stored_roster(session: Any, campaign: Campaign) -> list[RosterRow]:
    """The survey roster as stored for ``campaign`` (the last roster received), in unit then name order."""
    from sqlalchemy import select

    from par_index.store.models import SurveyRespondent

    people = session.scalars(select(SurveyRespondent).where(SurveyRespondent.campaign_id == campaign.id))
    rows = [RosterRow(p.full_name, p.position or "", p.unit_code, p.email, p.group or "") for p in people]
    return sorted(rows, key=lambda r: (r.unit, r.name, r.email))


# ---- reading ------------------------------------------------------------------------------------------------
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


def clean(value: object) -> str:
    """A cell as text, as Word-pasted text arrives cleaned: NFC, no-break and repeated spaces as one space,
    zero-width characters dropped, whole numbers without ``.0``; "" for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return vn_date(value)
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", str(value)).replace("\u00a0", " "))
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()).strip()


@dataclass
class _Reader:
    """Reads the sheets of one workbook, collecting issues."""

    wb: Any
    issues: list[SetupIssue] = field(default_factory=list)

    def issue(self, code: str, sheet: str, row: int | None, column: Column | None, message: str) -> None:
        """Record a problem of ``sheet`` (at ``row`` and ``column`` when known)."""
        self.issues.append(SetupIssue(code, sheet, row, column.title if column else None, message))

    def rows(self, title: str) -> list[tuple[int, dict[str, str], dict[str, object]]]:
        """(row number, field → cleaned text, field → raw value) of every non-empty row of sheet ``title``."""
        if title not in self.wb.sheetnames:
            self.issue("SET001", title, None, None, "thiếu trang này trong sổ thiết lập.")
            return []
        ws = self.wb[title]
        values = list(ws.iter_rows(values_only=True))
        if not values:
            self.issue("SET002", title, 1, None, "trang trống, thiếu dòng tiêu đề.")
            return []
        header = {fold(re.sub(r"\(\*\)\s*$", "", clean(v))): i for i, v in enumerate(values[0]) if clean(v)}
        at: dict[str, int] = {}
        for column in SHEETS[title]:
            index = header.get(fold(column.title))
            if index is None:
                self.issue("SET002", title, 1, column, "thiếu cột này ở dòng tiêu đề.")
            else:
                at[column.field] = index
        if len(at) < len(SHEETS[title]):
            return []
        result = []
        for number, row in enumerate(values[1:], 2):
            raw = {f: row[i] if i < len(row) else None for f, i in at.items()}
            text = {f: clean(v) for f, v in raw.items()}
            if not any(text.values()):
                continue
            missing = [c for c in SHEETS[title] if c.required and not text[c.field]]
            for column in missing:
                self.issue("SET003", title, number, column, "ô bắt buộc đang trống.")
            if not missing:
                result.append((number, text, raw))
        return result

    def email(self, title: str, number: int, field_name: str, text: str) -> str | None:
        """A valid e-mail address in lower case, else ``None`` and an issue."""
        try:
            return normalise_address(text)
        except InvalidAddress:
            self.issue("SET004", title, number, _column(title, field_name), f"email “{text}” không hợp lệ.")
            return None


def _column(title: str, field_name: str) -> Column:
    return next(c for c in SHEETS[title] if c.field == field_name)


def _by_title(titles: dict[str, str], text: str) -> str | None:
    """The key whose title is ``text`` (or the key itself), compared without case and diacritics."""
    key = fold(text)
    return next((k for k, t in titles.items() if key in (fold(t), fold(k))), None)


def _read_kinds(reader: _Reader) -> dict[str, UnitKind]:
    kinds: dict[str, UnitKind] = {}
    for number, text, _ in reader.rows(KINDS):
        code = text["code"]
        if not re.match(UNIT_KIND_CODE, code):
            reader.issue(
                "SET010",
                KINDS,
                number,
                _column(KINDS, "code"),
                f"mã loại “{code}” không hợp lệ: chữ thường không dấu, số và _, tối đa 32 ký tự (ví dụ: council_office).",
            )
            continue
        if code in kinds:
            reader.issue("SET005", KINDS, number, _column(KINDS, "code"), f"mã loại {code} bị trùng.")
            continue
        rules = []
        bad = False
        for line in filter(None, text["head_titles"].split("\n")):
            prefix, arrow, title = (part.strip() for part in line.partition("→"))
            if not arrow or not title:
                reader.issue(
                    "SET010",
                    KINDS,
                    number,
                    _column(KINDS, "head_titles"),
                    f"quy tắc “{line}” cần dạng “đầu tên → chức danh” (ví dụ: “Sở → Giám đốc”, “* → Chủ tịch UBND”).",
                )
                bad = True
                continue
            rules.append(HeadTitleRule(prefix="" if prefix == ALL_NAMES else f"{prefix} ", title_vi=title))
        local = _by_title({"yes": YES, "no": NO}, text["local"] or NO)
        if local is None:
            reader.issue(
                "SET010", KINDS, number, _column(KINDS, "local"), f"“{text['local']}”: ghi Có hoặc Không."
            )
            bad = True
        if not bad:
            kinds[code] = UnitKind(title_vi=text["title_vi"], head_titles=rules, local=local == "yes")
    return kinds


def _read_units(reader: _Reader, kinds: dict[str, UnitKind], seen: set[str]) -> list[dict[str, Any]]:
    """The unit rows without issue; ``seen`` gets every code the sheet gives (a row with an issue still names a
    unit, so that the other sheets' references to it are not flagged too)."""
    units: list[dict[str, Any]] = []
    for number, text, raw in reader.rows(UNITS):
        code = text["code"].upper()
        row: dict[str, Any] = {"code": code, "name_vi": text["name_vi"], "kind": text["kind"]}
        good = True
        if not re.fullmatch(r"[A-Z0-9_]+", code):
            reader.issue(
                "SET010",
                UNITS,
                number,
                _column(UNITS, "code"),
                f"mã đơn vị “{text['code']}” không hợp lệ: chỉ chữ không dấu, số và _.",
            )
            good = False
        elif code in seen:
            reader.issue("SET005", UNITS, number, _column(UNITS, "code"), f"mã đơn vị {code} bị trùng.")
            good = False
        seen.add(code)
        if text["kind"] not in kinds:
            reader.issue(
                "SET006",
                UNITS,
                number,
                _column(UNITS, "kind"),
                f"loại “{text['kind']}” không có trong trang “{KINDS}” (có: {', '.join(kinds)}).",
            )
            good = False
        for name in ("email", "head_email"):
            address = reader.email(UNITS, number, name, text[name])
            good = good and address is not None
            row[name] = address
        for name in ("valid_from", "valid_until"):
            try:
                day = parse_vn_date(raw[name])
            except ValueError:
                reader.issue(
                    "SET009",
                    UNITS,
                    number,
                    _column(UNITS, name),
                    f"ngày “{text[name]}” không hợp lệ: ghi dạng dd/mm/yyyy.",
                )
                good = False
                continue
            if day is not None:
                row[name] = day
        if text["head_title_vi"]:
            row["head_title_vi"] = text["head_title_vi"]
        status = _by_title(STATUS_TITLES, text["status"] or STATUS_TITLES["confirmed"])
        if status is None:
            reader.issue(
                "SET010",
                UNITS,
                number,
                _column(UNITS, "status"),
                f"trạng thái “{text['status']}”: ghi {' hoặc '.join(STATUS_TITLES.values())}.",
            )
            good = False
        row["status"] = status
        if good:
            units.append(row)
    return units


def _read_contacts(reader: _Reader) -> dict[str, Any]:
    contacts: dict[str, Any] = {"coordinators": []}
    for number, text, _ in reader.rows(CONTACTS):
        role = _by_title(ROLE_TITLES, text["role"])
        if role is None:
            reader.issue(
                "SET010",
                CONTACTS,
                number,
                _column(CONTACTS, "role"),
                f"vai trò “{text['role']}”: ghi {', '.join(ROLE_TITLES.values())}.",
            )
            continue
        address = reader.email(CONTACTS, number, "email", text["email"])
        if text["phone"] and not re.match(PHONE, text["phone"]):
            reader.issue(
                "SET010",
                CONTACTS,
                number,
                _column(CONTACTS, "phone"),
                f"số điện thoại “{text['phone']}” không hợp lệ.",
            )
            continue
        if address is None:
            continue
        person = {"name": text["name"], "email": address}
        person.update({k: text[k] for k in ("phone", "login") if text[k]})
        if role == "coordinator":
            contacts["coordinators"].append(person)
        elif role in contacts:
            reader.issue(
                "SET005",
                CONTACTS,
                number,
                _column(CONTACTS, "role"),
                f"vai trò “{text['role']}” chỉ có một người.",
            )
        else:
            contacts[role] = person
    for role in ("snv_leader", "ppc_office"):
        if role not in contacts:
            reader.issue("SET003", CONTACTS, None, None, f"thiếu dòng vai trò “{ROLE_TITLES[role]}”.")
    if not contacts["coordinators"]:
        reader.issue("SET003", CONTACTS, None, None, f"thiếu dòng vai trò “{ROLE_TITLES['coordinator']}”.")
    return contacts


def _unit_ref(reader: _Reader, title: str, number: int, text: str, units: set[str]) -> str | None:
    code = text.upper()
    if code not in units:
        reader.issue(
            "SET007",
            title,
            number,
            _column(title, "unit"),
            f"đơn vị “{text}” không có trong trang “{UNITS}”.",
        )
        return None
    return code


def _read_council(reader: _Reader, units: set[str]) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, text, _ in reader.rows(COUNCIL):
        address = reader.email(COUNCIL, number, "email", text["email"])
        unit = _unit_ref(reader, COUNCIL, number, text["unit"], units)
        if address in seen:
            reader.issue("SET005", COUNCIL, number, _column(COUNCIL, "email"), f"email {address} bị trùng.")
            continue
        if address is None or unit is None:
            continue
        seen.add(address)
        member = {"name": text["name"], "title_vi": text["title_vi"], "email": address, "unit": unit}
        members.append(member if text["title_vi"] else {k: v for k, v in member.items() if k != "title_vi"})
    return members


def _read_assignments(reader: _Reader, units: set[str], campaign: Campaign) -> dict[str, str]:
    assignments: dict[str, str] = {}
    for number, text, _ in reader.rows(ASSIGNMENTS):
        code = text["code"]
        unit = _unit_ref(reader, ASSIGNMENTS, number, text["unit"], units)
        if code not in campaign.catalogue:
            reader.issue(
                "SET008",
                ASSIGNMENTS,
                number,
                _column(ASSIGNMENTS, "code"),
                f"mã “{code}” không có trong danh mục {campaign.catalogue.code}.",
            )
            continue
        if code in assignments:
            reader.issue("SET005", ASSIGNMENTS, number, _column(ASSIGNMENTS, "code"), f"mã {code} bị trùng.")
            continue
        if unit is not None:
            assignments[code] = unit
    return assignments


def _read_roster(reader: _Reader, units: set[str]) -> list[RosterRow]:
    roster: list[RosterRow] = []
    seen: set[str] = set()
    for number, text, _ in reader.rows(ROSTER):
        address = reader.email(ROSTER, number, "email", text["email"])
        unit = _unit_ref(reader, ROSTER, number, text["unit"], units)
        if address in seen:
            reader.issue("SET005", ROSTER, number, _column(ROSTER, "email"), f"email {address} bị trùng.")
            continue
        if address is None or unit is None:
            continue
        seen.add(address)
        roster.append(RosterRow(text["name"], text["position"], unit, address, text["group"]))
    return roster


# ---- the campaign file ------------------------------------------------------------------------------------------
def _flow(mapping: dict[str, Any]) -> str:
    """One YAML flow mapping on one line, as the campaign file writes its list items."""
    return yaml.safe_dump(
        mapping, default_flow_style=True, allow_unicode=True, width=10**6, sort_keys=False
    ).strip()


def _block_span(lines: list[str], key: str, indent: int = 0, start: int = 0) -> tuple[int, int] | None:
    """[first, end) of the block ``key:`` at ``indent`` from line ``start`` on: its own line to its last line
    (the comments and blank lines before the next key belong to that key)."""
    head = re.compile(rf"^{' ' * indent}{re.escape(key)}:(\s|$)")
    first = next((i for i in range(start, len(lines)) if head.match(lines[i])), None)
    if first is None:
        return None
    end = first + 1
    last = first + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if len(line) - len(line.lstrip()) <= indent and not (indent and stripped.startswith("- ")):
                break
            last = end + 1
        end += 1
    return first, last


def _replace(lines: list[str], span: tuple[int, int], new: list[str]) -> list[str]:
    return lines[: span[0]] + new + lines[span[1] :]


def _unit_lines(units: list[dict[str, Any]]) -> list[str]:
    order = (
        "code",
        "name_vi",
        "kind",
        "valid_from",
        "valid_until",
        "email",
        "head_email",
        "head_title_vi",
        "status",
    )
    return ["units:"] + [f"  - {_flow({k: u[k] for k in order if k in u})}" for u in units]


def _kind_lines(kinds: dict[str, UnitKind]) -> list[str]:
    lines = ["unit_kinds:"]
    for code, kind in kinds.items():
        lines.append(f"  {code}: {_flow(kind.model_dump())}")
    return lines


def _contact_lines(contacts: dict[str, Any], status: str) -> list[str]:
    lines = ["contacts:", f"  status: {status}", "  coordinators:"]
    lines += [f"    - {_flow(c)}" for c in contacts["coordinators"]]
    return lines + [
        f"  snv_leader: {_flow(contacts['snv_leader'])}",
        f"  ppc_office: {_flow(contacts['ppc_office'])}",
    ]


def _new_text(text: str, campaign: Campaign, new: dict[str, Any]) -> str:
    """The campaign file's ``text`` with the sections that ``new`` changes rewritten, the rest as it was."""
    lines = text.split("\n")
    old_units = [{k: v for k, v in u.model_dump().items() if v is not None} for u in campaign.units]
    if new["units"] != old_units:
        span = _block_span(lines, "units")
        assert span is not None  # the campaign requires its units
        lines = _replace(lines, span, _unit_lines(new["units"]))
    if new["unit_kinds"] != campaign.unit_kinds:
        span = _block_span(lines, "unit_kinds")
        kind_lines = _kind_lines(new["unit_kinds"]) if new["unit_kinds"] else []
        if span is not None:
            lines = _replace(lines, span, kind_lines)
        elif kind_lines:
            at = _block_span(lines, "units")
            assert at is not None
            first = at[0]
            while first > 0 and lines[first - 1].startswith("#"):
                first -= 1
            comment = "# Loại đơn vị thêm vào (hoặc thay) năm loại mặc định (sổ thiết lập chiến dịch, trang “Loại đơn vị”)."
            lines = lines[:first] + [comment, *kind_lines, ""] + lines[first:]
    old_contacts = campaign.contacts.model_dump(exclude={"status"}, exclude_none=True)
    if new["contacts"] != old_contacts:
        span = _block_span(lines, "contacts")
        assert span is not None
        lines = _replace(lines, span, _contact_lines(new["contacts"], campaign.contacts.status))
    old_members = [m.model_dump(exclude_defaults=True) for m in campaign.council.members]
    if new["members"] != old_members:
        council = _block_span(lines, "council")
        members = _block_span(lines, "members", 2, council[0]) if council else None
        member_lines = ["  members:"] + [f"    - {_flow(m)}" for m in new["members"]]
        if council is None:
            lines += ["council:", *member_lines]
        elif members is None or members[0] >= council[1]:
            lines = lines[: council[1]] + member_lines + lines[council[1] :]
        else:
            lines = _replace(lines, members, member_lines)
    if new["assignments"] != campaign.assignments:
        span = _block_span(lines, "assignments")
        assert span is not None
        body = [f"  {_flow({code: unit})[1:-1]}" for code, unit in new["assignments"].items()]
        lines = _replace(lines, span, ["assignments:", *body])
    return "\n".join(lines)


# ---- the differences ------------------------------------------------------------------------------------------
def _value(value: object) -> str:
    if value is None or value == "":
        return "(trống)"
    if isinstance(value, date):
        return vn_date(value)
    return str(value)


def _changes(old: dict[str, Any], new: dict[str, Any], titles: dict[str, str]) -> str:
    return "; ".join(
        f"{titles.get(k, k)} {_value(old.get(k))} → {_value(new.get(k))}"
        for k in titles
        if old.get(k) != new.get(k)
    )


def _keyed_diff(
    label: str, old: dict[str, dict], new: dict[str, dict], titles: dict[str, str], name: str
) -> list[str]:
    lines = []
    for key, row in new.items():
        if key not in old:
            lines.append(f"+ {label} {key} ({row[name]}): thêm")
        elif changes := _changes(old[key], row, titles):
            lines.append(f"~ {label} {key} ({row[name]}): {changes}")
    lines += [f"- {label} {key} ({row[name]}): bỏ" for key, row in old.items() if key not in new]
    return lines


UNIT_TITLES = {c.field: c.title for c in SHEETS[UNITS]}
KIND_TITLES = {"title_vi": "tên nhóm", "head_titles": "chức danh thủ trưởng", "local": "gửi “UBND …”"}
CONTACT_TITLES = {"name": "họ tên", "email": "email", "phone": "điện thoại", "login": "tài khoản Airflow"}
MEMBER_TITLES = {"name": "họ tên", "title_vi": "chức vụ", "email": "email", "unit": "đơn vị"}


def diff_lines(old: Campaign, new: Campaign) -> list[str]:
    """What changes from ``old`` to ``new`` in the workbook's sections, one line each ("+" added, "-" removed,
    "~" changed with each field's old → new value); empty when nothing changes."""
    lines = _keyed_diff(
        "Loại đơn vị",
        {k: {**v.model_dump(), "head_titles": _rules_text(v)} for k, v in old.kinds.items()},
        {k: {**v.model_dump(), "head_titles": _rules_text(v)} for k, v in new.kinds.items()},
        KIND_TITLES,
        "title_vi",
    )
    lines += _keyed_diff(
        "Đơn vị",
        {u.code: {**u.model_dump(), "status": STATUS_TITLES[u.status]} for u in old.units},
        {u.code: {**u.model_dump(), "status": STATUS_TITLES[u.status]} for u in new.units},
        {k: v.lower() for k, v in UNIT_TITLES.items() if k != "code"},
        "name_vi",
    )
    for role in ("snv_leader", "ppc_office"):
        before, after = getattr(old.contacts, role).model_dump(), getattr(new.contacts, role).model_dump()
        if changes := _changes(before, after, CONTACT_TITLES):
            lines.append(f"~ {ROLE_TITLES[role]}: {changes}")
    lines += _keyed_diff(
        "Điều phối viên",
        {c.email: c.model_dump() for c in old.contacts.coordinators},
        {c.email: c.model_dump() for c in new.contacts.coordinators},
        CONTACT_TITLES,
        "name",
    )
    lines += _keyed_diff(
        "Thành viên Hội đồng",
        {m.email: m.model_dump() for m in old.council.members},
        {m.email: m.model_dump() for m in new.council.members},
        MEMBER_TITLES,
        "name",
    )
    for code, unit in new.assignments.items():
        if code not in old.assignments:
            lines.append(f"+ Phụ lục I, mã {code}: giao {unit}")
        elif old.assignments[code] != unit:
            lines.append(f"~ Phụ lục I, mã {code}: {old.assignments[code]} → {unit}")
    lines += [
        f"- Phụ lục I, mã {c}: bỏ (đang giao {u})"
        for c, u in old.assignments.items()
        if c not in new.assignments
    ]
    return lines


# ---- check and apply -------------------------------------------------------------------------------------------
def check_workbook(campaign_path: Path, workbook: Path, roster: list[RosterRow] | None = None) -> SetupCheck:
    """Read ``workbook`` against the campaign file ``campaign_path``: its issues, or the new campaign, its file
    text and the differences (``roster``: the stored one, to tell whether the roster sheet changes it)."""
    campaign = load_campaign(campaign_path)
    try:
        wb = load_workbook(workbook, data_only=True)
    except FileNotFoundError as exc:
        raise SetupWorkbookError(f"Không tìm thấy sổ thiết lập {workbook}.", code="SET012") from exc
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise SetupWorkbookError(
            f"Không đọc được sổ thiết lập {workbook.name}: không phải tệp Excel .xlsx ({exc}).", code="SET012"
        ) from exc
    reader = _Reader(wb)
    file_kinds = _read_kinds(reader)
    kinds = {**DEFAULT_UNIT_KINDS, **file_kinds}
    codes: set[str] = set()
    units = _read_units(reader, kinds, codes)
    new = {
        "unit_kinds": {k: v for k, v in file_kinds.items() if DEFAULT_UNIT_KINDS.get(k) != v},
        "units": units,
        "contacts": _read_contacts(reader),
        "members": _read_council(reader, codes),
        "assignments": _read_assignments(reader, codes, campaign),
    }
    roster_rows = _read_roster(reader, codes)
    order = list(SHEETS)
    issues = sorted(reader.issues, key=lambda i: (order.index(i.sheet), i.row or LAST_ROW * 1000))
    result = SetupCheck(issues=issues, roster=roster_rows)
    if result.issues:
        return result
    text = _new_text(campaign_path.read_text(encoding="utf-8"), campaign, new)
    candidate = campaign_path.with_name(f".{campaign_path.stem}.setup-check.yaml")
    try:
        candidate.write_text(text, encoding="utf-8")
        result.campaign = load_campaign(candidate)
    except CampaignError as exc:
        message = exc.message.replace(candidate.name, campaign_path.name)
        result.issues.append(
            SetupIssue("SET011", "(cả sổ)", None, None, f"chiến dịch mới không hợp lệ: {message}")
        )
        return result
    finally:
        candidate.unlink(missing_ok=True)
    result.text = text
    result.diff = diff_lines(campaign, result.campaign)
    if roster is not None and sorted(result.roster, key=_roster_key) != sorted(roster, key=_roster_key):
        result.diff.append(f"~ {ROSTER}: {len(roster)} → {len(result.roster)} người (gửi vào hộp thư đến)")
    return result


def _refusal(issues: list[SetupIssue]) -> str:
    """The message of a workbook with issues: each on its own line."""
    return "Sổ thiết lập có lỗi, chưa áp dụng được:\n" + "\n".join(str(i) for i in issues)


def _roster_key(row: RosterRow) -> tuple[str, ...]:
    return (row.unit, row.name, row.email, row.position, row.group)


@dataclass(frozen=True)
class Applied:
    """What :func:`apply_workbook` did: the differences, the backup (None when nothing changed) and the roster
    file dropped into the inbox (None when the sheet is empty or unchanged)."""

    diff: list[str]
    backup: Path | None
    roster_file: Path | None


def apply_workbook(
    campaign_path: Path,
    workbook: Path,
    now: datetime,
    roster: list[RosterRow] | None = None,
    backup_dir: Path | None = None,
) -> Applied:
    """Check ``workbook`` and, when it has no issue, write the new campaign file (the previous one copied to
    ``backup_dir``, default ``setup_dir(<campaign>)/luu``, named with ``now``) and drop a changed roster into the
    campaign's inbox. Raises :class:`SetupWorkbookError` (SET013) listing the issues otherwise. A second run
    with the same workbook changes nothing."""
    check = check_workbook(campaign_path, workbook, roster)
    if not check.ok:
        raise SetupWorkbookError(_refusal(check.issues), code="SET013")
    assert check.campaign is not None and check.text is not None
    backup = None
    if check.text != campaign_path.read_text(encoding="utf-8"):
        folder = backup_dir or setup_dir(check.campaign.id) / "luu"
        folder.mkdir(parents=True, exist_ok=True)
        backup = folder / f"{campaign_path.stem}.{now:%Y%m%d-%H%M%S}.yaml.bak"
        shutil.copy2(campaign_path, backup)
        campaign_path.write_text(check.text, encoding="utf-8")
    roster_file = None
    if check.roster and (
        roster is None or sorted(check.roster, key=_roster_key) != sorted(roster, key=_roster_key)
    ):
        roster_file = write_roster(check.campaign, check.roster)
    return Applied(check.diff, backup, roster_file)


def write_roster(campaign: Campaign, roster: list[RosterRow]) -> Path:
    """The roster as a filled survey roster form in the campaign's inbox, named by its content (the same roster
    twice is one file)."""
    from par_index.intake.templates import filled_form

    digest = hashlib.sha256(repr([_roster_key(r) for r in roster]).encode()).hexdigest()[:12]
    path = inbox_dir(campaign.id) / "so_thiet_lap" / f"danh_sach_khao_sat_{digest}.xlsx"
    if not path.exists():
        rows = [(i, r.name, r.position, r.unit, r.email, r.group) for i, r in enumerate(roster, 1)]
        filled_form(campaign, "survey_roster", rows, path)
    return path


ACTIONS = {
    "export": "xuất",
    "check": "kiểm tra",
    "apply": "áp dụng",
}  # the setup DAG's form: action → its title


def run_action(campaign_path: Path, action: str, file_name: str, store_url: str, now: datetime) -> list[str]:
    """The setup DAG's one task: ``export`` the campaign to ``setup_dir/<file_name>``, ``check`` that workbook
    (the differences, nothing written) or ``apply`` it; returns the lines to print. Raises
    :class:`SetupWorkbookError` for a bad file name (SET014), a missing or unreadable workbook (SET012) or one
    with issues (SET013, each issue on its own line)."""
    from par_index.store import session_scope

    name = file_name.strip()
    if not re.fullmatch(r"[^/\\]+\.xlsx", name) or name.startswith("."):
        raise SetupWorkbookError(
            f"Tên tệp “{file_name}” không hợp lệ: chỉ tên tệp .xlsx, không kèm thư mục.", code="SET014"
        )
    campaign = load_campaign(campaign_path)
    path = setup_dir(campaign.id) / name
    with session_scope(store_url) as session:
        roster = stored_roster(session, campaign)
    if action == "export":
        export_workbook(campaign, path, roster)
        return [
            f"Đã xuất sổ thiết lập chiến dịch ra {path} ({len(campaign.units)} đơn vị, {len(roster)} người khảo sát)."
        ]
    if action == "check":
        check = check_workbook(campaign_path, path, roster)
        if not check.ok:
            raise SetupWorkbookError(_refusal(check.issues), code="SET013")
        return [
            "Kiểm tra xong, không có lỗi. Thay đổi so với tệp chiến dịch:",
            *(check.diff or ["(không thay đổi)"]),
        ]
    if action == "apply":
        applied = apply_workbook(campaign_path, path, now, roster)
        lines = ["Đã áp dụng sổ thiết lập. Thay đổi:", *(applied.diff or ["(không thay đổi)"])]
        if applied.backup:
            lines.append(f"Bản trước của tệp chiến dịch: {applied.backup}")
        if applied.roster_file:
            lines.append(f"Danh sách khảo sát đưa vào hộp thư đến: {applied.roster_file}")
        return lines
    raise SetupWorkbookError(f"Thao tác “{action}” không có (chọn: {', '.join(ACTIONS)}).", code="SET015")
