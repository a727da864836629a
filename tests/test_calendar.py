"""The 2023 campaign day by day (time-machine): files arrive on their day, the reminder DAG's function runs
each morning at 08:00 (giờ Việt Nam), and a real SMTP server on loopback receives the mail. Who receives which
mail on which day follows the directive's dates and the default ladder of the README."""

import email
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime
from email import policy

import pytest
import time_machine
from croniter import croniter
from databases import fresh_database
from par_index import mail_sink
from par_index import sample_data as sd
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.notify import SmtpSettings
from par_index.paths import inbox_dir
from par_index.service import Runtime, prepare, send_notices
from par_index.store import session_scope
from par_index.store.models import BouncedAddress, Notification
from sqlalchemy import select

NOMINEE_LADDER_DAYS = ["20/12/2023", "23/12/2023", "27/12/2023", "29/12/2023", "30/12/2023", "31/12/2023",
                       "01/01/2024", "02/01/2024"]  # start, T-7, T-3, T-1, due day, overdue ×3
NOMINEE_ESCALATION_DAY = "03/01/2024"


def _d(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


@pytest.fixture(scope="module")
def calendar(tmp_path_factory, campaign):
    import os

    root = tmp_path_factory.mktemp("calendar")
    previous = os.environ.get("PAR_DATA_DIR")
    os.environ["PAR_DATA_DIR"] = str(root / "data")
    staged = root / "staged"
    sd.generate_inbox(campaign, staged)
    roster = parse_form(read_sheets(staged / "khao_sat_danh_sach.xlsx"), campaign).records
    final = {r["email"]: r for r in parse_form(read_sheets(staged / "khao_sat_tien_do.csv"), campaign).records}
    never = [r for r in roster if r["unit"] == "443" and final[r["email"]]["status"] != "completed"]
    bounce, person = never[0]["email"], never[1]
    sink = mail_sink.start(root / "mail", refuse=frozenset({bounce}))
    rt = Runtime(fresh_database(root, "store"), SmtpSettings("127.0.0.1", sink.port, sender="cchc@hatinh.example"))
    arrivals = sorted(staged.iterdir(), key=lambda p: p.stat().st_mtime)
    inbox_dir(campaign.id).mkdir(parents=True)
    try:
        prepare(campaign, rt)
        schedule = croniter(campaign.reminders.schedule, campaign.starts_at)
        while (moment := schedule.get_next(datetime)) <= campaign.ends_at:
            for path in [p for p in arrivals if p.stat().st_mtime <= moment.timestamp()]:
                shutil.copy2(path, inbox_dir(campaign.id) / path.name)
                arrivals.remove(path)
            with time_machine.travel(moment, tick=False):
                send_notices(campaign, rt)
    finally:
        sink.stop()
        if previous is None:
            os.environ.pop("PAR_DATA_DIR", None)
        else:
            os.environ["PAR_DATA_DIR"] = previous
    with session_scope(rt.store_url) as s:
        ledger = s.scalars(select(Notification)).all()
        bounced = {b.email for b in s.scalars(select(BouncedAddress))}
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted((root / "mail").glob("*.eml"))]
    return {"ledger": ledger, "bounced": bounced, "bounce": bounce, "person": person, "mails": mails,
            "staged": staged, "tz": campaign.tz}


def _days(calendar, **match) -> list[date]:
    """Local days on which a *sent* ledger entry matching ``match`` (attribute or recipient) went out."""
    days = []
    for n in calendar["ledger"]:
        if n.outcome != "sent":
            continue
        if match.get("recipient") and match["recipient"] not in n.recipients:
            continue
        if all(getattr(n, k) == v for k, v in match.items() if k != "recipient"):
            days.append(n.sent_at.astimezone(calendar["tz"]).date())
    return sorted(days)


def test_a_unit_that_never_sends_nominees_follows_the_whole_ladder(calendar, campaign):
    unit = campaign.unit_by_code[sd.NOMINEES_NEVER_SENT]
    assert _days(calendar, phase="nominees", unit_code=unit.code, recipient=unit.email,
                 template="reminder") == [_d(d) for d in NOMINEE_LADDER_DAYS]
    assert _days(calendar, phase="nominees", unit_code=unit.code, recipient=unit.head_email,
                 template="escalation") == [_d(NOMINEE_ESCALATION_DAY)]
    [digest] = [n for n in calendar["ledger"] if n.template == "escalation_digest" and n.phase == "nominees"]
    assert digest.recipients == [campaign.contacts.snv_leader.email]
    assert digest.sent_at.astimezone(calendar["tz"]).date() == _d(NOMINEE_ESCALATION_DAY)
    assert unit.name_vi in digest.body_text


