"""Consolidated workbook: score table in Table 2 order with subtotals, survey completion, mismatches, late units,
nominees and rejected files. Every value comes from the campaign store."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from par_index.campaign import PHASE_TITLES, Campaign
from par_index.intake.issue import location
from par_index.phases import REASON_TITLES, evaluate
from par_index.reconcile import CATEGORY_TITLES, DISAGREEMENTS
from par_index.store.models import (
    IntakeIssue,
    LateUnit,
    Mismatch,
    Nominee,
    ReceivedFile,
    ReportVersion,
    Score,
)
from par_index.text import vn_date, vn_datetime

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
AREA_FILL = PatternFill("solid", fgColor="FFF2CC")
PROVISIONAL_FILL = PatternFill("solid", fgColor="FCE4D6")
WRAP = Alignment(wrap_text=True, vertical="top")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def put_cell(ws, row: int, col: int, value, **style):
    """Write a cell; text that Excel could run as a formula is stored as plain text."""
    if isinstance(value, Decimal):
        value = float(value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def _table(ws, start_row: int, headers: list[str], widths: list[int]) -> int:
    for col, (title, width) in enumerate(zip(headers, widths, strict=True), 1):
        put_cell(ws, start_row, col, title, font=BOLD, fill=HEADER_FILL, alignment=WRAP)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=start_row + 1, column=1)
    ws.print_title_rows = f"{start_row}:{start_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return start_row + 1


def build_workbook(session: Session, campaign: Campaign, out_dir: Path, now: datetime | None = None) -> Path:
    now = now or datetime.now(UTC)
    wb = Workbook()
    _scores_sheet(wb.active, session, campaign, now)
    _survey_sheet(wb.create_sheet("Khảo sát"), session, campaign, now)
    _mismatch_sheet(wb.create_sheet("Sai lệch"), session, campaign)
    _late_sheet(wb.create_sheet("Đơn vị chậm"), session, campaign)
    _nominee_sheet(wb.create_sheet("Đầu mối"), session, campaign)
    _rejected_sheet(wb.create_sheet("Lỗi tiếp nhận"), session, campaign)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx"
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    session.add(ReportVersion(campaign_id=campaign.id, kind="workbook", path=str(path), sha256=digest,
                              created_at=now))
    session.flush()
    return path


def _scores_sheet(ws, session: Session, campaign: Campaign, now: datetime) -> None:
    ws.title = "Bảng điểm"
    catalogue = campaign.catalogue
    put_cell(ws, 1, 1, f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CCHC NĂM {campaign.campaign.year} — "
                   f"{campaign.campaign.province.name_vi.upper()}", font=Font(bold=True, size=14))
    put_cell(ws, 2, 1, f"Lập lúc {vn_datetime(now.astimezone(campaign.tz))} (giờ Việt Nam). {catalogue.note_vi}")
    if catalogue.has_provisional:
        put_cell(ws, 3, 1, "Các dòng tô cam là mục TẠM TÍNH (suy luận), chưa đối chiếu Bảng 2 chính thức.",
             font=Font(bold=True, color="C00000"))
    scores = session.scalars(select(Score).where(Score.campaign_id == campaign.id)).all()
    report = {s.criterion_code: s for s in scores if s.source == "report"}
    portal = {s.criterion_code: s for s in scores if s.source == "portal"
              and campaign.assignment_of.get(s.criterion_code) == s.unit_code}
    open_keys = {m.criterion_code for m in session.scalars(select(Mismatch).where(
        Mismatch.campaign_id == campaign.id, Mismatch.category.in_(DISAGREEMENTS)))}
    row = _table(ws, 5, ["Mã", "Nội dung", "Phương pháp", "Điểm tối đa", "Điểm tự chấm", "Điểm trên phần mềm",
                         "Phần mềm khớp báo cáo", "Tài liệu kiểm chứng", "Giải trình", "Đơn vị phụ trách",
                         "Nguồn gốc"], [10, 60, 14, 10, 10, 12, 12, 40, 30, 12, 14])
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for leaf in catalogue.self_scored_leaves:
        if leaf.code in report and report[leaf.code].score is not None:
            for prefix in _prefixes(leaf.code):
                totals[prefix] += report[leaf.code].score
    for item in catalogue.items.values():
        method = "Tự chấm" if item.method == "self" else ("Điều tra XHH (Bộ Nội vụ chấm)" if item.method else "")
        rep, por = report.get(item.code), portal.get(item.code)
        values = [item.code, item.name_vi, method, item.max_points]
        if item.is_leaf and item.method == "self":
            agrees = "" if rep is None and por is None else (
                "Không" if item.code in open_keys else "Có")
            values += [rep.score if rep else None, por.score if por else None, agrees,
                       rep.evidence if rep else None, rep.explanation if rep else None,
                       campaign.assignment_of.get(item.code)]
        elif item.method == "survey":
            values += ["Bộ Nội vụ chấm", None, None, None, None, None]
        else:
            values += [totals.get(item.code, Decimal(0)), None, None, None, None, None]
        values.append("Tạm tính" if item.provisional else "Đã xác nhận")
        for col, value in enumerate(values, 1):
            cell = put_cell(ws, row, col, value, alignment=WRAP)
            if item.level == 1:
                cell.font, cell.fill = BOLD, AREA_FILL
            elif item.level == 2:
                cell.font = BOLD
            if item.provisional and col == 11:
                cell.fill = PROVISIONAL_FILL
        row += 1
    self_total = sum(totals.get(a.code, Decimal(0)) for a in catalogue.areas)
    put_cell(ws, row + 1, 2, f"Tổng điểm tự chấm (trên {catalogue.totals.get('self_points', '')} điểm)", font=BOLD)
    put_cell(ws, row + 1, 4, catalogue.totals.get("self_points"), font=BOLD)
    put_cell(ws, row + 1, 5, self_total, font=BOLD)
    put_cell(ws, row + 2, 2, "Điểm điều tra xã hội học (Bộ Nội vụ chấm)", font=BOLD)
    put_cell(ws, row + 2, 4, catalogue.totals.get("survey_points"), font=BOLD)
    put_cell(ws, row + 2, 5, "Bộ Nội vụ chấm", font=BOLD)


def _prefixes(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _survey_sheet(ws, session: Session, campaign: Campaign, now: datetime) -> None:
    state = evaluate(session, campaign, "survey", now)
    row = _table(ws, 1, ["Mã đơn vị", "Đơn vị", "Số người phải trả lời", "Đã hoàn thành đúng hạn", "Tỷ lệ (%)",
                         "Tình trạng", "Chi tiết"], [10, 40, 12, 12, 10, 18, 70])
    for unit in campaign.active_units:
        s = state.units[unit.code]
        rate = round(100 * s.done / s.expected, 1) if s.expected else 0.0
        for col, value in enumerate([unit.code, unit.name_vi, s.expected, s.done, rate, REASON_TITLES[s.reason],
                                     s.detail], 1):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _mismatch_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(ws, 1, ["Mã đơn vị", "Mã tiêu chí", "Loại sai lệch", "Điểm báo cáo", "Điểm phần mềm", "Chênh lệch",
                         "Cần sửa"], [10, 12, 30, 10, 10, 10, 80])
    for m in session.scalars(select(Mismatch).where(Mismatch.campaign_id == campaign.id)
                             .order_by(Mismatch.unit_code, Mismatch.criterion_code, Mismatch.category)):
        for col, value in enumerate([m.unit_code, m.criterion_code, CATEGORY_TITLES.get(m.category, m.category),
                                     m.report_score, m.portal_score, m.difference, m.message], 1):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _late_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(ws, 1, ["Nội dung", "Hạn", "Mã đơn vị", "Đơn vị", "Tình trạng", "Chi tiết"],
                 [36, 12, 10, 40, 18, 70])
    order = list(PHASE_TITLES)
    late = sorted(session.scalars(select(LateUnit).where(LateUnit.campaign_id == campaign.id)),
                  key=lambda lu: (order.index(lu.phase), lu.unit_code))
    for lu in late:
        unit = campaign.unit_by_code.get(lu.unit_code)
        for col, value in enumerate([PHASE_TITLES[lu.phase], vn_date(campaign.deadline_at(lu.phase)), lu.unit_code,
                                     unit.name_vi if unit else lu.unit_code, REASON_TITLES.get(lu.reason, lu.reason),
                                     lu.detail], 1):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _nominee_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(ws, 1, ["Mã đơn vị", "Họ và tên", "Chức vụ", "Phòng/Ban", "Lĩnh vực phụ trách", "Điện thoại",
                         "Email", "Thành viên Hội đồng thẩm định"], [10, 26, 24, 24, 12, 14, 30, 12])
    for n in session.scalars(select(Nominee).where(Nominee.campaign_id == campaign.id)
                             .order_by(Nominee.unit_code, Nominee.id)):
        for col, value in enumerate([n.unit_code, n.full_name, n.position, n.division, ", ".join(n.areas), n.phone,
                                     n.email, "Có" if n.council_member else ""], 1):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _rejected_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(ws, 1, ["Tệp", "Nhận lúc", "Mã đơn vị", "Mức", "Mã lỗi", "Vị trí", "Lý do"],
                 [36, 16, 10, 10, 8, 30, 80])
    issues = session.execute(select(ReceivedFile, IntakeIssue).join(IntakeIssue, IntakeIssue.file_id == ReceivedFile.id)
                             .where(ReceivedFile.campaign_id == campaign.id)
                             .order_by(ReceivedFile.id, IntakeIssue.id)).all()
    for f, issue in issues:
        where = location(issue.sheet, issue.row, issue.column, issue.cell)
        for col, value in enumerate([f.original_name, vn_datetime(f.arrived_at.astimezone(campaign.tz)), f.unit_code,
                                     "Lỗi" if issue.severity == "error" else "Cảnh báo", issue.code, where,
                                     issue.message], 1):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1
