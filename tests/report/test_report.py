"""The provincial report: workbook cell by cell, the Word report's layout (Decree 30/2020/NĐ-CP) read back from the
file and rendered by LibreOffice to PDF and PNG, and its way to the PPC (reject, rebuild, approve, deliver)."""

import hashlib
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Pt
from openpyxl import load_workbook
from par_index.errors import ReportStateError
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.notify import SmtpSettings
from par_index.phases import evaluate, report_state
from par_index.runtime import Runtime
from par_index.service import (
    assemble_report,
    deliver_report,
    rebuild_report,
    record_report_decision,
    request_report_approval,
    run_campaign,
)
from par_index.store import session_scope
from par_index.store.models import Nominee, ReportBuild, ReportVersion, Score, SurveyRespondent
from par_index.text import vn_number
from par_index_dev import mail_sink
from par_index_dev import sample_data as sd
from sqlalchemy import select
from support.databases import fresh_database
from support.received_mail import read_mails

REPORT_PAGES = 3
# The directive's number and date are inferred in the campaign file; the late units of the nominees' phase are the
# planted ones (sample_data): CTHUE late, STP three people for area 2, STTTT never.
OPENING = (
    "Thực hiện Văn bản số …/UBND-NC1 ngày 20/12/2023 (số, ngày văn bản suy luận) của Ủy ban nhân dân tỉnh Hà "
    "Tĩnh triển khai xác định chỉ số cải cách hành chính của tỉnh năm 2023, Sở Nội vụ báo cáo kết quả tự đánh "
    "giá, chấm điểm Chỉ số cải cách hành chính năm 2023 như sau:"
)
NOMINEES_LATE_LINE = (
    "- Cử công chức đầu mối (Phụ lục IV) (hạn 30/12/2023): Cục Thuế tỉnh Hà Tĩnh (Nộp ngày "
    "03/01/2024); Sở Tư pháp (lĩnh vực 2: 3 người (quy định 01–02)); Sở Thông tin và Truyền thông "
    "(Chưa gửi danh sách công chức đầu mối)."
)
BUILT = datetime(2024, 1, 18, 3, 0, tzinfo=UTC)  # 10:00 on 18/01/2024 in Hà Tĩnh
FORMULA = '=HYPERLINK("http://x.example","bấm")'


@pytest.fixture(scope="module")
def report(tmp_path_factory, campaign):
    """The sample campaign run without a scheduler, one formula-like explanation planted, then a report built."""
    from par_index_dev.sample_data import generate_inbox

    folder = tmp_path_factory.mktemp("report") / "data"
    with pytest.MonkeyPatch.context() as mp:  # this module's data folder while its tests run, restored after
        mp.setenv("PAR_DATA_DIR", str(folder))
        generate_inbox(campaign)
        rt = Runtime(fresh_database(folder, "store"))
        run_campaign(campaign, rt, BUILT)
        with session_scope(rt.store_url) as s:
            score = s.scalars(
                select(Score).where(Score.source == "report", Score.criterion_code == "4.p1.1")
            ).one()
            score.explanation = FORMULA
        result = assemble_report(campaign, rt, BUILT)
        yield rt, folder, result


def _accepted_report_scores(folder: Path, campaign) -> dict[str, Decimal]:
    """Area → the sum of the accepted Appendix II files' scores, read straight from the inbox files."""
    totals: dict[str, Decimal] = {}
    for path in sorted((folder / "inbox" / campaign.id).glob("PL2_*.xlsx")):
        if path.name.endswith("_ban_dau.xlsx"):
            continue
        for record in parse_form(read_sheets(path), campaign).records:
            area = record.criterion.split(".")[0]
            totals[area] = totals.get(area, Decimal(0)) + record.score
    return totals


