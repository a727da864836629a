"""Import the official Table 2 from a coordinator's workbook: read, validate, diff, apply; and export.

The workbook has one sheet "Bảng 2" (header row found by its labels: Mã, Tên, Điểm tối đa, Phương pháp, Cấp, and
the optional Mã tạm and Đơn vị phụ trách) and optionally a sheet "Mã tạm" (columns Mã tạm, Mã chính thức) mapping
provisional codes to official ones. What is imported becomes confirmed; a partial import is made of whole areas
(an area with all its criteria and sub-criteria): those areas replace the current ones, the others stay as they
are (provisional marks kept), and the confirmed totals are checked on the catalogue that results, since they are
the totals of the whole Table 2. Every problem is reported at once, in Vietnamese, with sheet, row and column.

Applying writes the catalogue to :func:`par_index.paths.criteria_override_dir` (read before the bundled one), keeps
the previous version as a dated copy in its ``history/`` folder, and rewrites the criterion codes stored for the
campaign through the catalogue's ``code_map`` (idempotent).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from par_index.catalogue import Catalogue, Item, catalogue_path, parse_catalogue
from par_index.errors import CatalogueError
from par_index.paths import criteria_override_dir
from par_index.text import fold, nfc, parse_decimal, vn_date, vn_number

SHEET = "Bảng 2"
MAP_SHEET = "Mã tạm"
COLUMNS: dict[str, tuple[str, ...]] = {  # field → accepted labels (compared folded: case, diacritics, spaces)
    "code": ("Mã", "Mã số", "Mã tiêu chí", "Mã chính thức"),
    "provisional": ("Mã tạm",),
    "name": ("Tên", "Tên tiêu chí", "Nội dung", "Lĩnh vực/tiêu chí/tiêu chí thành phần"),
    "max_points": ("Điểm tối đa", "Điểm"),
    "method": ("Phương pháp", "Phương pháp chấm", "Phương pháp đánh giá"),
    "level": ("Cấp",),
    "unit": ("Đơn vị phụ trách",),
}
REQUIRED = ("code", "name", "max_points")
HEADERS_VI = {
    "code": "Mã",
    "provisional": "Mã tạm",
    "name": "Tên",
    "max_points": "Điểm tối đa",
    "method": "Phương pháp",
    "level": "Cấp",
    "unit": "Đơn vị phụ trách",
}
LEVELS = {"linh vuc": 1, "tieu chi": 2, "tieu chi thanh phan": 3}
LEVEL_VI = {1: "lĩnh vực", 2: "tiêu chí", 3: "tiêu chí thành phần"}
METHODS = {
    "tu cham": "self",
    "tu danh gia": "self",
    "dieu tra xhh": "survey",
    "dieu tra xa hoi hoc": "survey",
}
METHOD_VI = {"self": "tự chấm", "survey": "điều tra XHH"}
TOTAL_LABELS = {
    "areas": "Số lĩnh vực",
    "criteria": "Số tiêu chí",
    "sub_criteria": "Số tiêu chí thành phần",
    "max_points": "Tổng điểm",
    "survey_points": "Điểm điều tra XHH",
    "self_points": "Điểm tự chấm",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the workbook: where (sheet, row, column) and why, with its error code."""

    code: str
    message: str
    sheet: str = SHEET
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        """'[CAT023] trang 'Bảng 2', dòng 7, cột 'Mã': …'."""
        where = [f"trang '{self.sheet}'"]
        if self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column:
            where.append(f"cột '{self.column}'")
        return f"[{self.code}] {', '.join(where)}: {self.message}"


class CatalogueImportError(CatalogueError):
    """The workbook cannot be imported; ``problems`` lists every reason found."""

    code = "CAT020"

    def __init__(self, source: str, problems: list[Problem]):
        """Keep the problems; the message names the file and lists them, one a line."""
        lines = [f"Không nạp được Bảng 2 từ tệp {source}: {len(problems)} lỗi."] + [str(p) for p in problems]
        super().__init__("\n".join(lines), code=problems[0].code if problems else None)
        self.problems = problems


