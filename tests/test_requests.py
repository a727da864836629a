"""Requests ("yêu cầu", issue 18 part 2): validation with every problem at once, the per-campaign number, the
due day on a working day, idempotent creation, the mail to each recipient unit, answers recognised by file name."""

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from par_index import requests
from par_index.errors import RequestError
from par_index.notify import SmtpSettings
from par_index.runtime import Runtime
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import Nominee, Notification, ReceivedFile, RequestRecipient, RequestRow
from sqlalchemy import func, select
from support.received_mail import read_mails

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2023, 12, 25, 9, 0, tzinfo=TZ)  # a Monday
COORDINATOR = "cchc.snv@hatinh.example"
EVIDENCE = {
    "requester": COORDINATOR,
    "recipients": ["STP", "STC"],
    "kind": "evidence",
    "criteria": ["1.p1.1", "1.p2.1"],
    "text": "Đề nghị cung cấp tài liệu kiểm chứng cho các tiêu chí dưới đây.",
    "due": "2024-01-05",
}


@pytest.fixture
def store(runtime, campaign):
    prepare(campaign, runtime)
    return runtime


def _create(rt, campaign, form, now=NOW):
    with session_scope(rt.store_url) as s:
        return requests.create(s, campaign, form, now)


def _nominee(rt, campaign, unit_code, email, name):
    with session_scope(rt.store_url) as s:
        f = ReceivedFile(
            campaign_id=campaign.id,
            sha256="0" * 64,
            original_name=f"phu_luc_iv_{unit_code}.xlsx",
            archived_as="x",
            size_bytes=1,
            arrived_at=NOW,
            registered_at=NOW,
            form_kind="nominees",
            unit_code=unit_code,
            status="accepted",
        )
        s.add(f)
        s.flush()
        s.add(
            Nominee(
                campaign_id=campaign.id,
                unit_code=unit_code,
                file_id=f.id,
                full_name=name,
                position="Chuyên viên",
                areas=["6"],
                email=email,
                council_member=False,
            )
        )


def test_labels_and_numbers_in_file_names():
    assert requests.label(1) == "YC-01"
    assert requests.label(12) == "YC-12"
    assert requests.numbers_in("tra loi YC-01.pdf") == [1]
    assert requests.numbers_in("YC01_STC.docx") == [1]
    assert requests.numbers_in("Trả lời yc 3 và YC_12.xlsx") == [3, 12]
    assert requests.numbers_in("thư mục/YC-02 (bản sửa).docx") == [2]
    assert requests.numbers_in("Phu_luc_II_STC.xlsx") == []
    assert requests.numbers_in("bicycle 5.pdf") == []  # "yc" inside a word is not a request number
    assert requests.numbers_in("YC-00.pdf") == []


def test_a_valid_request_is_numbered_per_campaign_and_tracked_per_unit(store, campaign):
    made = _create(store, campaign, EVIDENCE)
    assert (made.number, made.label, made.created, made.due, made.due_note) == (
        1,
        "YC-01",
        True,
        date(2024, 1, 5),
        None,
    )
    again = _create(store, campaign, dict(EVIDENCE, recipients=["STC", "STP"]))  # same request, other order
    assert (again.number, again.created) == (1, False)
    second = _create(store, campaign, dict(EVIDENCE, recipients=["SKHDT"]))
    assert (second.label, second.created) == ("YC-02", True)
    with session_scope(store.store_url) as s:
        row = requests.by_number(s, campaign, 1)
        assert (row.requester_name, row.requester_unit, row.criteria) == (
            "Phòng Cải cách hành chính, Sở Nội vụ",
            "SNV",
            ["1.p1.1", "1.p2.1"],
        )
        assert [r.unit_code for r in requests.recipients_of(s, row)] == ["STC", "STP"]
        assert s.scalar(select(func.count()).select_from(RequestRow)) == 2