def test_summary_sheet_cell_by_cell(report, campaign):
    rt, folder, result = report
    wb = load_workbook(result["workbook"])
    assert wb.sheetnames == [
        "Tổng hợp",
        "Bảng điểm",
        "Khảo sát",
        "Sai lệch",
        "Đơn vị chậm",
        "Đầu mối",
        "Lỗi tiếp nhận",
    ]
    ws = wb["Tổng hợp"]
    assert ws["A1"].value == "TỔNG HỢP KẾT QUẢ TỰ ĐÁNH GIÁ — CHỈ SỐ CCHC NĂM 2023 — TỈNH HÀ TĨNH"
    assert ws["A2"].value.startswith("Số liệu đến 18/01/2024 10:00 (giờ Việt Nam).")
    assert "TẠM TÍNH" in ws["A3"].value
    assert [c.value for c in ws[5]] == [
        "Mã",
        "Lĩnh vực",
        "Điểm tự chấm tối đa",
        "Điểm tự chấm",
        "Tỷ lệ (%)",
        "Điểm điều tra XHH tối đa",
        "Điểm điều tra XHH",
        "Nguồn gốc",
    ]
    sums = _accepted_report_scores(folder, campaign)
    catalogue = campaign.catalogue
    for row, area in enumerate(catalogue.areas, 6):
        leaves = [i for i in catalogue.leaves if i.area == area.code]
        self_max = sum(i.max_points for i in leaves if i.method == "self")
        survey_max = sum(i.max_points for i in leaves if i.method == "survey")
        values = [c.value for c in ws[row]]
        assert values[:4] == [area.code, area.name_vi, float(self_max), float(sums.get(area.code, 0))], row
        assert values[4] == round(float(100 * sums.get(area.code, 0) / self_max), 1)
        assert values[5] == float(survey_max) and values[6] == ("Bộ Nội vụ chấm" if survey_max else None)
        assert values[7] == "Có mục tạm tính"
    total_row = 6 + len(catalogue.areas)
    assert [c.value for c in ws[total_row]][1:7] == [
        "Tổng điểm tự chấm (trên 68 điểm)",
        68,
        float(sum(sums.values())),
        round(float(100 * sum(sums.values()) / 68), 1),
        32,
        "Bộ Nội vụ chấm",
    ]
    assert "Bộ Nội vụ chấm, không tự chấm" in ws.cell(total_row + 1, 2).value
    facts = {ws.cell(r, 2).value: ws.cell(r, 3).value for r in range(total_row + 4, total_row + 11)}
    with session_scope(rt.store_url) as s:
        nominees = s.scalars(select(Nominee)).all()
        survey = evaluate(s, campaign, "survey", BUILT)
    expected_rate = round(
        100 * sum(u.done for u in survey.units.values()) / sum(u.expected for u in survey.units.values()), 1
    )
    assert facts["Số cơ quan, đơn vị"] == len(campaign.active_units) == 41
    assert (
        facts["Công chức đầu mối đã cử"]
        == f"{len(nominees)} người của {len({n.unit_code for n in nominees})} đơn vị"
    )
    assert facts["Tỷ lệ lãnh đạo trả lời khảo sát đúng hạn (%)"] == expected_rate
    assert facts["Sai lệch giữa phần mềm và báo cáo chưa xử lý"] == result["open_mismatches"] == 4
    assert facts["Dự toán kinh phí"] == (
        "Dự toán kinh phí triển khai xác định Chỉ số CCHC (Sở Nội vụ chủ trì, phối "
        "hợp Sở Tài chính): đang lập; chưa có số, ngày văn bản."
    )
    [chart] = ws._charts
    assert chart.tagname == "barChart" and len(chart.series) == 2  # maximum and self-score, by area
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
        assert sheet.print_title_rows, sheet.title


