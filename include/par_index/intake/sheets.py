"""Reading workbooks and CSV files into rows, and finding a form's header row by column titles."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from par_index.intake import legacy, ooxml
from par_index.intake.issue import Issue
from par_index.text import fold, nfc

MAX_FILE_BYTES = 20 * 1024 * 1024
HEADER_SCAN_ROWS = 30
MAX_TITLE = 80  # longer text is never a column title
SKIPPED_SHEETS = ("vi du", "danh muc", "huong dan")  # the templates' example, code lists and instructions


class UnreadableFile(Exception):
    """A file that cannot be read at all; ``issue`` says why."""

    def __init__(self, issue: Issue):
        """Keep the issue that says why the file cannot be read."""
        super().__init__(str(issue))
        self.issue = issue


def cell_ref(row: int, col: int) -> str:
    """A1 reference of a 1-based row and a 0-based column index."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


@dataclass
class Sheet:
    """One sheet's cell values, with the issues met while reading it."""

    name: str
    rows: list[list[object]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # legacy-font text converted or refused, formulas


def fix_legacy_text(sheet: Sheet) -> Sheet:
    """Convert cells typed in TCVN3/VNI fonts to Unicode (a warning names each cell), tidy no-break and zero-width
    spaces, refuse UTF-8 read with the wrong code page (mojibake)."""
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if not isinstance(value, str) or value.isascii():
                continue
            try:
                text, encoding = legacy.decode(value)
            except legacy.LegacyTextError:
                sheet.issues.append(
                    Issue(
                        "INT016",
                        f"Ô có chữ không đọc được (chữ Unicode bị đọc sai bảng mã, "
                        f"không phải TCVN3 hay VNI): “{value[:40]}”. Gõ lại bằng "
                        "phông Unicode.",
                        "error",
                        sheet.name,
                        r + 1,
                        None,
                        cell_ref(r + 1, c),
                    )
                )
                continue
            row[c] = text
            if encoding:
                sheet.issues.append(
                    Issue(
                        "INT015",
                        f"Chữ gõ bằng bảng mã {encoding} đã được chuyển sang Unicode: “{text[:40]}”.",
                        "warning",
                        sheet.name,
                        r + 1,
                        None,
                        cell_ref(r + 1, c),
                    )
                )
    return sheet


def read_sheets(path: Path) -> list[Sheet]:
    """All sheets of an .xlsx/.xlsm (cached values; macros never run) or a CSV file as one sheet."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(
            Issue(
                "INT003",
                f"Tệp quá lớn ({size // 1024 // 1024} MB); giới hạn {MAX_FILE_BYTES // 1024 // 1024} MB.",
            )
        )
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UnreadableFile(
            Issue(
                "INT002",
                "Định dạng Excel 97-2003 (.xls) không được hỗ trợ: mở tệp và lưu lại "
                "dưới dạng .xlsx rồi gửi lại.",
            )
        )
    if suffix == ".csv":
        data = path.read_bytes()
        sheet = fix_legacy_text(Sheet(path.stem, _read_csv(data, path.stem)))
        if data and not data.endswith((b"\n", b"\r")):  # an export ends its last record with a line break
            sheet.issues.append(
                Issue(
                    "INT074",
                    f"Tệp CSV không kết thúc bằng dấu xuống dòng: kiểm tra dòng cuối "
                    f"(dòng {len(sheet.rows)}) đã đủ chưa.",
                    "warning",
                    sheet.name,
                    len(sheet.rows),
                    None,
                    cell_ref(len(sheet.rows), 0),
                )
            )
        return [sheet]
    if suffix in (".xlsx", ".xlsm"):
        return [fix_legacy_text(sheet) for sheet in _read_xlsx(path)]
    raise UnreadableFile(
        Issue(
            "INT004",
            f"Loại tệp “{suffix or '(không có đuôi)'}” không được nhận; chỉ nhận .xlsx, .xlsm hoặc .csv.",
        )
    )


def _read_csv(data: bytes, name: str) -> list[list[object]]:
    """The rows of a CSV file (``name``: the sheet it is read as, for the issues)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            Issue("INT005", "Tệp CSV không ở mã UTF-8: lưu lại với mã hóa “CSV UTF-8”.")
        ) from exc
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows: list[list[object]] = [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    if rows and not text.endswith(("\n", "\r")) and len(rows[-1]) < max(len(row) for row in rows):
        raise UnreadableFile(
            Issue(
                "INT071",
                f"Tệp CSV bị cắt ngang: dòng cuối (dòng {len(rows)}) có {len(rows[-1])} "
                f"cột thay vì {max(len(row) for row in rows)} và không kết thúc bằng xuống "
                "dòng (tệp chép chưa xong?). Xuất lại tệp đầy đủ và gửi lại.",
                "error",
                name,
                len(rows),
                None,
                cell_ref(len(rows), len(rows[-1]) - 1 if rows[-1] else 0),
            )
        )
    return rows


def _read_xlsx(path: Path) -> list[Sheet]:
    try:
        with zipfile.ZipFile(path) as archive:
            checks = ooxml.inspect(archive)
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(
            Issue(
                "INT001",
                "Tệp không mở được: không phải tệp Excel .xlsx hợp lệ (có thể bị hỏng "
                "hoặc đổi đuôi). Mở lại bằng Excel, lưu .xlsx và gửi lại.",
            )
        ) from exc
    if checks.refusal:
        raise UnreadableFile(checks.refusal)
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [
            Sheet(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))  # type: ignore[arg-type]
            for name in workbook.sheet_names
        ]
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for broken files
        raise UnreadableFile(
            Issue(
                "INT001",
                "Tệp không mở được: nội dung Excel bị hỏng. Mở lại bằng Excel, lưu .xlsx và gửi lại.",
            )
        ) from exc
    by_name = {sheet.name: sheet for sheet in sheets}
    for issue in checks.issues:
        target = by_name.get(issue.sheet or "", sheets[0] if sheets else None)
        if target is not None:
            target.issues.append(issue)
    return sheets