def test_a_due_day_off_moves_to_the_next_working_day_with_a_note(store, campaign):
    made = _create(store, campaign, dict(EVIDENCE, due="30/12/2023"))  # Saturday, then Sunday and New Year
    assert made.due == date(2024, 1, 2)
    assert made.due_note == (
        "Hạn thứ Bảy, 30/12/2023 là ngày nghỉ: chuyển sang ngày làm việc kế tiếp, thứ Ba, 02/01/2024."
    )


def test_every_problem_is_reported_at_once_and_nothing_is_stored(store, campaign):
    bad = {
        "requester": "ai.do@hatinh.example",
        "recipients": ["STP", "SXX"],
        "kind": "evidence",
        "criteria": ["1.p1.1", "9.9"],
        "text": "   ",
        "due": "2023-12-22",
        "attachment": "khong_co.pdf",
    }
    with pytest.raises(RequestError) as caught:
        _create(store, campaign, bad)
    folder = requests.requests_dir(campaign)
    assert caught.value.message == (
        "Yêu cầu không hợp lệ, chưa được lưu:\n"
        "- [REQ001] Người yêu cầu: “ai.do@hatinh.example” không phải điều phối viên của chiến dịch hay công chức "
        "đầu mối (Phụ lục IV) của đơn vị chủ trì lĩnh vực.\n"
        "- [REQ002] Đơn vị nhận: không có đơn vị mã SXX trong chiến dịch.\n"
        "- [REQ004] Tiêu chí: mã 9.9 không có trong bộ tiêu chí par_province_2022.\n"
        "- [REQ005] Nội dung: chưa nhập nội dung yêu cầu.\n"
        "- [REQ006] Hạn trả lời: ngày 22/12/2023 đã qua (hôm nay là 25/12/2023).\n"
        f"- [REQ007] Tệp đính kèm: không có tệp “khong_co.pdf” trong thư mục {folder}."
    )
    with session_scope(store.store_url) as s:
        assert s.scalar(select(func.count()).select_from(RequestRow)) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requester": ""}, "[REQ001] Người yêu cầu: chưa nhập hộp thư của người yêu cầu."),
        ({"recipients": []}, "[REQ002] Đơn vị nhận: chưa chọn đơn vị nhận."),
        ({"kind": ""}, "[REQ003] Loại yêu cầu: chưa chọn loại yêu cầu."),
        (
            {"kind": "gift"},
            "[REQ003] Loại yêu cầu: “gift” không phải loại yêu cầu; chọn một trong: evidence, task, budget, "
            "funding_advice, other.",
        ),
        ({"criteria": []}, "[REQ004] Tiêu chí: yêu cầu tài liệu kiểm chứng phải nêu tiêu chí."),
        ({"text": "x" * 4001}, "[REQ005] Nội dung: dài 4001 ký tự, tối đa 4000."),
        ({"due": ""}, "[REQ006] Hạn trả lời: chưa nhập hạn trả lời."),
        (
            {"due": "31/02/2024"},
            "[REQ006] Hạn trả lời: “31/02/2024” không phải ngày (nhập theo dạng dd/mm/yyyy).",
        ),
        (  # the last deadline of the directive: SNV's report to the PPC, 20/01/2024
            {"due": "22/01/2024"},
            "[REQ006] Hạn trả lời: ngày 22/01/2024 sau hạn cuối của chiến dịch (20/01/2024): sau hạn đó hệ thống "
            "không còn nhắc việc; chọn một ngày đến hết hạn cuối.",
        ),
        (
            {"attachment": "../bi_mat.pdf"},
            "[REQ007] Tệp đính kèm: “../bi_mat.pdf” nằm ngoài thư mục {folder}.",
        ),
    ],
)
def test_each_bad_field_has_its_message(store, campaign, change, message):
    with session_scope(store.store_url) as s:
        problems = requests.validate(s, campaign, EVIDENCE | change, NOW.date())
    assert [str(p) for p in problems] == [message.format(folder=requests.requests_dir(campaign))]