def test_survey_sheet_names_who_is_missing_and_charts_completion(report, campaign):
    _, _, result = report
    ws = load_workbook(result["workbook"])["Khảo sát"]
    assert ws["G1"].value == "Người chưa trả lời (đúng hạn)"
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    for unit, missing in sd.SURVEY_INCOMPLETE.items():
        assert len(rows[unit][6].split(", ")) == missing, rows[unit]
        assert rows[unit][4] == round(100 * (rows[unit][2] - missing) / rows[unit][2], 1)
    assert rows["SNV"][6] is None and rows["SNV"][4] == 100.0
    [chart] = ws._charts
    assert chart.type == "bar" and chart.y_axis.scaling.max == 100


def test_formula_like_text_stays_inert_and_provisional_entries_are_marked(report):
    _, _, result = report
    ws = load_workbook(result["workbook"])["Bảng điểm"]
    row = next(r for r in ws.iter_rows(min_row=6) if r[0].value == "4.p1.1")
    assert row[8].value == FORMULA and row[8].data_type == "s"  # text, never a formula
    provenance = {r[0]: r[10] for r in ws.iter_rows(min_row=6, values_only=True) if r[0]}
    assert provenance["2.p1"] == "Tạm tính" and provenance["2"] == "Đã xác nhận"


def _texts(container) -> list[str]:
    return [p.text for p in container.paragraphs]


def test_word_report_layout_per_decree_30(report, campaign):
    _, _, result = report
    doc = Document(result["docx"])
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4 (stored in twips)
    top, bottom, left, right = (
        round(m.mm, 1)
        for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    )
    # the template's margins, within the decree's ranges (top and bottom 20-25, left 30-35, right 15-20 mm)
    assert (top, bottom, left, right) == (20.0, 20.0, 30.0, 15.0)
    assert section.different_first_page_header_footer  # page numbers from page 2
    assert "PAGE" in section.header._element.xml and "PAGE" not in section.first_page_header._element.xml
    normal = doc.styles["Normal"].font
    assert (normal.name, normal.size) == (
        "Times New Roman",
        Pt(14),
    )  # the decree's 13-14 pt, as the template has it
    runs = [run for p in doc.paragraphs for run in p.runs] + [
        run for t in doc.tables for cell in t._cells for p in cell.paragraphs for run in p.runs
    ]
    assert {run.font.name for run in runs} == {"Times New Roman"}  # every run names it (the template's runs)
    body_sizes = {run.font.size for p in doc.paragraphs for run in p.runs if run.text.strip()}
    assert body_sizes == {Pt(14)}, body_sizes
    left, right = doc.tables[0].rows[0].cells
    assert _texts(left) == ["UBND TỈNH HÀ TĨNH", "SỞ NỘI VỤ", "", "Số: …/BC-SNV"]
    assert _texts(right) == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        "Hà Tĩnh, ngày 18 tháng 01 năm 2024",
    ]
    assert right.paragraphs[3].runs[0].italic and left.paragraphs[1].runs[0].bold
    text = _texts(doc)
    for heading in (
        "BÁO CÁO",
        "I. TÌNH HÌNH CHUNG",
        "II. KẾT QUẢ TỰ ĐÁNH GIÁ THEO TỪNG LĨNH VỰC",
        "III. HẠN CHẾ, KHÓ KHĂN VÀ NGUYÊN NHÂN",
        "IV. ĐỀ XUẤT, KIẾN NGHỊ",
    ):
        assert heading in text, heading
    assert "Kính gửi: Ủy ban nhân dân tỉnh." in text
    assert [p for p in text if "(số, ngày văn bản suy luận)" in p] == [
        OPENING
    ]  # the inferred number stays marked
    # the sample's STP wrote difficulties in its Appendix II: section III, by unit, one paragraph a line
    heading = text.index("Khó khăn, vướng mắc, đề xuất của các cơ quan, đơn vị (Phụ lục II):")
    assert text[heading + 1 : heading + 3] == [
        "- Sở Tư pháp: Phần mềm chấm điểm chậm khi tải tài liệu kiểm chứng dung lượng lớn.",
        "Đề xuất Sở Nội vụ tổ chức tập huấn cách cung cấp tài liệu kiểm chứng trên phần mềm.",
    ]
    # late units, by name
    assert [p for p in text if p.startswith("- Cử công chức đầu mối")] == [NOMINEES_LATE_LINE]
    areas = doc.tables[1]
    assert [c.text for c in areas.rows[0].cells] == [
        "TT",
        "Lĩnh vực",
        "Điểm tối đa",
        "Điểm tự chấm",
        "Tỷ lệ (%)",
    ]
    assert len(areas.rows) == 2 + len(campaign.catalogue.areas)
    assert areas.rows[1].cells[1].text == "Công tác chỉ đạo, điều hành cải cách hành chính (có mục tạm tính)"
    total = [c.text for c in areas.rows[-1].cells]
    assert total[1:4] == ["Tổng điểm tự chấm", "68", f"{result['self_total']:g}".replace(".", ",")]
    sign_left, sign_right = doc.tables[2].rows[0].cells
    assert _texts(sign_left)[:2] == ["Nơi nhận:", "- Như trên;"]
    # the signer's titles, room for the signature and seal, then the signer's name in bold (the campaign file)
    assert _texts(sign_right) == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "", "", "", "", "Trần Thanh Giang"]
    assert [run.bold for run in sign_right.paragraphs[-1].runs] == [True]


