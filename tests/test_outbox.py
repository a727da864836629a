"""The outbox: mail enqueued in the caller's transaction and sent one message at a time; at least once per key
across a SIGKILL (the same Message-ID, so clients show it once); held while mail is not configured and sent once
it is, obsolete reminders dropped with the reason; right on the wire (encoded words ≤ 75 characters that decode
exactly, content types, RFC 2231 names, Date, Message-ID, Reply-To); the files enqueued are the files sent."""

import email
import multiprocessing
import os
import re
import signal
from datetime import datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from par_index.notify import SmtpSettings, deliver_queued, encoded_words, enqueue
from par_index.runtime import Runtime
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import Notification
from par_index_dev import mail_sink
from sqlalchemy import select
from support.received_mail import read_mails

SUBJECT_WORD = re.compile(r"=\?utf-8\?b\?[A-Za-z0-9+/=]*\?=")


def _enqueue_notes(rt, campaign, count: int, attachments=()) -> list[str]:
    """``count`` short mails to STP's mailbox, each under its own key, committed."""
    unit = campaign.unit_by_code["STP"]
    keys = [f"{campaign.id}:test:{n}" for n in range(count)]
    with session_scope(rt.store_url) as s:
        for key in keys:
            enqueue(
                s,
                campaign,
                key=key,
                template="mismatch_cleared",
                recipients=[unit.email],
                unit_code="STP",
                phase="self_scores",
                attachments=attachments,
                unit=unit,
                sent_at=datetime(2024, 1, 12, 9, tzinfo=campaign.tz),
                ui_url="https://cchc.hatinh.example",
            )
    return keys


def _outcomes(rt) -> dict[str, tuple[str, int]]:
    with session_scope(rt.store_url) as s:
        return {
            n.key: (n.outcome, n.attempts) for n in s.scalars(select(Notification).order_by(Notification.id))
        }


class KillAtMessage(mail_sink.SaveToFolder):
    """Saves each message; on the ``at``-th, kills the sending process before answering it."""

    def __init__(self, folder: Path, at: int):
        super().__init__(folder)
        self.at, self.seen, self.victim = at, 0, None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        answer = await super().handle_DATA(server, session, envelope)
        self.seen += 1
        if self.seen == self.at:
            os.kill(self.victim, signal.SIGKILL)
        return answer


def _deliver_in_child(store_url: str, data_dir: str, port: int) -> None:
    os.environ["PAR_DATA_DIR"] = data_dir
    from par_index.campaign import load_campaign
    from par_index.paths import CAMPAIGNS_DIR

    deliver_queued(
        store_url, load_campaign(CAMPAIGNS_DIR / "ha_tinh_2023.yaml"), SmtpSettings("127.0.0.1", port)
    )


def test_a_sender_killed_mid_batch_loses_nothing_and_the_resent_mail_keeps_its_message_id(
    runtime, campaign, tmp_path
):
    prepare(campaign, runtime)
    keys = _enqueue_notes(runtime, campaign, 6)
    handler = KillAtMessage(tmp_path / "mail", at=3)
    controller = Controller(handler, hostname="127.0.0.1", port=mail_sink._free_port("127.0.0.1"))
    controller.start()
    try:
        child = multiprocessing.get_context("spawn").Process(
            target=_deliver_in_child, args=(runtime.store_url, os.environ["PAR_DATA_DIR"], controller.port)
        )
        child.start()
        handler.victim = child.pid
        child.join(120)
        assert child.exitcode == -signal.SIGKILL
        # the server had the third message when the sender died, before it could record the answer
        assert _outcomes(runtime) == {
            keys[0]: ("sent", 1),
            keys[1]: ("sent", 1),
            keys[2]: ("sending", 1),
            keys[3]: ("queued", 0),
            keys[4]: ("queued", 0),
            keys[5]: ("queued", 0),
        }
        # a "sending" message younger than the reclaim delay belongs to a live sender: not touched
        assert deliver_queued(runtime.store_url, campaign, SmtpSettings("127.0.0.1", controller.port)) == {
            keys[2]: "sending",
            keys[3]: "sent",
            keys[4]: "sent",
            keys[5]: "sent",
        }
        resumed = deliver_queued(
            runtime.store_url,
            campaign,
            SmtpSettings("127.0.0.1", controller.port),
            reclaim_after=timedelta(0),
        )  # its sender is known dead: at least once
        assert resumed == {keys[2]: "sent"}
    finally:
        controller.stop()
    assert _outcomes(runtime) == {key: ("sent", 2 if key == keys[2] else 1) for key in keys}
    mails = read_mails(tmp_path / "mail")
    ids = [m["Message-ID"] for m in mails]
    assert len(mails) == 7 and len(set(ids)) == 6  # the third twice, under one Message-ID: shown once
    assert ids[2] == ids[6]
    with session_scope(runtime.store_url) as s:
        assert s.scalar(select(Notification.message_id).where(Notification.key == keys[2])) == ids[2]