def test_attachment_size_limits(store, campaign):
    folder = requests.requests_dir(campaign)
    folder.mkdir(parents=True)
    (folder / "rong.pdf").write_bytes(b"")
    with open(folder / "lon.pdf", "wb") as handle:
        handle.truncate(requests.MAX_ATTACHMENT_BYTES + 1)
    with session_scope(store.store_url) as s:
        empty = requests.validate(s, campaign, EVIDENCE | {"attachment": "rong.pdf"}, NOW.date())
        large = requests.validate(s, campaign, EVIDENCE | {"attachment": "lon.pdf"}, NOW.date())
    assert [str(p) for p in empty] == ["[REQ007] Tệp đính kèm: tệp “rong.pdf” rỗng."]
    assert [str(p) for p in large] == ["[REQ007] Tệp đính kèm: tệp “lon.pdf” nặng 20.0 MB, tối đa 20 MB."]


def test_a_nominee_of_an_area_owning_unit_may_ask_others_may_not(store, campaign):
    _nominee(store, campaign, "STC", "nguyen.tc@hatinh.example", "Nguyễn Thị Tài Chính")
    _nominee(store, campaign, "SYT", "le.yt@hatinh.example", "Lê Văn Y Tế")  # SYT owns no area
    budget = {
        "requester": "nguyen.tc@hatinh.example",
        "recipients": ["SNV"],
        "kind": "budget",
        "text": "Đề nghị Sở Nội vụ gửi dự thảo dự toán kinh phí.",
        "due": date(2024, 1, 10),
    }
    made = _create(store, campaign, budget)
    with session_scope(store.store_url) as s:
        row = requests.by_number(s, campaign, made.number)
        assert (row.requester_name, row.requester_unit, row.criteria) == ("Nguyễn Thị Tài Chính", "STC", [])
        problems = requests.validate(s, campaign, budget | {"requester": "le.yt@hatinh.example"}, NOW.date())
    assert [p.code for p in problems] == ["REQ001"]


def test_the_request_is_mailed_once_to_each_unit_with_the_requester_in_copy(store, campaign, sink):
    controller, folder = sink
    rt = Runtime(store.store_url, SmtpSettings("127.0.0.1", controller.port, sender=COORDINATOR))
    attachments = requests.requests_dir(campaign)
    attachments.mkdir(parents=True)
    (attachments / "mau_tai_lieu.pdf").write_bytes(b"%PDF-1.4 mau")
    made = requests.submit(campaign, rt, EVIDENCE | {"attachment": "mau_tai_lieu.pdf"}, NOW)
    (attachments / "mau_tai_lieu.pdf").write_bytes(b"changed after the request was made")
    assert made == {"number": 1, "label": "YC-01", "created": True, "due": "2024-01-05", "due_note": None}
    assert requests.send(campaign, rt, 1, NOW) == {"label": "YC-01", "mail": {"sent": 2}}
    assert requests.send(campaign, rt, 1, NOW) == {"label": "YC-01", "mail": {"already_sent": 2}}
    mails = read_mails(folder)
    assert sorted(m["To"] for m in mails) == [
        "stc@hatinh.example, cchc.snv@hatinh.example",
        "stp@hatinh.example, cchc.snv@hatinh.example",
    ]
    [mail] = [m for m in mails if m["To"].startswith("stc@")]
    assert mail["Subject"] == (
        "[Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh] Yêu cầu YC-01: Cung cấp tài liệu kiểm chứng cho tiêu chí (mục 2a) "
        "— hạn 05/01/2024"
    )
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert unicodedata.normalize("NFC", text) == text
    assert text.startswith(
        "Kính gửi: Sở Tài chính\n\n"
        "Đơn vị nhận được yêu cầu số YC-01 của Phòng Cải cách hành chính, Sở Nội vụ: Cung cấp tài liệu kiểm "
        "chứng cho tiêu chí (mục 2a).\n\n"
        "Tiêu chí:\n"
        "- 1.p1.1. Ban hành kế hoạch CCHC năm đúng thời hạn\n"
        "- 1.p2.1. Báo cáo CCHC định kỳ đầy đủ, đúng hạn\n\n"
        "Nội dung: Đề nghị cung cấp tài liệu kiểm chứng cho các tiêu chí dưới đây.\n\n"
        "Hạn trả lời: thứ Sáu, 05/01/2024.\n\n"
        "Tài liệu kèm theo: mau_tai_lieu.pdf (đính kèm thư này).\n\n"
        "Cách trả lời: gửi tệp trả lời (mọi định dạng) về Sở Nội vụ qua Hệ thống quản lý văn bản của tỉnh như "
        "các biểu mẫu khác; tên tệp phải có số yêu cầu “YC-01”, ví dụ “YC-01_STC.pdf”."
    )
    [part] = list(mail.iter_attachments())
    assert (part.get_filename(), part.get_content()) == ("mau_tai_lieu.pdf", b"%PDF-1.4 mau")
    with session_scope(rt.store_url) as s:
        keys = s.scalars(select(Notification.key).where(Notification.template == "request")).all()
    assert sorted(keys) == ["ha_tinh_2023:request:YC-01:STC", "ha_tinh_2023:request:YC-01:STP"]


