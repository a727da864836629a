"""Consolidated workbook: a summary (area subtotals, total out of 68, survey points scored by MoHA, key figures,
budget milestone, chart), the score table in Table 2 order, survey completion with the names still missing (chart),
mismatches, late units, nominees and rejected files. Every value comes from :mod:`par_index.report.figures`; A4
landscape with repeated header rows, each row as tall as its wrapped text; text that Excel could run as a formula is stored as text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.intake.issue import location
from par_index.mismatches import CATEGORY_TITLES
from par_index.phases import REASON_TITLES
from par_index.report.figures import ReportFigures
from par_index.report.row_fit import fit_row_heights
from par_index.store.models import IntakeIssue, Mismatch, Nominee, ReceivedFile
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


def build_workbook(session: Session, figures: ReportFigures, path: Path) -> Path:
    """Write the workbook to ``path`` (atomically: a reader never sees half a file)."""
    campaign, now = figures.campaign, figures.as_of
    wb = Workbook()
    _summary_sheet(wb.active, figures)
    _scores_sheet(wb.create_sheet("Bảng điểm"), figures)
    _survey_sheet(wb.create_sheet("Khảo sát"), figures)
    _mismatch_sheet(wb.create_sheet("Sai lệch"), session, campaign)
    _late_sheet(wb.create_sheet("Đơn vị chậm"), figures)
    _nominee_sheet(wb.create_sheet("Đầu mối"), session, campaign)
    _rejected_sheet(wb.create_sheet("Lỗi tiếp nhận"), session, campaign)
    for ws in wb.worksheets:
        fit_row_heights(ws)
    wb.properties.creator = campaign.report.agency_vi
    wb.properties.title = f"Báo cáo tự đánh giá {campaign.title_vi}"
    wb.properties.created = now.replace(tzinfo=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _title(ws, figures: ReportFigures, title: str) -> None:
    campaign = figures.campaign
    put_cell(
        ws,
        1,
        1,
        f"{title} — CHỈ SỐ CCHC NĂM {campaign.campaign.year} — "
        f"{campaign.campaign.province.name_vi.upper()}"
        + (" (THỬ NGHIỆM)" if campaign.campaign.trial else ""),
        font=Font(bold=True, size=14),
    )
    put_cell(
        ws,
        2,
        1,
        f"Số liệu đến {vn_datetime(figures.as_of.astimezone(campaign.tz))} (giờ Việt Nam). "
        f"{campaign.catalogue.note_vi}",
    )
    if campaign.catalogue.has_provisional:
        put_cell(
            ws,
            3,
            1,
            "Các dòng tô cam là mục TẠM TÍNH (suy luận), chưa đối chiếu Bảng 2 chính thức.",
            font=Font(bold=True, color="C00000"),
        )


def _summary_sheet(ws, figures: ReportFigures) -> None:
    ws.title = "Tổng hợp"
    campaign = figures.campaign
    _title(ws, figures, "TỔNG HỢP KẾT QUẢ TỰ ĐÁNH GIÁ")
    row = _table(
        ws,
        5,
        [
            "Mã",
            "Lĩnh vực",
            "Điểm tự chấm tối đa",
            "Điểm tự chấm",
            "Tỷ lệ (%)",
            "Điểm điều tra XHH tối đa",
            "Điểm điều tra XHH",
            "Nguồn gốc",
        ],
        [8, 60, 14, 12, 10, 14, 18, 14],
    )
    first = row
    for area in figures.areas:
        values = [
            area.code,
            area.name_vi,
            area.self_max,
            area.self_score,
            area.percent,
            area.survey_max,
            "Bộ Nội vụ chấm" if area.survey_max else "",
            "Có mục tạm tính" if area.provisional else "Đã xác nhận",
        ]
        for col, value in enumerate(values, 1):
            cell = put_cell(ws, row, col, value, alignment=WRAP)
            if area.provisional and col == 8:
                cell.fill = PROVISIONAL_FILL
        row += 1
    last = row - 1
    for col, value in enumerate(
        [
            "",
            f"Tổng điểm tự chấm (trên {figures.self_max:g} điểm)",
            figures.self_max,
            figures.self_total,
            round(float(100 * figures.self_total / figures.self_max), 1) if figures.self_max else 0.0,
            figures.survey_max,
            "Bộ Nội vụ chấm",
        ],
        1,
    ):
        put_cell(ws, row, col, value, font=BOLD)
    put_cell(
        ws,
        row + 1,
        2,
        f"Điểm điều tra xã hội học (trên {figures.survey_max:g} điểm): Bộ Nội vụ chấm, không tự chấm",
        font=BOLD,
    )
    row += 3
    late_total = sum(len(v) for v in figures.late.values())
    facts = [
        ("Số cơ quan, đơn vị", len(campaign.active_units)),
        ("Tiêu chí thành phần đã tự chấm", f"{figures.scored}/{len(figures.leaves)}"),
        ("Công chức đầu mối đã cử", f"{figures.nominees} người của {figures.nominee_units} đơn vị"),
        ("Tỷ lệ lãnh đạo trả lời khảo sát đúng hạn (%)", figures.survey_rate),
        ("Sai lệch giữa phần mềm và báo cáo chưa xử lý", figures.open_mismatches),
        ("Lượt đơn vị chậm hoặc chưa đầy đủ (các hạn)", late_total),
        ("Dự toán kinh phí", figures.budget_line),
    ]
    put_cell(ws, row, 1, "Thông tin chung", font=BOLD)
    for label, value in facts:
        row += 1
        put_cell(ws, row, 2, label)
        put_cell(ws, row, 3, value, alignment=WRAP)
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=8)
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "clustered", 0
    chart.title = "Điểm tự chấm theo lĩnh vực so với điểm tối đa"
    chart.y_axis.title, chart.x_axis.title = "Điểm", "Lĩnh vực"
    chart.add_data(
        Reference(ws, min_col=3, max_col=4, min_row=first - 1, max_row=last), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, f"B{row + 2}")


def _scores_sheet(ws, figures: ReportFigures) -> None:
    catalogue = figures.campaign.catalogue
    _title(ws, figures, "BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM")
    row = _table(
        ws,
        5,
        [
            "Mã",
            "Nội dung",
            "Phương pháp",
            "Điểm tối đa",
            "Điểm tự chấm",
            "Điểm trên phần mềm",
            "Phần mềm khớp báo cáo",
            "Tài liệu kiểm chứng",
            "Giải trình",
            "Đơn vị phụ trách",
            "Nguồn gốc",
        ],
        [10, 60, 14, 10, 10, 12, 12, 40, 30, 12, 14],
    )
    totals = {a.code: a.self_score for a in figures.areas}
    for item in catalogue.items.values():
        if item.level == 2:
            totals[item.code] = sum(
                (
                    leaf.report.score
                    for leaf in figures.leaves.values()
                    if leaf.report and leaf.report.score is not None and leaf.code.startswith(item.code + ".")
                ),
                Decimal(0),
            )
    for item in catalogue.items.values():
        method = (
            "Tự chấm" if item.method == "self" else ("Điều tra XHH (Bộ Nội vụ chấm)" if item.method else "")
        )
        values = [item.code, item.name_vi, method, item.max_points]
        leaf = figures.leaves.get(item.code)
        if leaf:
            rep, por = leaf.report, leaf.portal
            agrees = "" if rep is None and por is None else ("Không" if leaf.disagrees else "Có")
            values += [
                rep.score if rep else None,
                por.score if por else None,
                agrees,
                rep.evidence if rep else None,
                rep.explanation if rep else None,
                leaf.unit_code,
            ]
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
    put_cell(ws, row + 1, 2, f"Tổng điểm tự chấm (trên {figures.self_max:g} điểm)", font=BOLD)
    put_cell(ws, row + 1, 4, figures.self_max, font=BOLD)
    put_cell(ws, row + 1, 5, figures.self_total, font=BOLD)
    put_cell(ws, row + 2, 2, "Điểm điều tra xã hội học (Bộ Nội vụ chấm)", font=BOLD)
    put_cell(ws, row + 2, 4, figures.survey_max, font=BOLD)
    put_cell(ws, row + 2, 5, "Bộ Nội vụ chấm", font=BOLD)


def _survey_sheet(ws, figures: ReportFigures) -> None:
    row = _table(
        ws,
        1,
        [
            "Mã đơn vị",
            "Đơn vị",
            "Số người phải trả lời",
            "Đã hoàn thành đúng hạn",
            "Tỷ lệ (%)",
            "Tình trạng",
            "Người chưa trả lời (đúng hạn)",
            "Chi tiết",
        ],
        [10, 40, 12, 12, 10, 18, 50, 60],
    )
    for unit in figures.campaign.active_units:
        s = figures.survey.units[unit.code]
        rate = round(100 * s.done / s.expected, 1) if s.expected else 0.0
        for col, value in enumerate(
            [
                unit.code,
                unit.name_vi,
                s.expected,
                s.done,
                rate,
                REASON_TITLES[s.reason],
                ", ".join(s.missing),
                s.detail,
            ],
            1,
        ):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1
    chart = BarChart()
    chart.type, chart.title = "bar", "Tỷ lệ lãnh đạo trả lời khảo sát theo đơn vị (%)"
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=row - 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=row - 1))
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.legend = None
    chart.height, chart.width = max(8, 0.45 * (row - 2)), 16
    ws.add_chart(chart, "J2")


def _mismatch_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(
        ws,
        1,
        [
            "Mã đơn vị",
            "Mã tiêu chí",
            "Loại sai lệch",
            "Điểm báo cáo",
            "Điểm phần mềm",
            "Chênh lệch",
            "Cần sửa",
        ],
        [10, 12, 30, 10, 10, 10, 80],
    )
    for m in session.scalars(
        select(Mismatch)
        .where(Mismatch.campaign_id == campaign.id)
        .order_by(Mismatch.unit_code, Mismatch.criterion_code, Mismatch.category)
    ):
        for col, value in enumerate(
            [
                m.unit_code,
                m.criterion_code,
                CATEGORY_TITLES.get(m.category, m.category),
                m.report_score,
                m.portal_score,
                m.difference,
                m.message,
            ],
            1,
        ):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _late_sheet(ws, figures: ReportFigures) -> None:
    campaign = figures.campaign
    row = _table(
        ws, 1, ["Nội dung", "Hạn", "Mã đơn vị", "Đơn vị", "Tình trạng", "Chi tiết"], [36, 12, 10, 40, 18, 70]
    )
    for phase, rows in figures.late.items():
        for lu in rows:
            unit = campaign.unit_by_code.get(lu.unit_code)
            for col, value in enumerate(
                [
                    campaign.phase_title(phase),
                    vn_date(campaign.deadline_at(phase)),
                    lu.unit_code,
                    unit.name_vi if unit else lu.unit_code,
                    REASON_TITLES.get(lu.reason, lu.reason),
                    lu.detail,
                ],
                1,
            ):
                put_cell(ws, row, col, value, alignment=WRAP)
            row += 1
    for o in figures.overdue_requests:  # requests past due, not answered (requests.py)
        unit = campaign.unit_by_code.get(o.unit_code)
        for col, value in enumerate(
            [
                f"Yêu cầu {o.label}: {o.kind_title}",
                vn_date(o.due),
                o.unit_code,
                unit.name_vi if unit else o.unit_code,
                "Quá hạn",
                "Chưa trả lời yêu cầu.",
            ],
            1,
        ):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _nominee_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(
        ws,
        1,
        [
            "Mã đơn vị",
            "Họ và tên",
            "Chức vụ",
            "Phòng/Ban",
            "Lĩnh vực phụ trách",
            "Điện thoại",
            "Email",
            "Thành viên Hội đồng thẩm định",
        ],
        [10, 26, 24, 24, 12, 14, 30, 12],
    )
    for n in session.scalars(
        select(Nominee).where(Nominee.campaign_id == campaign.id).order_by(Nominee.unit_code, Nominee.id)
    ):
        for col, value in enumerate(
            [
                n.unit_code,
                n.full_name,
                n.position,
                n.division,
                ", ".join(n.areas),
                n.phone,
                n.email,
                "Có" if n.council_member else "",
            ],
            1,
        ):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1


def _rejected_sheet(ws, session: Session, campaign: Campaign) -> None:
    row = _table(
        ws,
        1,
        ["Tệp", "Nhận lúc", "Mã đơn vị", "Mức", "Mã lỗi", "Vị trí", "Lý do"],
        [36, 16, 10, 10, 8, 30, 80],
    )
    issues = session.execute(
        select(ReceivedFile, IntakeIssue)
        .join(IntakeIssue, IntakeIssue.file_id == ReceivedFile.id)
        .where(ReceivedFile.campaign_id == campaign.id)
        .order_by(ReceivedFile.id, IntakeIssue.id)
    ).all()
    for f, issue in issues:
        where = location(issue.sheet, issue.row, issue.column, issue.cell)
        for col, value in enumerate(
            [
                f.original_name,
                vn_datetime(f.arrived_at.astimezone(campaign.tz)),
                f.unit_code,
                "Lỗi" if issue.severity == "error" else "Cảnh báo",
                issue.code,
                where,
                issue.message,
            ],
            1,
        ):
            put_cell(ws, row, col, value, alignment=WRAP)
        row += 1