def test_word_report_sentences_follow_the_data(report, campaign):
    """No unconditional claim: the software's state and the self-score criticism come from the planted faults."""
    _, _, result = report
    text = _texts(Document(result["docx"]))
    leaves = len(campaign.assignment_of)
    on_portal = leaves - 2  # ONLY_IN_REPORT is not on the software; MISSING_EVIDENCE has no evidence there
    owners = list(dict.fromkeys(campaign.assignment_of.values()))
    faulty = {sd.SELF_SCORES_LATE, sd.MISSING_EVIDENCE[0], *(unit for unit, _ in sd.SCORE_MISMATCHES)}
    names = campaign.unit_names
    assert (
        f"{leaves}/{leaves} tiêu chí thành phần tự chấm đã có điểm trong báo cáo của các đơn vị phụ trách; "
        + (
            f"{on_portal}/{leaves} tiêu chí đã được nộp trên phần mềm của Bộ Nội vụ kèm tài liệu kiểm chứng hoặc "
            "giải trình."
        )
        in text
    )
    assert (
        f"{len(owners) - len(faulty)}/{len(owners)} đơn vị đã cập nhật đầy đủ điểm và tài liệu kiểm chứng trên "
        "phần mềm, trùng khớp với báo cáo; còn thiếu: "
        + ", ".join(names[u] for u in owners if u in faulty)
        + "."
    ) in text
    assert not [p for p in text if "được cập nhật trên phần mềm của Bộ Nội vụ" in p]
    late_unit, only_report = sd.ONLY_IN_REPORT
    details = {
        late_unit: f"Phần mềm còn thiếu 1/{list(campaign.assignment_of.values()).count(late_unit)} tiêu chí: "
        f"{only_report}; nộp báo cáo ngày 18/01/2024 (sau hạn)",
        sd.MISSING_EVIDENCE[0]: "1 tiêu chí trên phần mềm chưa có tài liệu kiểm chứng hay giải trình: "
        + sd.MISSING_EVIDENCE[1],
    } | {
        unit: f"Điểm trên phần mềm khác báo cáo ở 1 tiêu chí: {code} (báo cáo {vn_number(report_score)}, "
        f"phần mềm {vn_number(portal_score)})"
        for (unit, code), (report_score, portal_score) in sd.SCORE_MISMATCHES.items()
    }
    assert [p for p in text if p.startswith(f"- {campaign.phase_title('self_scores')}")] == [
        f"- {campaign.phase_title('self_scores')} (hạn 16/01/2024): "
        + "; ".join(f"{names[u]} ({details[u]})" for u in sorted(details))
        + "."
    ]
    # the workbook's criticism sheet says the same, unit by unit
    sheet = load_workbook(result["workbook"])["Đơn vị chậm"]
    assert [
        (r[2], r[4], r[5])
        for r in sheet.iter_rows(min_row=2, values_only=True)
        if r[0] == campaign.phase_title("self_scores")
    ] == [(u, "Chưa đầy đủ", details[u] + ".") for u in sorted(details)]
    # the survey's late leader is named (SURVEY_LATE_UNIT: one respondent completes on 02/01/2024)
    rt = report[0]
    with session_scope(rt.store_url) as s:
        late = evaluate(s, campaign, "survey", BUILT).units[sd.SURVEY_LATE_UNIT]
        respondents = s.scalars(
            select(SurveyRespondent.full_name).where(SurveyRespondent.unit_code == sd.SURVEY_LATE_UNIT)
        ).all()
    assert (late.reason, len(late.late), late.late[0] in respondents) == ("late", 1, True)
    survey_line = next(p for p in text if p.startswith(f"- {campaign.phase_title('survey')}"))
    assert (
        f"{names[sd.SURVEY_LATE_UNIT]} (Hoàn thành {len(respondents) - 1}/{len(respondents)} đúng hạn; trả lời "
        f"sau hạn: {late.late[0]})"
    ) in survey_line


