"""Row heights that fit wrapped text. Neither openpyxl nor the file format computes them: Excel grows a row only
when the cell is edited, and LibreOffice's PDF keeps the stored (default) height, so a wrapped title runs over the
next rows. Text is measured with the advance widths of the font LibreOffice breaks lines by (see ``ASCII_REGULAR``)
and wrapped at spaces as a spreadsheet does."""

from __future__ import annotations

import unicodedata

from openpyxl.utils import get_column_letter

EM = 2048  # units per em of the measuring font
# Advance widths (units per em) of the printable ASCII characters " " to "~", regular and bold, in DejaVu Sans:
# LibreOffice on a server without Calibri breaks wrapped lines by this font's widths (checked by rendering), and
# it is wider than Calibri, so a row measured with it fits in LibreOffice and, with a little room, in Excel.
ASCII_REGULAR = (
    "651 821 942 1716 1303 1946 1597 563 799 799 1024 1716 651 739 651 690 1303 1303 1303 1303 1303 1303 1303 "
    "1303 1303 1303 690 690 1716 1716 1716 1087 2048 1401 1405 1430 1577 1294 1178 1587 1540 604 604 1343 1141 "
    "1767 1532 1612 1235 1612 1423 1300 1251 1499 1401 2025 1403 1251 1403 799 690 799 1716 1024 1024 1255 1300 "
    "1126 1300 1260 721 1300 1298 569 569 1186 569 1995 1298 1253 1300 1300 842 1067 803 1298 1212 1675 1212 1212 "
    "1075 1303 690 1303 1716"
)
ASCII_BOLD = (
    "713 934 1067 1716 1425 2052 1786 627 936 936 1071 1716 778 850 778 748 1425 1425 1425 1425 1425 1425 1425 "
    "1425 1425 1425 819 819 1716 1716 1716 1188 2048 1585 1561 1503 1700 1399 1399 1681 1714 762 762 1587 1305 "
    "2038 1714 1741 1501 1741 1577 1475 1397 1663 1585 2259 1579 1483 1485 936 748 936 1716 1024 1024 1382 1466 "
    "1214 1466 1389 891 1466 1458 702 702 1362 702 2134 1458 1407 1466 1466 1010 1219 979 1458 1335 1892 1321 "
    "1335 1192 1458 748 1458 1716"
)
# Vietnamese letters wider than their base letter (the others take their base letter's width: a diacritic above
# or below adds no advance).
WIDE_REGULAR = {"đ": 1300, "Đ": 1587, "ơ": 1253, "Ơ": 1870, "ư": 1298, "Ư": 1757}
WIDE_BOLD = {"đ": 1466, "Đ": 1716, "ơ": 1407, "Ơ": 1789, "ư": 1458, "Ư": 1711}
WIDTHS = {
    bold: {
        **{chr(32 + i): int(w) for i, w in enumerate(table.split())},
        **wide,
    }
    for bold, table, wide in ((False, ASCII_REGULAR, WIDE_REGULAR), (True, ASCII_BOLD, WIDE_BOLD))
}
UNKNOWN_WIDTH = 2048  # a character outside the table: a full em
# A column w characters wide leaves LibreOffice between 7.3 w and 7.5 w pixels (96 dpi) of text (measured);
# Excel leaves about 7 w - 5 pixels of the narrower Calibri.
PX_PER_CHARACTER = 7.2
CELL_PADDING_PX = 6
DEFAULT_COLUMN_WIDTH = 8.43
DEFAULT_SIZE = 11.0
LINE_POINTS_PER_SIZE = 15 / 11  # Calibri 11's default row height is 15 points


def char_width(ch: str, bold: bool) -> int:
    """The advance width of one character, in units per em."""
    table = WIDTHS[bold]
    if ch in table:
        return table[ch]
    base = unicodedata.normalize("NFD", ch)[0]
    return table.get(base, UNKNOWN_WIDTH)


def text_px(text: str, size: float = DEFAULT_SIZE, bold: bool = False) -> float:
    """How many pixels (96 dpi) ``text`` takes on one line."""
    return sum(char_width(ch, bold) for ch in text) * size * 96 / 72 / EM


def wrapped_lines(text: str, column_width: float, size: float = DEFAULT_SIZE, bold: bool = False) -> int:
    """How many lines ``text`` takes in a wrapping cell ``column_width`` characters wide: words go on a line while
    they fit; a word longer than a line is broken; a line break in the text starts a new line."""
    room = column_width * PX_PER_CHARACTER - CELL_PADDING_PX
    space = text_px(" ", size, bold)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split():
            width = text_px(word, size, bold)
            needed = width if used == 0 else used + space + width
            if needed <= room:
                used = needed
                continue
            if used:
                lines += 1
            while width > room:  # a word longer than the line is broken where it reaches the edge
                lines += 1
                width -= room
            used = width
    return lines


def line_points(size: float = DEFAULT_SIZE) -> float:
    """The height of one line of text in points."""
    return round(size * LINE_POINTS_PER_SIZE, 2)


def fit_row_heights(ws) -> dict[int, float]:
    """Set the height of every row holding a wrapping cell to its tallest cell's lines × line height (a merged
    cell spanning one row is measured across its columns); returns row → height in points."""
    spans = {
        (r.min_row, r.min_col): range(r.min_col, r.max_col + 1)
        for r in ws.merged_cells.ranges
        if r.min_row == r.max_row
    }

    def width_of(col: int) -> float:
        dim = ws.column_dimensions.get(get_column_letter(col))
        return dim.width if dim is not None and dim.width else DEFAULT_COLUMN_WIDTH

    heights: dict[int, float] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or not cell.alignment.wrap_text or not hasattr(cell, "column"):
                continue
            size = float(cell.font.sz or DEFAULT_SIZE)
            columns = spans.get((cell.row, cell.column), range(cell.column, cell.column + 1))
            width = sum(width_of(c) for c in columns)
            text = f"{cell.value:g}" if isinstance(cell.value, float) else str(cell.value)
            height = wrapped_lines(text, width, size, bool(cell.font.b)) * line_points(size)
            heights[cell.row] = max(heights.get(cell.row, 0.0), height)
    for number, height in heights.items():
        ws.row_dimensions[number].height = height
    return heights