def test_the_first_notice_carries_the_blank_form(calendar, campaign):
    unit = campaign.unit_by_code[sd.NOMINEES_NEVER_SENT]
    first = next(m for m in calendar["mails"] if m["To"] == unit.email and "Cử công chức" in m["Subject"])
    names = [part.get_filename() for part in first.iter_attachments()]
    assert names == ["phu_luc_iv_cong_chuc_dau_moi.xlsx"]
    body = first.get_body(("plain",)).get_content()
    assert "30/12/2023 23:59 (giờ Việt Nam)" in body


def test_whoever_complies_is_not_reminded_afterwards(calendar, campaign):
    checked = 0
    for unit_code in campaign.area_owners:
        path = calendar["staged"] / f"PL4_{unit_code}.xlsx"
        if not path.exists() or unit_code == sd.NOMINEES_TOO_MANY[0]:  # an invalid list is not compliance
            continue
        arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC).astimezone(campaign.tz)
        days = _days(calendar, phase="nominees", unit_code=unit_code, template="reminder")
        assert all(day <= arrived.date() for day in days), (unit_code, arrived, days)
        if unit_code != sd.NOMINEES_LATE:
            assert _days(calendar, phase="nominees", unit_code=unit_code, template="escalation") == []
        checked += 1
    assert checked >= 4
    invalid = campaign.unit_by_code[sd.NOMINEES_TOO_MANY[0]]
    assert _days(calendar, phase="nominees", unit_code=invalid.code, recipient=invalid.head_email,
                 template="escalation") == [_d(NOMINEE_ESCALATION_DAY)]


def test_survey_reminds_each_missing_leader_and_tells_the_unit_head_by_name(calendar, campaign):
    person = calendar["person"]
    days = _days(calendar, phase="survey", recipient=person["email"], template="survey_person")
    assert days and days[-1] == _d("03/01/2024")  # the third overdue reminder (the survey is due 31/12)
    head = campaign.unit_by_code["443"].head_email
    notices = [m for m in calendar["mails"] if m["To"] == head and "[Khảo sát CCHC]" in m["Subject"]]
    assert notices and all(person["name"] in m.get_body(("plain",)).get_content() for m in notices)
    assert _days(calendar, phase="survey", unit_code="443", recipient=head)[-1] == _d("04/01/2024")  # escalation
    leader = campaign.contacts.snv_leader.email
    assert _days(calendar, phase="survey", recipient=leader, template="escalation_digest") == [_d("04/01/2024")]
    completed = [r for r in parse_form(read_sheets(calendar["staged"] / "khao_sat_tien_do.csv"), campaign).records
                 if r["status"] == "completed" and r["completed_at"].date() <= _d("25/12/2023")]
    for r in completed[:10]:
        after = [d for d in _days(calendar, phase="survey", recipient=r["email"]) if d > r["completed_at"].date()]
        assert after == [], r["email"]


def test_a_bounced_address_is_tried_once_and_never_again(calendar):
    bounce = calendar["bounce"]
    tried = [n for n in calendar["ledger"] if bounce in n.recipients]
    assert len(tried) == 1 and tried[0].outcome == "failed"
    assert bounce in calendar["bounced"]


def test_each_nominee_receives_the_account_names_once_and_never_a_password(calendar, campaign):
    accounts = [m for m in calendar["mails"] if "Tài khoản phần mềm chấm điểm" in m["Subject"]]
    recipients = [m["To"] for m in accounts]
    assert recipients and len(recipients) == len(set(recipients))
    for m in accounts:
        body = m.get_body(("plain",)).get_content()
        assert ".cchc" in body and "Mật khẩu không bao giờ được gửi" in body
    every_text = "\n".join(m.get_body(("plain",)).get_content() for m in calendar["mails"])
    assert "Hatinh@" not in every_text  # the passwords of the refused Appendix III never travel


def test_nobody_is_reminded_twice_a_day_for_one_deadline(calendar):
    seen = defaultdict(int)
    for n in calendar["ledger"]:
        if n.outcome == "sent" and n.rung:
            for r in n.recipients:
                seen[(n.phase, r, n.sent_at.date())] += 1
    assert max(seen.values()) == 1


def test_mail_is_vietnamese_utf8_with_local_dates(calendar):
    assert len(calendar["mails"]) > 100
    for m in calendar["mails"][:200]:
        assert "CCHC" in m["Subject"] or "Cử công chức" in m["Subject"] or "Tự chấm" in m["Subject"] or \
            "Khảo sát" in m["Subject"] or "khảo sát" in m["Subject"], m["Subject"]
        body = m.get_body(("plain",)).get_content()
        assert "http://localhost:8080/dags/par_ha_tinh_2023" in body
        assert m.get_body(("html",)) is not None