def test_word_report_renders_to_pdf_and_png_with_libreoffice(report, tmp_path):
    _, _, result = report
    assert shutil.which("soffice") and shutil.which("pdftoppm"), (
        "make test installs LibreOffice and poppler-utils"
    )
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            result["docx"],
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / Path(result["docx"]).with_suffix(".pdf").name
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    print(f"{len(pages)} pages; first lines: {[p.strip().splitlines()[0].strip() for p in pages]}")
    assert len(pages) == REPORT_PAGES
    assert "BÁO CÁO" in pages[0] and "ngày 18 tháng 01 năm 2024" in pages[0]
    # the page number heads every page from page 2
    assert [p.strip().splitlines()[0].strip() for p in pages[1:]] == [
        str(n) for n in range(2, REPORT_PAGES + 1)
    ]
    # the last page ends with the signature block: the signer's titles, then (after the room to sign) the name
    last = [line.strip() for line in pages[-1].splitlines() if line.strip()]
    assert [line.split("  ")[-1].strip() for line in last if "GIÁM ĐỐC" in line] == [
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
    ]
    assert last[-1] == "Trần Thanh Giang"
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(tmp_path / "bao_cao_trang")], check=True)
    rendered = sorted(tmp_path.glob("bao_cao_trang-*.png"))
    sizes = [
        struct.unpack(">II", p.read_bytes()[16:24]) for p in rendered
    ]  # the PNG header's width and height
    print(f"rendered pages: {[p.name for p in rendered]} ({sizes} pixels) in {tmp_path}")
    # one PNG a page, each an A4 page at 70 dpi: 210 × 297 mm → 579 × 819 pixels
    assert sizes == [(579, 819)] * REPORT_PAGES


# Titles of "Bảng điểm" that wrap in their column (60 characters, bold for a criterion): two lines of 15 points.
WRAPPED_TITLES = {"1.p3": 30.0, "1.p6": 30.0, "2.p1": 30.0, "3.p3": 30.0}
# Where LibreOffice breaks them: the first line's last word, then the rest alone on the next line of the PDF.
TITLE_BREAKS = {
    "1.p3": ("Kiểm tra công tác CCHC và xử lý vấn đề phát hiện", "qua kiểm tra"),
    "3.p3": (
        "Thực hiện cơ chế một cửa, một cửa liên thông (giải",
        "quyết đúng hạn, số hóa hồ sơ, xin lỗi khi trễ hạn)",
    ),
}