def test_mail_held_while_mail_is_not_configured_goes_out_once_it_is_and_an_obsolete_one_is_dropped(
    runtime, campaign, sink
):
    from par_index.paths import inbox_dir
    from par_index.service import collect, send_notices
    from par_index_dev.writer import write_xlsx

    controller, folder = sink
    prepare(campaign, runtime)  # runtime: no par_smtp connection
    start = campaign.starts_at.replace(hour=8) + timedelta(days=1)
    first = send_notices(campaign, runtime, start)  # the start notices, with the blank forms: held
    held = sum(first["by_template"].values())
    assert (first["mail"], first["retried"]) == ({"queued": held}, 0)
    with session_scope(runtime.store_url) as s:
        reminders = s.scalars(select(Notification).where(Notification.template == "reminder")).all()
        assert {n.error for n in reminders} == {
            "Chưa cấu hình kết nối par_smtp: thư được giữ lại và sẽ gửi khi cấu hình."
        }
        stp_reminders = [n.key for n in reminders if n.unit_code == "STP" and n.phase == "nominees"]
    # meanwhile STP sends its list of nominees: the reminder chasing it is obsolete
    areas = campaign.area_owners["STP"]
    path = write_xlsx(
        inbox_dir(campaign.id) / "PL4_STP.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "STP")],
        ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Email"],
        [
            [n, f"Nguyễn Văn {n}", "Chuyên viên", area, f"dm{n}@hatinh.example"]
            for n, area in enumerate(areas, 1)
        ],
    )
    os.utime(path, (start.timestamp() + 3600, start.timestamp() + 3600))
    assert collect(campaign, runtime, "nominees")["waiting_for"].count("STP") == 0
    configured = Runtime(runtime.store_url, SmtpSettings("127.0.0.1", controller.port))
    second = send_notices(campaign, configured, start + timedelta(days=1))
    assert second["retried"] == held - len(stp_reminders)
    with session_scope(runtime.store_url) as s:
        dropped = {
            n.key: n.error for n in s.scalars(select(Notification).where(Notification.outcome == "dropped"))
        }
    assert dropped == {
        key: f"Không gửi nữa: {campaign.unit_by_code['STP'].name_vi} đã hoàn thành “Cử công chức "
        "đầu mối (Phụ lục IV)” trước khi thư được gửi."
        for key in stp_reminders
    }
    assert len(read_mails(folder)) == second["retried"] + second["mail"].get("sent", 0)


def test_the_delivery_to_the_ppc_waits_for_mail_and_then_the_report_is_delivered(runtime, campaign, sink):
    from par_index.errors import ReportStateError
    from par_index.service import (
        assemble_report,
        deliver_report,
        record_report_decision,
        run_campaign,
        send_notices,
    )
    from par_index.store.models import ReportBuild
    from par_index_dev.sample_data import generate_inbox

    controller, folder = sink
    generate_inbox(campaign)
    now = datetime(2024, 1, 18, 9, tzinfo=campaign.tz)
    run_campaign(campaign, runtime, now)
    assemble_report(campaign, runtime, now)
    record_report_decision(campaign, runtime, True, "Giám đốc Sở Nội vụ", now)
    with pytest.raises(ReportStateError) as held:
        deliver_report(campaign, runtime, now)
    assert held.value.code == "REP004"
    configured = Runtime(runtime.store_url, SmtpSettings("127.0.0.1", controller.port))
    send_notices(
        campaign, configured, now + timedelta(hours=23)
    )  # the next reminder run: mail now configured
    with session_scope(runtime.store_url) as s:
        build = s.scalars(select(ReportBuild).order_by(ReportBuild.number.desc())).first()
        sent_at = s.scalar(select(Notification.sent_at).where(Notification.template == "report_delivery"))
    assert (build.status, build.delivered_at) == ("delivered", sent_at)
    [delivery] = [
        m for m in read_mails(folder) if m["To"] and campaign.contacts.ppc_office.email in str(m["To"])
    ]
    assert sorted(p.get_content_type() for p in delivery.iter_attachments()) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]
    assert deliver_report(campaign, configured, now + timedelta(days=1))["mail"] == "already_sent"


