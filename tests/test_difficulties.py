"""Appendix II's "Khó khăn, vướng mắc, đề xuất": what units write is stored with their current report and flows,
grouped by unit, into sections III–IV of the Word report and the coordinators' mail closing the self-score phase."""

import os
from datetime import UTC, datetime, timedelta

from docx import Document
from par_index.intake.inbox import ingest
from par_index.notify import SmtpSettings
from par_index.paths import inbox_dir
from par_index.report.document import build_document, context
from par_index.report.figures import compute
from par_index.runtime import Runtime
from par_index.service import notify_phase_closed, prepare
from par_index.store import queries, session_scope
from par_index_dev.writer import write_xlsx
from support.received_mail import read_mails

COLS = ["Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Tài liệu kiểm chứng"]
LABEL = "Khó khăn, vướng mắc, đề xuất"
STP_TEXT = "1. Phần mềm chậm khi tải tài liệu kiểm chứng.\r\n\r\n2. Đề xuất Sở Nội vụ tổ chức tập huấn."
STC_TEXT = "Đề nghị bố trí kinh phí cho việc số hóa hồ sơ."


def _report(campaign, name: str, unit: str, criterion: str, difficulties: str | None, hours_ago: int):
    header = [("Đơn vị", unit), *([(LABEL, difficulties)] if difficulties is not None else [])]
    maximum = float(campaign.catalogue[criterion].max_points)
    path = write_xlsx(
        inbox_dir(campaign.id) / name,
        "PHỤ LỤC II",
        header,
        COLS,
        [[criterion, "…", maximum, maximum, "Số 1/KH"]],
    )
    when = (datetime.now(UTC) - timedelta(hours=hours_ago)).timestamp()
    os.utime(path, (when, when))


def _stored(runtime, campaign):
    prepare(campaign, runtime)
    _report(campaign, "stp.xlsx", "Sở Tư pháp (STP)", "2.p1.1", STP_TEXT, 5)
    _report(campaign, "stc.xlsx", "Sở Tài chính (STC)", "6.p1.2", STC_TEXT, 5)
    _report(campaign, "vpubnd.xlsx", "Văn phòng UBND tỉnh", "1.p5.1", None, 5)  # without the field
    _report(campaign, "stttt.xlsx", "Sở Thông tin và Truyền thông", "7.p1.1", "Vướng mắc cũ.", 5)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    # STTTT's newer report has the label and white space only: its difficulties are gone with the old report
    _report(campaign, "stttt_v2.xlsx", "Sở Thông tin và Truyền thông", "7.p1.1", " \u00a0\r\n ", 2)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)


def test_difficulties_are_kept_per_unit_from_its_current_report(runtime, campaign):
    _stored(runtime, campaign)
    with session_scope(runtime.store_url) as s:
        assert queries.unit_difficulties(s, campaign) == {
            "STP": "1. Phần mềm chậm khi tải tài liệu kiểm chứng.\n\n2. Đề xuất Sở Nội vụ tổ chức tập huấn.",
            "STC": STC_TEXT,
        }  # in the campaign file's unit order


def test_difficulties_flow_into_sections_iii_and_iv_grouped_by_unit(runtime, campaign, tmp_path):
    _stored(runtime, campaign)
    with session_scope(runtime.store_url) as s:
        figures = compute(s, campaign, datetime(2024, 1, 18, 3, tzinfo=UTC))
    made = context(figures)
    heading = made["limitations"].index("Khó khăn, vướng mắc, đề xuất của các cơ quan, đơn vị (Phụ lục II):")
    assert made["limitations"][heading : heading + 4] == [
        "Khó khăn, vướng mắc, đề xuất của các cơ quan, đơn vị (Phụ lục II):",
        "- Sở Tư pháp: 1. Phần mềm chậm khi tải tài liệu kiểm chứng.",
        "2. Đề xuất Sở Nội vụ tổ chức tập huấn.",
        "- Sở Tài chính: Đề nghị bố trí kinh phí cho việc số hóa hồ sơ.",
    ]
    assert made["proposals"] == [
        *campaign.report.proposals_vi,
        "Đề nghị UBND tỉnh xem xét, giải quyết các khó khăn, vướng mắc, đề xuất của 2 cơ quan, đơn vị nêu tại "
        "mục III.",
    ]
    paragraphs = [p.text for p in Document(build_document(figures, tmp_path / "bao_cao.docx")).paragraphs]
    iii, iv = (
        paragraphs.index("III. HẠN CHẾ, KHÓ KHĂN VÀ NGUYÊN NHÂN"),
        paragraphs.index("IV. ĐỀ XUẤT, KIẾN NGHỊ"),
    )
    assert paragraphs.index("- Sở Tư pháp: 1. Phần mềm chậm khi tải tài liệu kiểm chứng.") in range(iii, iv)
    assert paragraphs[iv + 1 + len(campaign.report.proposals_vi)] == made["proposals"][-1]


def test_the_self_score_phase_mail_lists_them_by_unit(runtime, campaign, sink):
    controller, folder = sink
    rt = Runtime(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example")
    )
    _stored(rt, campaign)
    notify_phase_closed(campaign, rt, "self_scores", datetime(2024, 1, 17, 1, tzinfo=UTC))
    [mail] = read_mails(folder)
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert (
        "Khó khăn, vướng mắc, đề xuất của các đơn vị (Phụ lục II; đưa vào mục III–IV của báo cáo):\n\n"
        "Sở Tư pháp (STP):\n1. Phần mềm chậm khi tải tài liệu kiểm chứng.\n\n2. Đề xuất Sở Nội vụ tổ chức tập huấn.\n\n"
        "Sở Tài chính (STC):\nĐề nghị bố trí kinh phí cho việc số hóa hồ sơ.\n"
    ) in text
    assert (
        "<p><b>Sở Tư pháp (STP):</b><br>1. Phần mềm chậm khi tải tài liệu kiểm chứng.<br>\n<br>\n"
        "2. Đề xuất Sở Nội vụ tổ chức tập huấn.</p>"
    ) in html
    assert "Vướng mắc cũ." not in text  # STTTT's superseded report


def test_other_phases_mail_no_difficulties(runtime, campaign, sink):
    controller, folder = sink
    rt = Runtime(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example")
    )
    _stored(rt, campaign)
    notify_phase_closed(campaign, rt, "nominees", datetime(2024, 1, 17, 1, tzinfo=UTC))
    [mail] = read_mails(folder)
    assert "Khó khăn, vướng mắc" not in mail.get_body(("plain",)).get_content()
