"""The directive's addressees as data: the council office among the units, and the start-of-campaign notice to
each member of the appraisal council (Decision 994/QĐ-UBND), sent once."""

import unicodedata

from par_index.notify import SmtpSettings
from par_index.runtime import Runtime
from par_index.service import notify_council, prepare
from par_index.store import session_scope
from par_index.store.models import Notification
from sqlalchemy import select
from support.received_mail import read_mails


def test_the_council_office_is_a_unit_of_its_own_kind(campaign):
    unit = campaign.unit_by_code["VPDBQHHDND"]
    assert (unit.name_vi, unit.kind, unit.status) == (
        "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
        "council_office",
        "confirmed",
    )


def test_the_council_s_members_are_sample_data_marked_as_such(campaign):
    council = campaign.council
    assert (council.decision, council.status, council.members_status) == (
        "Quyết định số 994/QĐ-UBND ngày 28/4/2023 của UBND tỉnh",
        "inferred",
        "sample",
    )
    assert len(council.members) == 15
    assert (council.members[3].name, council.members[3].title_vi, council.members[3].unit) == (
        "Trần Thanh Giang",
        "Phó Giám đốc Sở Nội vụ",
        "SNV",
    )


def test_each_member_is_told_their_role_once(runtime, campaign, sink):
    controller, folder = sink
    rt = Runtime(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example")
    )
    prepare(campaign, rt)
    assert notify_council(campaign, rt) == {"sent": 15}
    assert notify_council(campaign, rt) == {"already_sent": 15}  # a rerun of the task sends nothing again
    mails = read_mails(folder)
    assert sorted(m["To"] for m in mails) == sorted(m.email for m in campaign.council.members)
    [mail] = [m for m in mails if m["To"] == "giang.tt.hd.snv@hatinh.example"]
    assert mail["Subject"] == "[Chỉ số CCHC 2023] Nhiệm vụ của thành viên Hội đồng thẩm định CCHC tỉnh"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert text.startswith(
        "Kính gửi: đồng chí Trần Thanh Giang (Phó Giám đốc Sở Nội vụ)\n\n"
        "Ủy ban nhân dân tỉnh Hà Tĩnh ban hành Văn bản số …/UBND-NC1 ngày 20/12/2023 (số, ngày văn bản suy luận) "
        "về việc triển khai xác định chỉ số cải cách hành chính của tỉnh năm 2023. Văn bản gửi các thành viên Hội "
        "đồng thẩm định CCHC tỉnh (Quyết định số 994/QĐ-UBND ngày 28/4/2023 của UBND tỉnh); đồng chí là thành "
        "viên Hội đồng (Sở Nội vụ).\n\n"
    )
    for paragraph in campaign.council.notice_vi:
        assert f"\n{paragraph}\n" in text and f"<p>{paragraph}</p>" in html
    assert (
        "Các hạn của văn bản:\n"
        "- Cử công chức đầu mối (Phụ lục IV): hạn thứ Bảy, 30/12/2023\n"
        "- Trả lời phiếu khảo sát xã hội học: hạn Chủ nhật, 31/12/2023\n"
        "- Tự chấm điểm và báo cáo (Phụ lục II): hạn thứ Ba, 16/01/2024\n"
        "- Sở Nội vụ trình UBND tỉnh báo cáo tự đánh giá: hạn thứ Bảy, 20/01/2024\n"
    ) in text
    assert "Airflow" not in text + html  # council members cannot open it: the coordinators' contacts instead
    assert "- Phòng Cải cách hành chính, Sở Nội vụ — điện thoại 0239 3855 000" in text
    assert unicodedata.normalize("NFC", text) == text
    with session_scope(rt.store_url) as s:
        keys = s.scalars(select(Notification.key).where(Notification.template == "council_notice")).all()
    assert sorted(keys) == sorted(f"ha_tinh_2023:council_notice:{m.email}" for m in campaign.council.members)


def test_without_mail_configured_the_notices_are_held_then_sent_once(runtime, campaign, sink):
    prepare(campaign, runtime)
    assert notify_council(campaign, runtime) == {"queued": 15}
    controller, folder = sink
    rt = Runtime(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example")
    )
    assert notify_council(campaign, rt) == {"sent": 15}  # the held mail goes out, none rendered twice
    assert notify_council(campaign, rt) == {"already_sent": 15}
    assert len(read_mails(folder)) == 15