@dataclass
class Row:
    """One item read from the workbook (official code), with the row it came from."""

    row: int
    code: str
    name_vi: str
    level: int
    max_points: Decimal
    method: str | None
    unit: str | None
    provisional: str | None
    children: list[str] = field(default_factory=list)


@dataclass
class Workbook:
    """What the workbook says: its items in order, and provisional → official codes."""

    source: str
    rows: dict[str, Row]
    mapping: dict[str, str]  # provisional code (as written) → official code

    @property
    def area_codes(self) -> list[str]:
        """The codes of the areas imported."""
        return [r.code for r in self.rows.values() if r.level == 1]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value).replace("\u00a0", " "))


def _header(ws: Any, sheet: str, wanted: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """(row number, field → column index) of the first row among the first 20 that holds every required label."""
    labels = {fold(label): name for name, options in wanted.items() for label in options}
    for number, cells in enumerate(ws.iter_rows(min_row=1, max_row=20, values_only=True), start=1):
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            name = labels.get(fold(_text(cell))) if cell is not None else None
            if name and name not in found:
                found[name] = index
        if all(name in found for name in required):
            return number, found
    missing = ", ".join(f"'{wanted[name][0]}'" for name in required)
    raise CatalogueImportError(
        ws.title,
        [Problem("CAT021", f"không tìm thấy dòng tiêu đề có các cột {missing} (trong 20 dòng đầu).", sheet)],
    )


def _level_of(code: str) -> int:
    return len(code.split("."))


# One check after another over the rows, each with its own error code: flat, not nested.
def read_workbook(path: Path) -> Workbook:  # noqa: C901
    """Read and check the workbook on its own (codes, nesting, points, methods, sums); raise
    :class:`CatalogueImportError` listing every problem."""
    from openpyxl import load_workbook

    source = path.name
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as exc:
        raise CatalogueImportError(source, [Problem("CAT020", f"không tìm thấy tệp {path}.", "—")]) from exc
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same user error
        raise CatalogueImportError(
            source, [Problem("CAT020", f"không đọc được tệp Excel (.xlsx): {type(exc).__name__}.", "—")]
        ) from exc
    sheets = {fold(name): name for name in wb.sheetnames}
    if fold(SHEET) not in sheets:
        names = ", ".join(f"'{n}'" for n in wb.sheetnames)
        raise CatalogueImportError(
            source, [Problem("CAT020", f"không có trang '{SHEET}' (tệp có: {names}).", SHEET)]
        )
    ws = wb[sheets[fold(SHEET)]]
    sheet = ws.title
    try:
        header_row, columns = _header(ws, sheet, COLUMNS, REQUIRED)
    except CatalogueImportError as exc:
        raise CatalogueImportError(source, exc.problems) from None
    problems: list[Problem] = []
    rows: dict[str, Row] = {}
    mapping: dict[str, str] = {}

    def cell(cells: tuple, name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    for number, cells in enumerate(
        ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1
    ):
        if all(_text(c) == "" for c in cells):
            continue

        def bad(error: str, message: str, name: str, row: int = number) -> None:
            problems.append(Problem(error, message, sheet, row, HEADERS_VI[name]))

        code = _text(cell(cells, "code"))
        name_vi = " ".join(_text(cell(cells, "name")).split())
        if not code:
            bad("CAT022", "thiếu mã.", "code")
            continue
        if not name_vi:
            bad("CAT022", f"mã {code} thiếu tên.", "name")
        if code in rows:
            numeric = isinstance(cell(cells, "code"), float)  # Excel turned "1.10" into the number 1.1
            hint = "; ô này là số: định dạng cột Mã là Text (Văn bản) rồi gõ lại mã" if numeric else ""
            bad("CAT023", f"mã {code} bị trùng (đã có ở dòng {rows[code].row}){hint}.", "code")
            continue
        level = _level_of(code)
        written = _text(cell(cells, "level"))
        if written:
            given = LEVELS.get(fold(written))
            if given is None:
                bad(
                    "CAT030",
                    f"cấp {written!r} không hợp lệ (lĩnh vực | tiêu chí | tiêu chí thành phần).",
                    "level",
                )
            elif given != level:
                bad("CAT024", f"mã {code} có dạng {LEVEL_VI[level]} nhưng cột Cấp ghi {written!r}.", "level")
        if level > 3:
            bad("CAT024", f"mã {code} có quá 3 cấp.", "code")
            continue
        raw_points = cell(cells, "max_points")
        try:
            points = parse_decimal(raw_points)
        except ValueError:
            points = None
        if points is None or points < 0:
            bad(
                "CAT025",
                f"mã {code}: điểm tối đa {_text(raw_points)!r} không phải là số không âm.",
                "max_points",
            )
            points = Decimal(0)
        method_text = _text(cell(cells, "method"))
        method = METHODS.get(fold(method_text)) if method_text else None
        if method_text and method is None:
            bad(
                "CAT026",
                f"mã {code}: phương pháp {method_text!r} không hợp lệ (tự chấm | điều tra XHH).",
                "method",
            )
        parent_code = code.rsplit(".", 1)[0] if level > 1 else None
        if parent_code is not None:
            parent = rows.get(parent_code)
            if parent is None or parent.level != level - 1:
                bad(
                    "CAT024",
                    f"{LEVEL_VI[level]} {code} không nằm dưới {LEVEL_VI[level - 1]} {parent_code} nào ở các dòng "
                    "trên (mã mồ côi).",
                    "code",
                )
                continue
            parent.children.append(code)
            if method is None and level == 3:
                method = parent.method
        provisional = _text(cell(cells, "provisional")) or None
        if provisional and provisional != code:
            if provisional in mapping:
                bad(
                    "CAT029",
                    f"mã tạm {provisional} đã được ánh xạ tới {mapping[provisional]}.",
                    "provisional",
                )
            else:
                mapping[provisional] = code
        rows[code] = Row(
            number, code, name_vi, level, points, method, _text(cell(cells, "unit")) or None, provisional
        )

    if fold(MAP_SHEET) in sheets:
        problems += _read_map_sheet(wb[sheets[fold(MAP_SHEET)]], rows, mapping)

    for row in rows.values():
        where = (row.row, HEADERS_VI["max_points"])
        if row.level == 2 and row.method is None:
            methods = {rows[c].method for c in row.children}
            if len(methods) == 1 and None not in methods:
                row.method = methods.pop()
            else:
                problems.append(
                    Problem(
                        "CAT026",
                        f"tiêu chí {row.code} thiếu phương pháp chấm.",
                        sheet,
                        row.row,
                        "Phương pháp",
                    )
                )
        if row.level < 3 and not row.children:
            problems.append(
                Problem("CAT024", f"{LEVEL_VI[row.level]} {row.code} không có mục con nào.", sheet, *where)
            )
        elif row.children:
            total = sum((rows[c].max_points for c in row.children), Decimal(0))
            if total != row.max_points:
                children = LEVEL_VI[row.level + 1]
                problems.append(
                    Problem(
                        "CAT027",
                        f"tổng điểm các {children} của {row.code} là {vn_number(total)}, khác điểm tối đa "
                        f"{vn_number(row.max_points)}.",
                        sheet,
                        *where,
                    )
                )
    if not rows and not problems:
        problems.append(Problem("CAT022", "không có dòng nào dưới dòng tiêu đề.", sheet, header_row))
    if problems:
        raise CatalogueImportError(source, problems)
    return Workbook(source, rows, mapping)


def _read_map_sheet(ws: Any, rows: dict[str, Row], mapping: dict[str, str]) -> list[Problem]:
    """Add the "Mã tạm" sheet's pairs (provisional → official) to ``mapping``; the problems found."""
    wanted = {"provisional": ("Mã tạm",), "code": ("Mã chính thức", "Mã")}
    try:
        header_row, columns = _header(ws, ws.title, wanted, ("provisional", "code"))
    except CatalogueImportError as exc:
        return exc.problems
    problems = []
    for number, cells in enumerate(
        ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1
    ):
        provisional, official = (_text(cells[columns[k]]) if columns[k] < len(cells) else "" for k in wanted)
        if not provisional and not official:
            continue
        if official not in rows:
            problems.append(
                Problem(
                    "CAT029",
                    f"mã chính thức {official!r} không có trên trang '{SHEET}'.",
                    ws.title,
                    number,
                    "Mã chính thức",
                )
            )
        elif mapping.get(provisional, official) != official:
            problems.append(
                Problem(
                    "CAT029",
                    f"mã tạm {provisional} đã được ánh xạ tới {mapping[provisional]}.",
                    ws.title,
                    number,
                    "Mã tạm",
                )
            )
        elif provisional != official:
            mapping[provisional] = official
            rows[official].provisional = provisional
    return problems


@dataclass
class Change:
    """One line of the diff: its kind and the Vietnamese text."""

    kind: str  # mapped | renamed | points | method | added | removed | confirmed
    text: str


@dataclass
class Plan:
    """The catalogue an import would make, its differences from the current one, and the code map to apply."""

    source: str
    current: Catalogue
    new: Catalogue
    data: dict
    changes: list[Change]
    code_map: dict[str, str]  # every provisional code → official code the new catalogue knows
    areas: list[str]

    @property
    def changed(self) -> bool:
        """Whether applying would change the catalogue."""
        return bool(self.changes)

    def lines(self) -> list[str]:
        """The diff as the coordinator reads it (Vietnamese), headed by what was imported."""
        head = (
            f"Bảng 2 từ tệp {self.source} nạp các lĩnh vực {', '.join(self.areas)} vào danh mục {self.current.code}: "
            f"{len(self.changes)} thay đổi."
        )
        return [head] + [c.text for c in self.changes] if self.changes else [head, "Không có thay đổi."]


def _item_node(item: Item, default_step: Decimal | None) -> dict:
    node: dict[str, Any] = {
        "code": item.code,
        "name_vi": item.name_vi,
        "max_points": _number(item.max_points),
    }
    if item.level >= 2:
        node["method"] = item.method
    if item.responsible_unit:
        node["responsible_unit"] = item.responsible_unit
    node["provenance"] = {"status": item.provenance, "source": item.source}
    if item.step is not None and item.step != default_step:
        node["step"] = _number(item.step)
    return node


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def catalogue_data(
    catalogue: Catalogue, areas: list[dict] | None = None, code_map: dict | None = None
) -> dict:
    """The YAML structure of a catalogue (what :func:`par_index.catalogue.parse_catalogue` reads)."""
    head: dict[str, Any] = {
        "code": catalogue.code,
        "name_vi": catalogue.name_vi,
        "legal_basis": catalogue.legal_basis,
        "totals": {k: _number(v) for k, v in catalogue.totals.items()},
    }
    if catalogue.default_step is not None:
        head["default_step"] = _number(catalogue.default_step)
    head["provenance_note"] = catalogue.note_vi
    if areas is None:
        areas = []
        for area in catalogue.areas:
            node = _item_node(area, catalogue.default_step)
            node["criteria"] = []
            for code in area.children:
                criterion = catalogue[code]
                child = _item_node(criterion, catalogue.default_step)
                child["sub_criteria"] = [
                    _item_node(catalogue[c], catalogue.default_step) for c in criterion.children
                ]
                node["criteria"].append(child)
            areas.append(node)
    data: dict[str, Any] = {"catalogue": head, "areas": areas}
    mapping = catalogue.code_map if code_map is None else code_map
    if mapping:
        data["code_map"] = dict(mapping)
    return data


# One comparison after another, each its own kind of change: flat, not nested.
def plan_import(workbook: Workbook, current: Catalogue, today: datetime) -> Plan:  # noqa: C901
    """Merge the workbook into the current catalogue (its areas replace those with the same code), check the
    result against the confirmed totals, and list the changes; raise :class:`CatalogueImportError`."""
    problems: list[Problem] = []
    old_of: dict[str, str] = {}  # official code → the current code it replaces
    for provisional, official in workbook.mapping.items():
        row = workbook.rows[official]
        now = current.official(provisional)
        if now not in current:
            problems.append(
                Problem(
                    "CAT029",
                    f"mã tạm {provisional} không có trong danh mục hiện hành {current.code}.",
                    row=row.row,
                    column="Mã tạm",
                )
            )
        elif current[now].level != row.level:
            problems.append(
                Problem(
                    "CAT029",
                    f"mã tạm {provisional} là {LEVEL_VI[current[now].level]}, còn {official} là "
                    f"{LEVEL_VI[row.level]}.",
                    row=row.row,
                    column="Mã tạm",
                )
            )
        else:
            old_of[official] = now
    for code in workbook.rows:
        if code not in old_of and code in current and code not in old_of.values():
            old_of[code] = code
    replaced_areas = {old_of.get(code, code) for code in workbook.area_codes}
    for official, now in old_of.items():
        if current[now].area not in replaced_areas:  # the area it leaves would keep it: two codes, one item
            row = workbook.rows[official]
            problems.append(
                Problem(
                    "CAT029",
                    f"mã tạm {now} thuộc lĩnh vực {current[now].area}, lĩnh vực này không có trong bảng tính.",
                    row=row.row,
                    column="Mã tạm",
                )
            )
    if problems:
        raise CatalogueImportError(workbook.source, problems)

    source = f"Bảng 2 chính thức (tệp {workbook.source}, nạp ngày {vn_date(today)})"
    imported_nodes: dict[str, dict] = {}

    def node_of(row: Row) -> dict:
        old = current.items.get(old_of.get(row.code, ""))
        node: dict[str, Any] = {
            "code": row.code,
            "name_vi": row.name_vi,
            "max_points": _number(row.max_points),
        }
        if row.level >= 2:
            node["method"] = row.method
        unit = row.unit or (old.responsible_unit if old else None)  # else the parent's (the loader's rule)
        if unit:
            node["responsible_unit"] = unit
        node["provenance"] = {"status": "confirmed", "source": source}
        if old is not None and old.step is not None and old.step != current.default_step:
            node["step"] = _number(old.step)
        key = {1: "criteria", 2: "sub_criteria"}.get(row.level)
        if key:
            node[key] = [node_of(workbook.rows[c]) for c in row.children]
        return node

    for code in workbook.area_codes:
        imported_nodes[code] = node_of(workbook.rows[code])
    full = catalogue_data(current)
    areas: list[dict] = []
    for node in full["areas"]:
        if node["code"] in replaced_areas:
            new_code = next(c for c in imported_nodes if old_of.get(c, c) == node["code"])
            areas.append(imported_nodes.pop(new_code))
        else:
            areas.append(node)
    areas += list(imported_nodes.values())

    renames = {old: new for new, old in old_of.items() if old != new}
    code_map = {k: renames.get(v, v) for k, v in current.code_map.items()}
    code_map.update(renames)
    data = catalogue_data(current, areas, {})
    merged_codes = _codes(areas)
    code_map = {k: v for k, v in code_map.items() if v in merged_codes and k not in merged_codes}
    if code_map:
        data["code_map"] = code_map
    problems = _check_totals(areas, current)
    if problems:
        raise CatalogueImportError(workbook.source, problems)
    try:
        new = parse_catalogue(data, origin=workbook.source)
    except CatalogueError as exc:
        raise CatalogueImportError(workbook.source, [Problem(exc.code, exc.message)]) from exc
    changes = _diff(current, new, workbook, old_of)
    return Plan(workbook.source, current, new, data, changes, code_map, workbook.area_codes)


def _codes(nodes: list[dict]) -> set[str]:
    codes: set[str] = set()
    for node in nodes:
        codes.add(node["code"])
        codes |= _codes(node.get("criteria") or node.get("sub_criteria") or [])
    return codes


def _check_totals(areas: list[dict], current: Catalogue) -> list[Problem]:
    """Every confirmed total the merged catalogue misses, one problem each."""
    criteria = [c for a in areas for c in a["criteria"]]
    subs = [(s, c) for c in criteria for s in c["sub_criteria"]]
    leaves = [(s, s.get("method", c.get("method"))) for s, c in subs]
    actual = {
        "areas": Decimal(len(areas)),
        "criteria": Decimal(len(criteria)),
        "sub_criteria": Decimal(len(subs)),
        "max_points": sum((Decimal(str(a["max_points"])) for a in areas), Decimal(0)),
        "survey_points": sum((Decimal(str(s["max_points"])) for s, m in leaves if m == "survey"), Decimal(0)),
        "self_points": sum((Decimal(str(s["max_points"])) for s, m in leaves if m == "self"), Decimal(0)),
    }
    return [
        Problem(
            "CAT028",
            f"{TOTAL_LABELS[key]} của Bảng 2 sau khi nạp là {vn_number(actual[key])}, phải là "
            f"{vn_number(expected)} (tổng đã xác nhận).",
        )
        for key, expected in current.totals.items()
        if key in actual and actual[key] != expected
    ]


def _diff(current: Catalogue, new: Catalogue, workbook: Workbook, old_of: dict[str, str]) -> list[Change]:
    """The changes, in the new catalogue's order, then the items removed."""
    changes: list[Change] = []
    confirmed: list[str] = []
    imported = set(workbook.rows)
    for code in new.items:
        if code not in imported:
            continue
        item = new[code]
        old = current.items.get(old_of.get(code, ""))
        if old is None:
            method = f", {METHOD_VI[item.method]}" if item.method else ""
            changes.append(
                Change("added", f"Thêm {code}: «{item.name_vi}» ({vn_number(item.max_points)} điểm{method}).")
            )
            continue
        if old.code != code:
            changes.append(Change("mapped", f"Đổi mã {old.code} → {code}."))
        if old.name_vi != item.name_vi:
            changes.append(Change("renamed", f"Đổi tên {code}: «{old.name_vi}» → «{item.name_vi}»."))
        if old.max_points != item.max_points:
            changes.append(
                Change(
                    "points",
                    f"Đổi điểm tối đa {code}: {vn_number(old.max_points)} → {vn_number(item.max_points)}.",
                )
            )
        inherited = (
            item.level == 3
            and item.method == new[item.parent or ""].method
            and old.method == current[old.parent or ""].method
        )  # a sub-criterion that follows its criterion: the criterion's line says it
        if old.method != item.method and item.level >= 2 and not inherited:
            changes.append(
                Change(
                    "method",
                    f"Đổi phương pháp {code}: {METHOD_VI.get(old.method or '', '—')} → "
                    f"{METHOD_VI.get(item.method or '', '—')}.",
                )
            )
        if old.provisional:
            confirmed.append(code)
    kept = set(old_of.values())
    areas = {old_of.get(a, a) for a in workbook.area_codes}
    for code, old in current.items.items():
        if old.area in areas and code not in kept:
            changes.append(
                Change("removed", f"Bỏ {code}: «{old.name_vi}» ({vn_number(old.max_points)} điểm).")
            )
    if confirmed:
        changes.append(
            Change(
                "confirmed", f"Bỏ đánh dấu tạm tính (xác nhận) {len(confirmed)} mục: {', '.join(confirmed)}."
            )
        )
    return changes


def diff_catalogue(path: Path, current: Catalogue, today: datetime | None = None) -> Plan:
    """Read the workbook at ``path`` and plan its import into ``current`` (the dry run)."""
    return plan_import(read_workbook(path), current, today or datetime.now())


def write_catalogue(plan: Plan, today: datetime) -> Path | None:
    """Write the planned catalogue where it overrides the bundled one; the previous version (the imported one, or
    the bundled one the first time) is kept as ``history/<code>.<yyyy-mm-dd_HHMMSS>.yaml``. Nothing is written when
    nothing changed; returns the file written."""
    if not plan.changed:
        return None
    folder = criteria_override_dir()
    target = folder / f"{plan.current.code}.yaml"
    previous = catalogue_path(plan.current.code)
    (folder / "history").mkdir(parents=True, exist_ok=True)
    if previous.is_file():
        shutil.copy2(previous, folder / "history" / f"{plan.current.code}.{today:%Y-%m-%d_%H%M%S}.yaml")
    header = (
        f"# Bảng 2 — {plan.current.name_vi}\n"
        f"# Nạp từ bảng tính ngày {vn_date(today)} (lĩnh vực {', '.join(plan.areas)}); bản trước ở history/.\n"
        "# Mục có provenance.status: provisional vẫn là TẠM TÍNH (suy luận) cho đến khi được nạp bản chính thức.\n"
    )
    text = yaml.safe_dump(plan.data, allow_unicode=True, sort_keys=False, width=120)
    tmp = target.with_suffix(".yaml.tmp")
    tmp.write_text(header + text, encoding="utf-8")
    tmp.replace(target)
    return target


def remap_store(store_url: str, campaign_id: str, code_map: dict[str, str]) -> dict[str, int]:
    """Rewrite the criterion codes stored for a campaign from provisional to official (assignments, self-scores,
    intake issues, mismatches). A provisional row whose official twin already exists is dropped (the official one
    is kept). Idempotent: a second run finds no provisional code and changes nothing. Counts per table."""
    from sqlalchemy import select

    from par_index.store.db import session_scope
    from par_index.store.models import AssignmentRow, IntakeIssue, Mismatch, ReceivedFile, Score

    counts = {"assignments": 0, "scores": 0, "intake_issues": 0, "mismatches": 0, "dropped": 0}
    if not code_map:
        return counts
    with session_scope(store_url) as s:
        keyed: tuple[tuple[Any, str], ...] = ((AssignmentRow, "assignments"), (Score, "scores"))
        for model, name in keyed:
            rows = s.scalars(
                select(model).where(
                    model.campaign_id == campaign_id, model.criterion_code.in_(list(code_map))
                )
            ).all()
            for row in rows:
                key = {"campaign_id": campaign_id, "criterion_code": code_map[row.criterion_code]}
                if isinstance(row, Score):
                    key |= {"source": row.source, "unit_code": row.unit_code}
                twin = s.scalars(select(model).filter_by(**key)).first()
                if twin is not None:
                    s.delete(row)
                    counts["dropped"] += 1
                    continue
                if isinstance(row, AssignmentRow):  # part of the primary key: replace the row
                    s.delete(row)
                    s.flush()
                    s.add(
                        AssignmentRow(
                            campaign_id=campaign_id,
                            criterion_code=key["criterion_code"],
                            unit_code=row.unit_code,
                        )
                    )
                else:
                    row.criterion_code = key["criterion_code"]
                counts[name] += 1
        files = select(ReceivedFile.id).where(ReceivedFile.campaign_id == campaign_id)
        issues = select(IntakeIssue).where(
            IntakeIssue.file_id.in_(files), IntakeIssue.criterion_code.in_(list(code_map))
        )
        mismatches = select(Mismatch).where(
            Mismatch.campaign_id == campaign_id, Mismatch.criterion_code.in_(list(code_map))
        )
        for statement, name in ((issues, "intake_issues"), (mismatches, "mismatches")):
            for found in s.scalars(statement).all():
                found.criterion_code = code_map[found.criterion_code]
                counts[name] += 1
    return counts


def export_catalogue(catalogue: Catalogue, path: Path) -> Path:
    """Write the catalogue as the import workbook ("Bảng 2": Mã, Mã tạm, Tên, Điểm tối đa, Phương pháp, Cấp,
    Đơn vị phụ trách; codes as text) for a coordinator to start from: a provisional item has its code in both Mã
    and Mã tạm, so typing the official code in Mã maps it."""
    from openpyxl import Workbook as Book
    from openpyxl.styles import Font

    book = Book()
    ws = book.active
    ws.title = SHEET
    ws.append([f"{SHEET} — {catalogue.name_vi}"])
    ws.append([f"Xuất ngày {vn_date(datetime.now())}; mục tạm tính có mã ở cột 'Mã tạm'."])
    headers = ["code", "provisional", "name", "max_points", "method", "level", "unit"]
    ws.append([HEADERS_VI[h] for h in headers])
    for c in ws[3]:
        c.font = Font(bold=True)
    for item in catalogue.items.values():
        ws.append(
            [
                item.code,
                item.code if item.provisional else None,
                item.name_vi,
                float(item.max_points),
                METHOD_VI.get(item.method or "") if item.level >= 2 else None,
                LEVEL_VI[item.level],
                item.responsible_unit
                if item.level == 2 or (item.level == 1 and item.responsible_unit)
                else None,
            ]
        )
    for row in ws.iter_rows(min_row=4, max_col=2):
        for c in row:
            c.number_format = "@"
    ws.column_dimensions["C"].width = 80
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def check_assignments(catalogue: Catalogue, assignments: dict[str, str], source: str) -> None:
    """Refuse (CAT032) a catalogue the campaign's Appendix I would not load with: a code assigned that the
    catalogue (through its ``code_map``) does not know, or a self-scored leaf no assigned prefix covers."""
    official = {catalogue.official(code): unit for code, unit in assignments.items()}
    problems = [
        Problem("CAT032", f"mã {code} của Phụ lục I (assignments) không còn trong Bảng 2 mới.", "assignments")
        for code in assignments
        if catalogue.official(code) not in catalogue
    ]
    for leaf in catalogue.self_scored_leaves:
        parts = leaf.code.split(".")
        if not any(".".join(parts[:n]) in official for n in range(len(parts), 0, -1)):
            problems.append(
                Problem(
                    "CAT032",
                    f"tiêu chí {leaf.code} chưa được giao cho đơn vị nào trong Phụ lục I.",
                    "assignments",
                )
            )
    if problems:
        raise CatalogueImportError(source, problems)


def import_catalogue(
    catalogue_name: str,
    campaign_id: str,
    store_url: str,
    file_name: str | None,
    apply: bool,
    now: datetime | None = None,
    assignments: dict[str, str] | None = None,
) -> dict:
    """What the coordinator's import DAG does. No file name: export the current catalogue to
    ``<data>/setup/<campaign>/Bang2_hien_hanh_<catalogue>.xlsx`` (the workbook to start from). A file name (in
    that folder): print the diff; with ``apply``, also write the catalogue and remap the campaign's stored codes."""
    from par_index.catalogue import load_catalogue
    from par_index.paths import setup_dir

    now = now or datetime.now()
    folder = setup_dir(campaign_id)
    current = load_catalogue(catalogue_name)
    if not (file_name or "").strip():
        path = export_catalogue(current, folder / f"Bang2_hien_hanh_{current.code}.xlsx")
        return {
            "exported": str(path),
            "lines": [f"Đã xuất Bảng 2 hiện hành ra {path}: sửa rồi nạp lại tệp này."],
        }
    name = nfc(file_name or "")
    if Path(name).name != name:
        raise CatalogueImportError(
            name, [Problem("CAT031", f"chỉ ghi tên tệp (không ghi thư mục) trong thư mục {folder}.", "—")]
        )
    plan = diff_catalogue(folder / name, current, now)
    if assignments is not None:
        check_assignments(plan.new, assignments, name)
    result: dict[str, Any] = {"lines": plan.lines(), "applied": False, "changes": len(plan.changes)}
    if apply:
        written = write_catalogue(plan, now)
        counts = remap_store(store_url, campaign_id, plan.code_map)
        result |= {"applied": True, "written": str(written) if written else None, "remapped": counts}
        result["lines"] = result["lines"] + [
            f"Đã ghi danh mục mới: {written}." if written else "Danh mục không đổi: không ghi gì.",
            "Đổi mã trong kho dữ liệu: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".",
        ]
    return result
