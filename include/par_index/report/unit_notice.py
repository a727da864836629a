"""Per-unit mismatch notice (xlsx): each item where the software and the report disagree, both values, and what
to correct."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from par_index.campaign import Campaign
from par_index.mismatches import CATEGORY_TITLES
from par_index.report.workbook import put_cell
from par_index.text import vn_datetime

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def write_unit_notice(
    campaign: Campaign, unit_code: str, findings: pd.DataFrame, folder: Path, now: datetime
) -> Path:
    """Write the workbook telling one unit which of its scores to correct."""
    unit = campaign.unit_by_code[unit_code]
    wb = Workbook()
    ws = wb.active
    ws.title = "Cần sửa"
    put_cell(ws, 1, 1, f"ĐỐI CHIẾU ĐIỂM TỰ CHẤM — {unit.name_vi.upper()}", font=Font(bold=True, size=13))
    put_cell(
        ws,
        2,
        1,
        "Phần mềm chấm điểm của Bộ Nội vụ phải trùng khớp với báo cáo tự chấm điểm (Phụ lục II). "
        f"Đối chiếu lúc {vn_datetime(now.astimezone(campaign.tz))} (giờ Việt Nam); sửa các mục dưới "
        "đây rồi gửi lại.",
    )
    titles = [
        "Mã tiêu chí",
        "Nội dung",
        "Loại sai lệch",
        "Điểm báo cáo",
        "Điểm phần mềm",
        "Chênh lệch",
        "Cần sửa",
    ]
    for col, (title, width) in enumerate(zip(titles, (12, 50, 28, 12, 12, 10, 80), strict=True), 1):
        put_cell(ws, 4, col, title, font=Font(bold=True), fill=HEADER_FILL)
        ws.column_dimensions[chr(64 + col)].width = width
    items = campaign.catalogue.items
    for row, r in enumerate(findings.sort_values(["criterion", "category"]).itertuples(index=False), 5):
        values = [
            r.criterion,
            items[r.criterion].name_vi if r.criterion in items else "",
            CATEGORY_TITLES.get(r.category, r.category),
        ]
        values += [None if pd.isna(v) else float(v) for v in (r.report_score, r.portal_score, r.difference)]
        values.append(r.message)
        for col, value in enumerate(values, 1):
            put_cell(ws, row, col, value, alignment=Alignment(wrap_text=True, vertical="top"))
    ws.freeze_panes = "A5"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"doi_chieu_{unit_code}.xlsx"
    wb.save(path)
    return path