def test_on_the_wire_every_header_decodes_exactly_and_each_file_has_its_type(
    runtime, campaign, sink, tmp_path
):
    controller, folder = sink
    prepare(campaign, runtime)
    files = {
        "Báo cáo tự đánh giá.docx": b"docx",
        "Bảng tổng hợp điểm.xlsx": b"xlsx",
        "Công văn số 12.pdf": b"%PDF",
        "phần mềm.csv": b"a,b\r\n",
    }
    paths = []
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        paths.append(tmp_path / name)
    [key] = _enqueue_notes(runtime, campaign, 1, attachments=paths)
    deliver_queued(
        runtime.store_url, campaign, SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example")
    )
    raw = next(folder.glob("*.eml")).read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 7-bit headers only
    message = email.message_from_bytes(raw, policy=policy.default)
    with session_scope(runtime.store_url) as s:
        entry = s.scalar(select(Notification).where(Notification.key == key))
    assert str(message["Subject"]) == entry.subject  # every space kept
    subject = head.split("Subject: ", 1)[1].split("\r\nFrom:", 1)[0]
    assert [len(w) <= 75 for w in SUBJECT_WORD.findall(subject)] == [True] * len(encoded_words(entry.subject))
    assert (message["From"].addresses[0].display_name, message["From"].addresses[0].addr_spec) == (
        "Sở Nội vụ — Chiến dịch CCHC",
        "cchc@hatinh.example",
    )
    assert [a.addr_spec for a in message["Reply-To"].addresses] == [
        c.email for c in campaign.contacts.coordinators
    ]
    assert (message["Message-ID"], message["Date"].datetime.utcoffset()) == (
        entry.message_id,
        timedelta(hours=7),
    )
    assert [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in message.iter_attachments()
    ] == [
        (
            "Báo cáo tự đánh giá.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"docx",
        ),
        (
            "Bảng tổng hợp điểm.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"xlsx",
        ),
        ("Công văn số 12.pdf", "application/pdf", b"%PDF"),
        ("phần mềm.csv", "text/csv", "a,b\r\n"),
    ]
    assert "filename*0*=utf-8''B%C3%A1o%20c%C3%A1o" in raw.decode("ascii")  # RFC 2231, with continuations


@pytest.mark.parametrize(
    "text",
    [
        "[Cảnh báo hạn — còn 3 ngày] Cử công chức đầu mối (Phụ lục IV): 5 đơn vị chưa hoàn thành, hạn thứ Bảy, "
        "30/12/2023",
        " hai  khoảng trắng ",
        "a" * 200,
        "Sở Nội vụ — Chiến dịch CCHC",
        "ư" * 100,
    ],
)
def test_encoded_words_are_at_most_75_characters_and_decode_back_exactly(text):
    from email.header import decode_header, make_header

    words = encoded_words(text)
    assert [len(w) <= 75 for w in words] == [True] * len(words)
    assert str(make_header(decode_header(" ".join(words)))) == text


def test_a_retry_after_a_new_build_sends_the_files_first_enqueued(runtime, campaign, tmp_path):
    prepare(campaign, runtime)
    report = tmp_path / "bao_cao.docx"
    report.write_bytes(b"build 1")
    down = mail_sink._free_port("127.0.0.1")
    [key] = _enqueue_notes(runtime, campaign, 1, attachments=[report])
    assert deliver_queued(runtime.store_url, campaign, SmtpSettings("127.0.0.1", down, timeout=2)) == {
        key: "failed"
    }
    report.write_bytes(b"build 2")  # the next build overwrites the same path
    controller = mail_sink.start(tmp_path / "mail")
    try:
        assert deliver_queued(runtime.store_url, campaign, SmtpSettings("127.0.0.1", controller.port)) == {
            key: "sent"
        }
    finally:
        controller.stop()
    [message] = read_mails(tmp_path / "mail")
    assert [p.get_content() for p in message.iter_attachments()] == [b"build 1"]