def test_answers_are_recorded_once_per_unit(store, campaign):
    _create(store, campaign, EVIDENCE)
    _create(store, campaign, dict(EVIDENCE, recipients=["SKHDT"], due="2024-01-08"))
    at = datetime(2024, 1, 3, 10, 0, tzinfo=TZ)
    with session_scope(store.store_url) as s:
        first = requests.record_answer(s, campaign, "tra loi YC-01.pdf", "STC", None, at)
        only = requests.record_answer(s, campaign, "yc2 - so KHDT.docx", None, None, at)
        unknown = requests.record_answer(s, campaign, "YC-07.pdf", "STC", None, at)
        unresolved = requests.record_answer(s, campaign, "YC-01.pdf", None, None, at)
        again = requests.record_answer(s, campaign, "YC01_STC.docx", "STC", None, at)
        still_open = requests.open_requests(s, campaign, date(2024, 1, 8))
    assert (first.answered, first.unknown, first.unresolved) == ([("YC-01", "STC")], [], [])
    assert only.answered == [("YC-02", "SKHDT")]
    assert (unknown.answered, unknown.unknown) == ([], ["YC-07"])
    assert (unresolved.answered, unresolved.unresolved) == ([], ["YC-01"])
    assert again.answered == []  # already answered: a second file changes nothing
    assert [(o.label, o.unit_code, o.due, o.overdue) for o in still_open] == [
        ("YC-01", "STP", date(2024, 1, 5), True)
    ]
    with session_scope(store.store_url) as s:
        answered = s.scalars(
            select(RequestRecipient.unit_code).where(RequestRecipient.answered_at.is_not(None))
        ).all()
    assert sorted(answered) == ["SKHDT", "STC"]


def test_the_request_dag_is_a_vietnamese_form_of_two_tasks(campaign):
    from pathlib import Path

    from par_index.airflow.dag_factory import build_request_dag
    from support.campaigns import HA_TINH_2023

    dag = build_request_dag(campaign, Path(HA_TINH_2023))
    assert (dag.dag_id, dag.dag_display_name, dag.schedule) == (
        "par_ha_tinh_2023_request",
        "Gửi yêu cầu — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
        None,
    )
    assert sorted(dag.tags) == ["2023", "ha_tinh", "par-index", "request"]
    assert [(t.task_id, t.task_display_name) for t in dag.topological_sort()] == [
        ("store_request", "Kiểm tra và lưu yêu cầu"),
        ("mail_request", "Gửi thư yêu cầu đến đơn vị"),
    ]
    params = dag.params
    assert list(params.keys()) == ["requester", "recipients", "kind", "criteria", "text", "due", "attachment"]
    kind = params.get_param("kind").schema
    assert kind["enum"] == list(requests.KINDS)
    assert kind["values_display"] == requests.KINDS  # one list: par_index.phase_registry
    recipients = params.get_param("recipients").schema
    assert recipients["examples"] == [u.code for u in campaign.active_units]
    assert recipients["values_display"]["STC"] == "Sở Tài chính (STC)"
    assert params.get_param("due").schema["format"] == "date"