def cell_text(value: object) -> str:
    """A cell's value as text: empty for None, whole floats without ``.0``, NFC."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


@dataclass
class Table:
    """A form's table found in a sheet: its header row and the columns of each field."""

    sheet: str
    header_row: int  # 0-based index into rows
    columns: dict[str, int]  # field → column index
    titles: dict[str, str]  # field → title as written
    rows: list[list[object]]
    skip_rows: frozenset[int] = frozenset()  # Excel row numbers with a cell that could not be read

    def records(self) -> list[tuple[int, dict[str, object]]]:
        """(Excel row number, field → raw value) for each readable non-blank row below the header."""
        out = []
        for index in range(self.header_row + 1, len(self.rows)):
            if index + 1 in self.skip_rows:
                continue
            row = self.rows[index]
            values = {f: (row[c] if c < len(row) else None) for f, c in self.columns.items()}
            if all(cell_text(v) == "" for v in values.values()):
                continue
            out.append((index + 1, values))
        return out

    def header_block(self) -> list[list[object]]:
        """The rows above the table's header."""
        return self.rows[: self.header_row]


def find_table(sheets: list[Sheet], aliases: dict[str, tuple[str, ...]], required: set[str]) -> Table | None:
    """The first sheet and row whose titles cover every required field (titles compared folded)."""
    wanted = {fold(a): f for f, names in aliases.items() for a in names}
    for sheet in sheets:
        if fold(sheet.name).startswith(SKIPPED_SHEETS):
            continue
        for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            columns: dict[str, int] = {}
            titles: dict[str, str] = {}
            for col, value in enumerate(row):
                if not isinstance(value, str) or not 0 < len(value) <= MAX_TITLE:
                    continue
                field_name = wanted.get(fold(value))
                if field_name and field_name not in columns:
                    columns[field_name] = col
                    titles[field_name] = cell_text(value)
            if required <= columns.keys():
                bad = frozenset(i.row for i in sheet.issues if i.severity == "error" and i.row)
                return Table(sheet.name, index, columns, titles, sheet.rows, bad)
    return None


@dataclass(frozen=True)
class HeaderField:
    """A 'Label: value' pair of a form's header block: the value, the label's row (1-based) and the cells of the
    label and of the value (the same cell when the value follows the colon)."""

    value: object
    row: int
    label_cell: str
    value_cell: str


def header_fields(block: list[list[object]], labels: dict[str, tuple[str, ...]]) -> dict[str, HeaderField]:
    """Read 'Label: value' pairs above a table (value after the colon or in the next non-empty cell), each with
    where it was written."""
    wanted = {fold(a): f for f, names in labels.items() for a in names}
    found: dict[str, HeaderField] = {}
    for r, row in enumerate(block):
        cells = list(row)
        for col, value in enumerate(cells):
            text = cell_text(value)
            if not text:
                continue
            label, sep, rest = text.partition(":")
            field_name = wanted.get(fold(label))
            if not field_name or field_name in found:
                continue
            here = cell_ref(r + 1, col)
            if sep and rest.strip():
                found[field_name] = HeaderField(rest.strip(), r + 1, here, here)
            else:
                following = [(c, v) for c, v in enumerate(cells) if c > col and cell_text(v)]
                if following:
                    found[field_name] = HeaderField(
                        following[0][1], r + 1, here, cell_ref(r + 1, following[0][0])
                    )
    return found
