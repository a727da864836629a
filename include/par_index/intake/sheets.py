"""Reading workbooks and CSV files into rows, and finding a form's header row by column titles."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from par_index.text import fold, nfc

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
HEADER_SCAN_ROWS = 30


@dataclass
class Issue:
    """One problem, located as precisely as possible, with a stable code and a Vietnamese message."""

    code: str
    message: str
    severity: str = "error"
    sheet: str | None = None
    row: int | None = None  # 1-based, as Excel shows it
    column: str | None = None

    def where(self) -> str:
        parts = [p for p in (f"trang {self.sheet}" if self.sheet else "", f"dòng {self.row}" if self.row else "",
                             f"cột “{self.column}”" if self.column else "") if p]
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"[{self.code}] {where + ': ' if where else ''}{self.message}"


class UnreadableFile(Exception):
    def __init__(self, issue: Issue):
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class Sheet:
    name: str
    rows: list[list[object]] = field(default_factory=list)


def read_sheets(path: Path) -> list[Sheet]:
    """All sheets of an .xlsx/.xlsm (cached values; macros never run) or a CSV file as one sheet."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(Issue("INT003", f"Tệp quá lớn ({size // 1024 // 1024} MB); giới hạn "
                                             f"{MAX_FILE_BYTES // 1024 // 1024} MB."))
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UnreadableFile(Issue("INT002", "Định dạng Excel 97-2003 (.xls) không được hỗ trợ: mở tệp và lưu lại "
                                             "dưới dạng .xlsx rồi gửi lại."))
    if suffix == ".csv":
        return [Sheet(path.stem, _read_csv(path.read_bytes()))]
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise UnreadableFile(Issue("INT004", f"Loại tệp “{suffix or '(không có đuôi)'}” không được nhận; chỉ nhận "
                                         ".xlsx, .xlsm hoặc .csv."))


def _read_csv(data: bytes) -> list[list[object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(Issue("INT005", "Tệp CSV không ở mã UTF-8: lưu lại với mã hóa “CSV UTF-8”.")) from exc
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _read_xlsx(path: Path) -> list[Sheet]:
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(Issue("INT001", "Tệp không mở được: không phải tệp Excel .xlsx hợp lệ (có thể bị hỏng "
                                             "hoặc đổi đuôi). Mở lại bằng Excel, lưu .xlsx và gửi lại.")) from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise UnreadableFile(Issue("INT006", "Tệp nén có nội dung giải nén quá lớn (nghi tệp độc hại); từ chối."))
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return [Sheet(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
                for name in workbook.sheet_names]
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for broken files
        raise UnreadableFile(Issue("INT001", "Tệp không mở được: nội dung Excel bị hỏng. Mở lại bằng Excel, lưu "
                                             ".xlsx và gửi lại.")) from exc


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


@dataclass
class Table:
    sheet: str
    header_row: int  # 0-based index into rows
    columns: dict[str, int]  # field → column index
    titles: dict[str, str]  # field → title as written
    rows: list[list[object]]

    def records(self) -> list[tuple[int, dict[str, object]]]:
        """(Excel row number, field → raw value) for each non-blank row below the header."""
        out = []
        for index in range(self.header_row + 1, len(self.rows)):
            row = self.rows[index]
            values = {f: (row[c] if c < len(row) else None) for f, c in self.columns.items()}
            if all(cell_text(v) == "" for v in values.values()):
                continue
            out.append((index + 1, values))
        return out

    def header_block(self) -> list[list[object]]:
        return self.rows[: self.header_row]


def find_table(sheets: list[Sheet], aliases: dict[str, tuple[str, ...]], required: set[str]) -> Table | None:
    """The first sheet and row whose titles cover every required field (titles compared folded)."""
    folded = {f: {fold(a) for a in names} for f, names in aliases.items()}
    for sheet in sheets:
        for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            columns: dict[str, int] = {}
            titles: dict[str, str] = {}
            for col, value in enumerate(row):
                key = fold(cell_text(value))
                if not key:
                    continue
                for field_name, names in folded.items():
                    if key in names and field_name not in columns:
                        columns[field_name] = col
                        titles[field_name] = cell_text(value)
                        break
            if required <= columns.keys():
                return Table(sheet.name, index, columns, titles, sheet.rows)
    return None


def header_values(block: list[list[object]], labels: dict[str, tuple[str, ...]]) -> dict[str, object]:
    """Read 'Label: value' pairs above a table (value after the colon or in the next non-empty cell)."""
    wanted = {fold(a): f for f, names in labels.items() for a in names}
    found: dict[str, object] = {}
    for row in block:
        cells = list(row)
        for col, value in enumerate(cells):
            text = cell_text(value)
            if not text:
                continue
            label, sep, rest = text.partition(":")
            field_name = wanted.get(fold(label))
            if not field_name or field_name in found:
                continue
            if sep and rest.strip():
                found[field_name] = rest.strip()
            else:
                following = [v for v in cells[col + 1:] if cell_text(v)]
                if following:
                    found[field_name] = following[0]
    return found