def _drop(campaign, name: str, content: bytes = b"%PDF-1.4 tra loi") -> None:
    import os

    from par_index.paths import inbox_dir

    path = inbox_dir(campaign.id) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    when = datetime(2024, 1, 3, 10, 0, tzinfo=TZ).timestamp()
    os.utime(path, (when, when))


def test_answers_in_the_inbox_are_archived_and_mark_the_unit_whatever_the_file_name(store, campaign):
    from par_index.intake.inbox import ingest
    from par_index.store.models import IntakeIssue

    _create(store, campaign, EVIDENCE)  # YC-01 to STC and STP
    _create(store, campaign, dict(EVIDENCE, recipients=["SKHDT"], due="2024-01-08"))  # YC-02
    _drop(campaign, "Sở Tư pháp/Tra loi  yc-01.PDF")  # the unit's folder, odd spacing and case
    _drop(campaign, "YC01_STC.docx", b"PK answer")  # the unit's code in the name
    _drop(campaign, "Trả lời YC-2.xlsx", b"not a workbook")  # the only recipient; never read as a form
    _drop(campaign, "YC-07 bao cao.pdf", b"unknown number")
    _drop(campaign, "YC-01.pdf", b"which unit?")
    later = datetime(2024, 1, 4, 9, 0, tzinfo=TZ)
    for _ in range(2):  # a rerun registers, answers and mails nothing again
        with session_scope(store.store_url) as s:
            ingest(s, campaign, None, later)
    with session_scope(store.store_url) as s:
        files = {
            f.original_name: (f.form_kind, f.unit_code, f.status, bool(f.archived_as))
            for f in s.scalars(select(ReceivedFile))
        }
        issues = {
            (s.get(ReceivedFile, i.file_id).original_name, i.code, i.severity, i.message)
            for i in s.scalars(select(IntakeIssue))
        }
        answered = sorted(
            (r.unit_code, s.get(ReceivedFile, r.answer_file_id).original_name)
            for r in s.scalars(select(RequestRecipient).where(RequestRecipient.answered_at.is_not(None)))
        )
        mails = sorted(
            (n.key, n.recipients, n.subject)
            for n in s.scalars(select(Notification).where(Notification.template == "request_answered"))
        )
        arrivals = {
            re.search(r"nhận lúc [0-9/]+ [0-9:]+", n.body_text).group(0)  # type: ignore[union-attr]
            for n in s.scalars(select(Notification).where(Notification.template == "request_answered"))
        }
    assert arrivals == {"nhận lúc 03/01/2024 10:00"}  # the files' arrival (_drop), in local time
    assert files == {
        "Sở Tư pháp/Tra loi  yc-01.PDF": ("request_answer", "STP", "accepted", True),
        "YC01_STC.docx": ("request_answer", "STC", "accepted", True),
        "Trả lời YC-2.xlsx": ("request_answer", "SKHDT", "accepted", True),
        "YC-07 bao cao.pdf": ("request_answer", None, "rejected", True),
        "YC-01.pdf": ("request_answer", None, "rejected", True),
    }
    assert issues == {
        (
            "YC-07 bao cao.pdf",
            "REQ008",
            "error",
            "Tên tệp nêu số yêu cầu YC-07 nhưng chiến dịch không có yêu cầu số này (các yêu cầu hiện có: YC-01, "
            "YC-02); kiểm tra lại số trong tên tệp.",
        ),
        (
            "YC-01.pdf",
            "REQ010",
            "error",
            "Không xác định được đơn vị trả lời YC-01 (gửi cho STC, STP): ghi mã đơn vị vào tên tệp, ví dụ "
            "“YC-01_STC.pdf”.",
        ),
    }
    assert answered == [
        ("SKHDT", "Trả lời YC-2.xlsx"),
        ("STC", "YC01_STC.docx"),
        ("STP", "Sở Tư pháp/Tra loi  yc-01.PDF"),
    ]
    title = "[Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh]"
    assert mails == [
        (
            f"ha_tinh_2023:request:YC-01:{unit}:answered:{COORDINATOR}",
            [COORDINATOR],
            f"{title} {name} đã trả lời yêu cầu YC-01",
        )
        for unit, name in [("STC", "Sở Tài chính"), ("STP", "Sở Tư pháp")]
    ] + [
        (
            f"ha_tinh_2023:request:YC-02:SKHDT:answered:{COORDINATOR}",
            [COORDINATOR],
            f"{title} Sở Kế hoạch và Đầu tư đã trả lời yêu cầu YC-02",
        )
    ]


