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

    def where(self) -> str:
        parts = [p for p in (f"trang {self.sheet}" if self.sheet else "", f"ô {self.cell}" if self.cell else "",
                             f"dòng {self.row}" if self.row and not self.cell else "",
                             f"cột “{self.column}”" if self.column else "") if p]
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"[{self.code}] {where + ': ' if where else ''}{self.message}"