def _render(path: str, tmp_path: Path) -> Path:
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            path,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return tmp_path / Path(path).with_suffix(".pdf").name


def test_workbook_rows_fit_their_wrapped_text_in_libreoffice_pdf(report, campaign, tmp_path):
    _, _, result = report
    wb = load_workbook(result["workbook"])
    ws = wb["Bảng điểm"]
    rows = {ws.cell(r, 1).value: r for r in range(6, ws.max_row + 1)}
    assert {code: ws.row_dimensions[rows[code]].height for code in WRAPPED_TITLES} == WRAPPED_TITLES
    # a title on one line and its row of one line: 1.p3.1 "Ban hành và thực hiện kế hoạch kiểm tra CCHC"
    assert ws.row_dimensions[rows["1.p3.1"]].height == 15.0
    # the header row: "Phần mềm khớp báo cáo", bold in 12 characters, takes four lines ("Phần / mềm / khớp báo / cáo")
    assert ws.row_dimensions[5].height == 60.0
    for code, (first, rest) in TITLE_BREAKS.items():
        assert f"{first} {rest}" == campaign.catalogue.items[code].name_vi

    assert shutil.which("soffice") and shutil.which("pdftoppm"), "make system-deps installs LibreOffice Calc"
    pdf = _render(result["workbook"], tmp_path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for code, (first, rest) in TITLE_BREAKS.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{code} {first} "))
        # the rest of the title has its own line, and the next criterion's line holds nothing of it
        assert lines[at + 1] == rest
        next_code = f"{code}.1"
        next_title = campaign.catalogue.items[next_code].name_vi
        assert lines[at + 2].startswith(f"{next_code} {next_title} Tự chấm ")
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(tmp_path / "bang_tinh_trang")], check=True)
    rendered = sorted(tmp_path.glob("bang_tinh_trang-*.png"))
    sizes = {struct.unpack(">II", p.read_bytes()[16:24]) for p in rendered}
    print(f"rendered pages: {[p.name for p in rendered]} in {tmp_path}")
    assert sizes == {(819, 579)}  # every page A4 landscape at 70 dpi