def test_reminders_follow_the_campaign_ladder_on_working_days(store, campaign):
    """Made Monday 25/12/2023, due Friday 05/01/2024; 30/12–01/01 are a weekend and New Year's Day. STC answers on
    03/01 and is reminded no more; STP is reminded to the escalation to its head."""
    from datetime import timedelta

    from par_index import reminders
    from par_index.notify import enqueue

    _create(store, campaign, EVIDENCE)
    sent = []
    day = date(2023, 12, 26)
    while day <= date(2024, 1, 12):
        run = datetime.combine(day, datetime.min.time(), tzinfo=TZ).replace(hour=8)
        with session_scope(store.store_url) as s:
            if day == date(2024, 1, 3):
                requests.record_answer(s, campaign, "YC-01_STC.pdf", None, None, run)
            for mail in reminders.request_mails(s, campaign, reminders._History(s, campaign), run):
                enqueue(
                    s,
                    campaign,
                    key=mail.key,
                    template=mail.template,
                    recipients=mail.recipients,
                    phase=mail.phase,
                    unit_code=mail.unit_code,
                    rung=mail.rung,
                    now=run,
                    **mail.context,
                )
                sent.append((day.strftime("%d/%m"), mail.rung, mail.unit_code, mail.recipients[0]))
        day += timedelta(days=1)
    assert sent == [
        ("29/12", "YC-01:before-7d", "STC", "stc@hatinh.example"),
        ("29/12", "YC-01:before-7d", "STP", "stp@hatinh.example"),
        ("02/01", "YC-01:before-3d", "STC", "stc@hatinh.example"),
        ("02/01", "YC-01:before-3d", "STP", "stp@hatinh.example"),
        ("04/01", "YC-01:before-1d", "STP", "stp@hatinh.example"),
        ("05/01", "YC-01:due", "STP", "stp@hatinh.example"),
        ("08/01", "YC-01:overdue-1", "STP", "stp@hatinh.example"),
        ("09/01", "YC-01:overdue-2", "STP", "stp@hatinh.example"),
        ("10/01", "YC-01:overdue-3", "STP", "stp@hatinh.example"),
        ("11/01", "YC-01:escalation", "STP", "lanhdao.stp@hatinh.example"),
    ]
    with session_scope(store.store_url) as s:
        due_day, escalation = (
            s.scalar(select(Notification).where(Notification.key == f"ha_tinh_2023:request:YC-01:{rung}:STP"))
            for rung in ("due", "escalation")
        )
    assert due_day.subject == "[Hạn cuối hôm nay] Yêu cầu YC-01 — Sở Tư pháp — hạn 05/01/2024"
    assert escalation.recipients == ["lanhdao.stp@hatinh.example", COORDINATOR]
    assert escalation.subject == "[Quá hạn] Yêu cầu YC-01 — Sở Tư pháp — hạn 05/01/2024"
    assert "Yêu cầu YC-01 đã quá hạn trả lời (thứ Sáu, 05/01/2024)." in escalation.body_text
    assert "Hôm nay là hạn cuối trả lời yêu cầu YC-01: thứ Sáu, 05/01/2024." in due_day.body_text


