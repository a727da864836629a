"""Mail through a real SMTP server on loopback; the ledger sends each key once and retries failures."""

from par_index.notify import SmtpSettings
from par_index.service import close_phase, notify_phase_closed, prepare
from par_index.store import session_scope
from par_index.store.models import Notification
from par_index_dev import mail_sink
from sqlalchemy import select
from support.received_mail import read_mails


def test_phase_close_mails_coordinators_once_in_vietnamese(runtime, campaign, sink):
    controller, folder = sink
    rt = type(runtime)(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example")
    )
    prepare(campaign, rt)
    close_phase(campaign, rt, "nominees")
    first = notify_phase_closed(campaign, rt, "nominees")
    second = notify_phase_closed(campaign, rt, "nominees")
    assert first["mail"] == {"sent": 1} and second["mail"] == {"already_sent": 1}
    [message] = read_mails(folder)
    assert message["To"] == campaign.contacts.coordinators[0].email
    assert "Cử công chức đầu mối" in message["Subject"] and "30/12/2023" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "(giờ Việt Nam)" in body and "Không nộp" in body
    assert "hạn là thứ Bảy, 30/12/2023 23:59 (giờ Việt Nam)" in body  # a deadline names its weekday
    assert f"/dags/{campaign.dag_id}" in body
    assert message.get_body(("html",)) is not None


def test_smtp_failure_is_recorded_and_retried_next_run(runtime, campaign, tmp_path):
    down = mail_sink._free_port("127.0.0.1")  # nothing listens there
    rt_down = type(runtime)(runtime.store_url, SmtpSettings("127.0.0.1", down, timeout=2))
    prepare(campaign, rt_down)
    assert notify_phase_closed(campaign, rt_down, "survey")["mail"] == {"failed": 1}
    controller = mail_sink.start(tmp_path / "mail")
    try:
        rt_up = type(runtime)(runtime.store_url, SmtpSettings("127.0.0.1", controller.port))
        assert notify_phase_closed(campaign, rt_up, "survey")["mail"] == {"sent": 1}
    finally:
        controller.stop()
    assert len(read_mails(tmp_path / "mail")) == 1
    with session_scope(runtime.store_url) as s:
        [entry] = s.scalars(select(Notification)).all()
        assert (entry.outcome, entry.attempts, entry.error) == ("sent", 2, None)