def test_rejected_then_rebuilt_approved_and_delivered_once(report, campaign, sink):
    rt, _, _ = report
    controller, folder = sink
    rt = Runtime(rt.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example"))
    first = assemble_report(campaign, rt, BUILT)
    assert (
        request_report_approval(campaign, rt, "http://airflow.example/x/required_actions")["mail"] == "sent"
    )
    with pytest.raises(ReportStateError, match="REP002"):
        deliver_report(campaign, rt)
    with pytest.raises(ReportStateError) as refused:  # awaiting the leader: no second build to approve
        rebuild_report(campaign, rt, "manual__early", BUILT)
    assert str(refused.value) == (
        f"[REP006] Chỉ lập lại báo cáo sau khi Lãnh đạo Sở từ chối bản mới nhất (bản lần {first['build']}: "
        "chờ phê duyệt)."
    )
    with pytest.raises(ReportStateError) as no_reason:  # a rejection without a reason is no decision
        record_report_decision(campaign, rt, False, "Giám đốc Sở", datetime(2024, 1, 18, 7, tzinfo=UTC), "  ")
    assert str(no_reason.value) == (
        f"[REP005] Từ chối bản báo cáo lần {first['build']} mà không ghi lý do: chưa ghi nhận quyết định, "
        "bản vẫn chờ phê duyệt. Chọn Từ chối và ghi rõ lý do vào ô “Lý do”."
    )
    with session_scope(rt.store_url) as s:
        kept = s.scalars(select(ReportBuild).where(ReportBuild.number == first["build"])).one()
        assert (kept.status, kept.decided_by, kept.reason) == ("awaiting", None, None)
    rejected = record_report_decision(
        campaign,
        rt,
        False,
        "Giám đốc Sở",
        datetime(2024, 1, 18, 8, tzinfo=UTC),
        "Thiếu giải trình tiêu chí 5.p2.2",
    )
    assert rejected == {
        "build": first["build"],
        "status": "rejected",
        "by": "Giám đốc Sở",
        "at": "2024-01-18T08:00:00+00:00",
        "reason": "Thiếu giải trình tiêu chí 5.p2.2",
        "mail": "sent",
    }
    with pytest.raises(ReportStateError, match="REP001"):  # nothing awaits a decision any more
        record_report_decision(campaign, rt, True, "Giám đốc Sở", datetime(2024, 1, 18, 9, tzinfo=UTC))
    second = rebuild_report(campaign, rt, "manual__rebuild", datetime(2024, 1, 19, 2, tzinfo=UTC))
    assert (second["build"], second["replaces"], second["again"]) == (
        first["build"] + 1,
        first["build"],
        False,
    )
    retried = rebuild_report(campaign, rt, "manual__rebuild", datetime(2024, 1, 19, 2, 5, tzinfo=UTC))
    assert retried == {"build": second["build"], "replaces": first["build"], "again": True}
    with pytest.raises(
        ReportStateError, match=rf"REP006.*\(bản lần {second['build']}: chờ phê duyệt\)\.$"
    ):  # one pending at a time
        rebuild_report(campaign, rt, "manual__twice", datetime(2024, 1, 19, 2, 6, tzinfo=UTC))
    request_report_approval(campaign, rt, "http://airflow.example/y/required_actions")
    record_report_decision(campaign, rt, True, "Giám đốc Sở", datetime(2024, 1, 19, 3, tzinfo=UTC))
    with pytest.raises(ReportStateError, match=rf"REP006.*\(bản lần {second['build']}: đã phê duyệt\)\.$"):
        rebuild_report(campaign, rt, "manual__after", datetime(2024, 1, 19, 3, 30, tzinfo=UTC))
    delivered = deliver_report(campaign, rt, datetime(2024, 1, 19, 4, tzinfo=UTC))
    again = deliver_report(campaign, rt, datetime(2024, 1, 19, 5, tzinfo=UTC))
    assert delivered["mail"] == "sent" and again["mail"] == "already_sent"
    mails = read_mails(folder)
    subjects = [m["Subject"] for m in mails]
    assert sum(s.startswith("[Trình duyệt]") for s in subjects) == 2
    assert sum(s.startswith("[Báo cáo bị từ chối]") for s in subjects) == 1
    [delivery] = [m for m in mails if m["To"].startswith(campaign.contacts.ppc_office.email)]
    attachments = {a.get_filename(): a.get_content() for a in delivery.iter_attachments()}
    assert set(attachments) == {
        f"bao_cao_tu_danh_gia_{campaign.id}.xlsx",
        f"bao_cao_tu_danh_gia_{campaign.id}.docx",
    }
    with session_scope(rt.store_url) as s:
        build = s.scalars(select(ReportBuild).where(ReportBuild.number == second["build"])).one()
        assert (build.status, build.decided_by) == ("delivered", "Giám đốc Sở")
        archived = {
            v.kind: v for v in s.scalars(select(ReportVersion).where(ReportVersion.build_id == build.id))
        }
        for kind in ("workbook", "docx"):
            copy = archived[f"archived_{kind}"]
            assert (
                hashlib.sha256(Path(copy.path).read_bytes()).hexdigest()
                == copy.sha256
                == archived[kind].sha256
            )
            assert hashlib.sha256(attachments[Path(copy.path).name]).hexdigest() == copy.sha256
        assert report_state(s, campaign, datetime(2024, 1, 20, 16, 59, tzinfo=UTC)).complete
        assert not report_state(s, campaign, datetime(2024, 1, 19, 3, 59, tzinfo=UTC)).complete


def test_a_delivery_the_mail_server_refused_is_kept_and_sent_on_the_retry(report, campaign, sink):
    rt, _, _ = report
    controller, folder = sink
    down = SmtpSettings("127.0.0.1", mail_sink._free_port("127.0.0.1"), timeout=2)
    assemble_report(campaign, rt, BUILT)
    record_report_decision(campaign, rt, True, "Giám đốc Sở", BUILT)
    with pytest.raises(ReportStateError, match="REP004"):
        deliver_report(campaign, Runtime(rt.store_url, down))
    with session_scope(rt.store_url) as s:
        build = s.scalars(select(ReportBuild).order_by(ReportBuild.number.desc())).first()
        assert build.status == "approved"  # not delivered yet, but the archived copies are recorded
        assert {
            v.kind for v in s.scalars(select(ReportVersion).where(ReportVersion.build_id == build.id))
        } == {"workbook", "docx", "archived_workbook", "archived_docx"}
    retry = deliver_report(campaign, Runtime(rt.store_url, SmtpSettings("127.0.0.1", controller.port)))
    assert retry["mail"] == "sent" and len(read_mails(folder)) == 1


def test_a_report_changed_after_approval_is_not_delivered(report, campaign):
    rt, _, _ = report
    result = assemble_report(campaign, rt, BUILT)
    record_report_decision(campaign, rt, True, "Giám đốc Sở", BUILT)
    Path(result["docx"]).write_bytes(Path(result["docx"]).read_bytes() + b"\0")
    with pytest.raises(ReportStateError, match="REP003"):
        deliver_report(campaign, rt)


def test_the_approval_task_asks_again_after_a_rejection_without_reason(report, campaign, monkeypatch):
    """Airflow's form cannot require "Lý do" for "Từ chối" only: the task refuses the empty reason after the
    decision (nothing recorded, the same request waits for input again) and records the next answer."""
    from par_index.airflow import runtime as airflow_runtime
    from par_index.airflow.approval import ReportApprovalOperator
    from support.campaigns import HA_TINH_2023

    rt, _, _ = report
    build = assemble_report(campaign, rt, datetime(2024, 1, 19, 8, tzinfo=UTC))["build"]
    monkeypatch.setattr(airflow_runtime, "runtime", lambda: rt)
    operator = ReportApprovalOperator(
        task_id="approve_report", campaign=campaign, campaign_file=str(HA_TINH_2023)
    )
    # "Lý do" may be left empty in the form ("null" in its type): a required field would disable "Phê duyệt" too
    assert (operator.params["reason"], operator.params.get_param("reason").schema) == (
        None,
        {"type": ["null", "string"], "title": "Lý do (bắt buộc khi từ chối)", "maxLength": 2000},
    )
    asked_again = []
    monkeypatch.setattr(operator, "execute", lambda context: asked_again.append(context) or "waiting")
    leader = {"id": "giamdoc", "name": "giamdoc"}
    empty = {
        "chosen_options": ["Từ chối"],
        "params_input": {"reason": " "},
        "responded_at": datetime(2024, 1, 19, 9, tzinfo=UTC),
        "responded_by_user": leader,
    }
    assert operator.execute_complete({"run": 1}, empty) == "waiting"
    assert asked_again == [{"run": 1}]
    with session_scope(rt.store_url) as s:
        kept = s.scalars(select(ReportBuild).where(ReportBuild.number == build)).one()
        assert (kept.status, kept.decided_at, kept.reason) == ("awaiting", None, None)
    answered = empty | {"params_input": {"reason": "Thiếu giải trình tiêu chí 5.p2.2"}}
    result = operator.execute_complete({"run": 1}, answered)
    assert (result["chosen_options"], asked_again) == (["Từ chối"], [{"run": 1}])
    with session_scope(rt.store_url) as s:
        kept = s.scalars(select(ReportBuild).where(ReportBuild.number == build)).one()
        assert (kept.status, kept.reason) == ("rejected", "Thiếu giải trình tiêu chí 5.p2.2")