def test_a_held_reminder_is_dropped_once_the_unit_answered(store, campaign):
    from par_index import reminders
    from par_index.notify import deliver_queued, enqueue
    from par_index.service import ObsoleteRule

    _create(store, campaign, dict(EVIDENCE, recipients=["STP"]))
    run = datetime(2024, 1, 8, 8, 0, tzinfo=TZ)
    with session_scope(store.store_url) as s:
        [mail] = reminders.request_mails(s, campaign, reminders._History(s, campaign), run)
        enqueue(
            s,
            campaign,
            key=mail.key,
            template=mail.template,
            recipients=mail.recipients,
            phase=mail.phase,
            unit_code=mail.unit_code,
            rung=mail.rung,
            now=run,
            **mail.context,
        )
        requests.record_answer(s, campaign, "YC-01.pdf", None, None, run)  # the only recipient
    settings = SmtpSettings("127.0.0.1", 9)  # never reached: the reminder is dropped first
    assert deliver_queued(store.store_url, campaign, settings, obsolete=ObsoleteRule(campaign)) == {
        "ha_tinh_2023:request:YC-01:overdue-1:STP": "dropped"
    }
    with session_scope(store.store_url) as s:
        entry = s.scalar(select(Notification).where(Notification.template == "request_reminder"))
    assert entry.error == "Không gửi nữa: Sở Tư pháp đã trả lời yêu cầu YC-01."


def test_overdue_requests_join_the_criticism_list_and_a_budget_request_gives_the_budget_status(
    store, campaign
):
    from par_index.report.document import request_lines
    from par_index.report.figures import compute

    budget_default = (
        "Dự toán kinh phí triển khai xác định Chỉ số CCHC (Sở Nội vụ chủ trì, phối hợp Sở Tài chính): đang lập; "
        "chưa có số, ngày văn bản."
    )
    as_of = datetime(2024, 1, 9, 9, 0, tzinfo=TZ)
    with session_scope(store.store_url) as s:
        assert (
            compute(s, campaign, as_of).budget_line == budget_default
        )  # no budget request: the campaign file
    _create(store, campaign, EVIDENCE)  # YC-01 to STC, STP, due 05/01
    _create(
        store,
        campaign,
        {
            "requester": COORDINATOR,
            "recipients": ["STC"],
            "kind": "budget",
            "text": "Đề nghị Sở Tài chính cho ý kiến về dự toán kinh phí năm 2024.",
            "due": "2024-01-10",
        },
    )  # YC-02, not overdue on 09/01
    with session_scope(store.store_url) as s:
        requests.record_answer(
            s, campaign, "YC-01_STC.pdf", None, None, datetime(2024, 1, 4, 9, 0, tzinfo=TZ)
        )
        figures = compute(s, campaign, as_of)
    assert [(o.label, o.unit_code) for o in figures.overdue_requests] == [("YC-01", "STP")]
    assert request_lines(figures) == [
        "Yêu cầu YC-01 — Cung cấp tài liệu kiểm chứng cho tiêu chí (mục 2a) (hạn 05/01/2024): chưa trả lời: "
        "Sở Tư pháp."
    ]
    assert figures.budget_line == (
        "Dự toán kinh phí triển khai xác định Chỉ số CCHC (Sở Nội vụ chủ trì, phối hợp Sở Tài chính): theo yêu "
        "cầu YC-02 (hạn 10/01/2024), Sở Tài chính chưa trả lời."
    )
    with session_scope(store.store_url) as s:
        requests.record_answer(s, campaign, "YC-02.docx", None, None, datetime(2024, 1, 10, 15, 0, tzinfo=TZ))
        late = compute(s, campaign, datetime(2024, 1, 12, 9, 0, tzinfo=TZ))
    assert late.budget_line == (
        "Dự toán kinh phí triển khai xác định Chỉ số CCHC (Sở Nội vụ chủ trì, phối hợp Sở Tài chính): theo yêu "
        "cầu YC-02 (hạn 10/01/2024), Sở Tài chính đã trả lời ngày 10/01/2024."
    )


