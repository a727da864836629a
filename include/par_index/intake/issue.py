"""A problem found while reading a file: stable code, Vietnamese message, and where it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Issue:
    """One problem, located as precisely as possible, with a stable code and a Vietnamese message."""

    code: str
    message: str
    severity: str = "error"
    sheet: str | None = None
    row: int | None = None  # 1-based, as Excel shows it
    column: str | None = None  # the column's title as written in the form
    cell: str | None = None  # A1 reference, where one cell is at fault
    unit: str | None = None  # a multi-unit file's row: the unit it concerns
    criterion: str | None = None  # … and the criterion

    def where(self) -> str:
        """Where the issue is (sheet, row, column, cell), in Vietnamese."""
        return location(self.sheet, self.row, self.column, self.cell)

    def __str__(self) -> str:
        """The issue with its code and place."""
        where = self.where()
        return f"[{self.code}] {where + ': ' if where else ''}{self.message}"


def location(sheet: str | None, row: int | None, column: str | None, cell: str | None) -> str:
    """“trang Biểu mẫu, ô E8, cột “Điểm tự chấm”” — where a problem is, as a clerk finds it in Excel."""
    parts = [
        f"trang {sheet}" if sheet else "",
        f"ô {cell}" if cell else "",
        f"dòng {row}" if row and not cell else "",
        f"cột “{column}”" if column else "",
    ]
    return ", ".join(p for p in parts if p)
