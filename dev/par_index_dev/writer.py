"""Write forms as units fill them: a header block ('Label: value') above one table. Used by the sample inbox
generator and the tests (and, later, the blank templates)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font


def write_xlsx(
    path: Path, title: str, header: list[tuple[str, object]], columns: list[str], rows: list[list[object]]
) -> Path:
    """Write a filled form as a workbook: title, header lines, then the table."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Biểu mẫu"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    for label, value in header:
        ws.append([f"{label}:", value])
    ws.append([])
    ws.append(columns)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, columns: list[str], rows: list[list[object]]) -> Path:
    """Write a table as CSV (UTF-8 with BOM, as spreadsheets expect)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path