def test_the_dashboard_shows_open_requests_per_unit_and_the_budget_status(store, campaign):
    from par_index.dashboard import data, html

    _create(store, campaign, EVIDENCE)  # YC-01 to STC, STP, due 05/01
    _create(
        store,
        campaign,
        {
            "requester": COORDINATOR,
            "recipients": ["STC"],
            "kind": "budget",
            "text": "Đề nghị Sở Tài chính cho ý kiến về dự toán kinh phí năm 2024.",
            "due": "2024-01-10",
        },
    )
    with session_scope(store.store_url) as s:
        requests.record_answer(
            s, campaign, "YC-01_STP.pdf", None, None, datetime(2024, 1, 4, 9, 0, tzinfo=TZ)
        )
    overview = data.build_overview(campaign, store.store_url, datetime(2024, 1, 8, 9, 0, tzinfo=TZ))
    assert overview["requests_open"] == 2
    assert overview["requests"] == [
        {
            "unit_code": "STC",
            "unit_name": "Sở Tài chính",
            "open": [
                {
                    "label": "YC-01",
                    "kind_vi": "Cung cấp tài liệu kiểm chứng cho tiêu chí (mục 2a)",
                    "due_vi": "05/01/2024",
                    "overdue": True,
                },
                {
                    "label": "YC-02",
                    "kind_vi": "Lập dự toán kinh phí — Sở Nội vụ phối hợp Sở Tài chính (mục 1c)",
                    "due_vi": "10/01/2024",
                    "overdue": False,
                },
            ],
            "overdue": 1,
        }
    ]
    assert overview["budget_vi"] == "Theo yêu cầu YC-02 (hạn 10/01/2024), Sở Tài chính chưa trả lời."
    page = html.render_overview(overview, campaigns=[], base="", ui_base="/", nonce="n")
    assert "Yêu cầu chưa trả lời, theo đơn vị (2)" in page
    assert "<p>Dự toán kinh phí: Theo yêu cầu YC-02 (hạn 10/01/2024), Sở Tài chính chưa trả lời.</p>" in page
    assert (
        '<td class="num">05/01/2024</td><td class="st st-bad"><span class="ic" aria-hidden="true">✗</span>Quá hạn</td>'
        in page
    )
    empty = data.build_overview(campaign, store.store_url, datetime(2023, 12, 21, 9, 0, tzinfo=TZ))
    assert (empty["requests_open"], empty["requests"]) == (0, [])  # as of a moment before the requests
    assert empty["budget_vi"] == "Đang lập (theo tệp chiến dịch)."


def test_the_reminder_run_plans_request_reminders_with_the_phases(store, campaign):
    from par_index import reminders

    _create(store, campaign, dict(EVIDENCE, recipients=["STP"]))
    with session_scope(store.store_url) as s:
        planned = reminders.plan(s, campaign, datetime(2024, 1, 8, 8, 0, tzinfo=TZ))
    assert [(m.key, m.template, m.recipients) for m in planned if m.phase == "request"] == [
        ("ha_tinh_2023:request:YC-01:overdue-1:STP", "request_reminder", ["stp@hatinh.example", COORDINATOR])
    ]
