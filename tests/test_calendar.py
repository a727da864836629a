"""The 2023 campaign day by day (time-machine): files arrive on their day, the reminder DAG's function runs
each morning at 08:00 (giờ Việt Nam), and a real SMTP server on loopback receives the mail. Who receives which
mail on which day follows the directive's dates and the default ladder of the README, on working days only
(reminders.py): Saturdays, Sundays and 01/01/2024 (Tết Dương lịch) carry no reminder. The coordinators' notices
3 days and 1 day before each deadline come from the same runs, any day of the week."""

import email
import re
import shutil
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from email import policy

import pytest
import time_machine
from croniter import croniter
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.notify import SmtpSettings
from par_index.paths import TEMPLATES_DIR, inbox_dir
from par_index.readers import salutation
from par_index.runtime import Runtime
from par_index.service import prepare, send_notices
from par_index.store import session_scope
from par_index.store.models import BouncedAddress, Notification
from par_index_dev import mail_sink
from par_index_dev import sample_data as sd
from sqlalchemy import select
from support.databases import fresh_database

# Due Saturday 30/12/2023: T-7 (Saturday 23/12) moves to Friday 22/12; T-1 and the due day both fall on Friday
# 29/12 (one mail); the overdue steps take the working days after the deadline (Sunday 31/12 and the holiday
# 01/01 are skipped), then the escalation.
NOMINEE_LADDER_DAYS = [
    "20/12/2023",
    "22/12/2023",
    "27/12/2023",
    "29/12/2023",
    "02/01/2024",
    "03/01/2024",
    "04/01/2024",
]  # start, T-7, T-3, T-1 (and the due day), overdue ×3
NOMINEE_ESCALATION_DAY = "05/01/2024"
DAYS_OFF = [
    "23/12/2023",
    "24/12/2023",
    "30/12/2023",
    "31/12/2023",
    "01/01/2024",
    "06/01/2024",
    "07/01/2024",
    "13/01/2024",
    "14/01/2024",
    "20/01/2024",
    "21/01/2024",
]
# The first day each step of the ladder went out, per deadline (08:00 runs). The survey is due Sunday 31/12: SNV's
# roster arrives on 21/12 after that morning's run, and on 22/12 the latest step is already T-7 (moved from Sunday
# 24/12), so no start notice; T-1 (Saturday 30/12) and the due day move to Friday 29/12. Self-scores are due
# Tuesday 16/01/2024: T-3 (Saturday 13/01) moves to Friday 12/01; the units whose planted faults leave them
# incomplete (mismatches, an item without evidence, SKHDT's missing software entry) are still chased at overdue-3
# (Friday 19/01) and the escalation (Monday 22/01: test_workdays). A start notice also goes to each nominee accepted
# later.
LADDERS = {
    "nominees": {
        "start": "20/12/2023",
        "before-7d": "22/12/2023",
        "before-3d": "27/12/2023",
        "before-1d": "29/12/2023",
        "overdue-1": "02/01/2024",
        "overdue-2": "03/01/2024",
        "overdue-3": "04/01/2024",
        "escalation": "05/01/2024",
    },
    "survey": {
        "before-7d": "22/12/2023",
        "before-3d": "28/12/2023",
        "before-1d": "29/12/2023",
        "overdue-1": "02/01/2024",
        "overdue-2": "03/01/2024",
        "overdue-3": "04/01/2024",
        "escalation": "05/01/2024",
    },
    "self_scores": {
        "start": "20/12/2023",
        "before-7d": "09/01/2024",
        "before-3d": "12/01/2024",
        "before-1d": "15/01/2024",
        "due": "16/01/2024",
        "overdue-1": "17/01/2024",
        "overdue-2": "18/01/2024",
        "overdue-3": "19/01/2024",
        "escalation": "22/01/2024",
    },
}


# The coordinators' notices before each deadline: 08:00 three days and one day before its due day (test_campaign),
# sent by that morning's reminder run, whatever the day (30/12/2023 and 13/01/2024 are Saturdays).
COORDINATOR_NOTICES = {
    ("nominees", "alert-3d"): "27/12/2023",
    ("nominees", "alert-1d"): "29/12/2023",
    ("survey", "alert-3d"): "28/12/2023",
    ("survey", "alert-1d"): "30/12/2023",
    ("self_scores", "alert-3d"): "13/01/2024",
    ("self_scores", "alert-1d"): "15/01/2024",
    ("report", "alert-3d"): "17/01/2024",
    ("report", "alert-1d"): "19/01/2024",
}

# The 668 mails of the 2023 calendar by kind: reminders (units, nominees and survey respondents), the heads' survey
# notices, the account names and start notices, the coordinators' 3-day and 1-day notices before each of the 4
# deadlines (COORDINATOR_NOTICES), overdue and due-day reminders, and the escalations. The self-score units whose
# planted faults leave them incomplete (a mismatch, an item without evidence, a software entry missing) are chased
# past the deadline too: their overdue reminders and escalations.
MAIL_KINDS = {
    "[Nhắc việc]": 420,
    "[Chỉ số CCHC ####]": 18,
    "[Chỉ số CCHC #### — Tỉnh Hà Tĩnh]": 1,
    "[Khảo sát CCHC]": 117,
    "[Cảnh báo hạn — còn 3 ngày]": 4,
    "[Cảnh báo hạn — còn 1 ngày]": 4,
    "[Quá hạn]": 70,
    "[Báo cáo lãnh đạo]": 9,
    "[Hạn cuối hôm nay]": 25,
}


def _d(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def _is_ladder(n) -> bool:
    """A step of a unit's reminder ladder (not a coordinators' notice before a deadline)."""
    return bool(n.rung) and not n.rung.startswith("alert-")


@pytest.fixture(scope="module")
def calendar(tmp_path_factory, campaign):
    root = tmp_path_factory.mktemp("calendar")
    with pytest.MonkeyPatch.context() as env:  # module-scoped: monkeypatch's own context, undone on leaving
        env.setenv("PAR_DATA_DIR", str(root / "data"))
        return _replay_calendar(root, campaign)


def _replay_calendar(root, campaign):
    """Every 08:00 reminder run of the campaign, with the sample files copied in as they would arrive."""
    staged = root / "staged"
    sd.generate_inbox(campaign, staged)
    roster = parse_form(read_sheets(staged / "khao_sat_danh_sach.xlsx"), campaign).records
    final = {r.email: r for r in parse_form(read_sheets(staged / "khao_sat_tien_do.csv"), campaign).records}
    never = [r for r in roster if r.unit == "443" and final[r.email].status != "completed"]
    bounce, person = never[0].email, never[1]
    sink = mail_sink.start(root / "mail", refuse=frozenset({bounce}))
    rt = Runtime(
        fresh_database(root, "store"), SmtpSettings("127.0.0.1", sink.port, sender="cchc@hatinh.example")
    )
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
    with session_scope(rt.store_url) as s:
        ledger = s.scalars(select(Notification)).all()
        bounced = {b.email for b in s.scalars(select(BouncedAddress))}
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((root / "mail").glob("*.eml"))
    ]
    return {
        "ledger": ledger,
        "bounced": bounced,
        "bounce": bounce,
        "person": person,
        "mails": mails,
        "staged": staged,
        "tz": campaign.tz,
    }


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
    assert _days(
        calendar, phase="nominees", unit_code=unit.code, recipient=unit.email, template="reminder"
    ) == [_d(d) for d in NOMINEE_LADDER_DAYS]
    assert _days(
        calendar, phase="nominees", unit_code=unit.code, recipient=unit.head_email, template="escalation"
    ) == [_d(NOMINEE_ESCALATION_DAY)]
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
    checked = []
    for unit_code in campaign.area_owners:
        path = calendar["staged"] / f"PL4_{unit_code}.xlsx"
        if not path.exists() or unit_code == sd.NOMINEES_TOO_MANY[0]:  # an invalid list is not compliance
            continue
        arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC).astimezone(campaign.tz)
        days = _days(calendar, phase="nominees", unit_code=unit_code, template="reminder")
        # every step of the ladder up to the day the list arrived (that morning's run is before 09:00), then none
        expected = [
            _d(day)
            for rung, day in LADDERS["nominees"].items()
            if rung != "escalation" and _d(day) <= arrived.date()
        ]
        assert days == expected, (unit_code, arrived, days)
        if unit_code != sd.NOMINEES_LATE:
            assert _days(calendar, phase="nominees", unit_code=unit_code, template="escalation") == []
        checked.append(unit_code)
    # every owner of an area sent Appendix IV but STTTT (never) and STP (three people for area 2: invalid)
    assert checked == ["SNV", "VPUBND", "SKHDT", "STC", "CTHUE"]
    invalid = campaign.unit_by_code[sd.NOMINEES_TOO_MANY[0]]
    assert _days(
        calendar,
        phase="nominees",
        unit_code=invalid.code,
        recipient=invalid.head_email,
        template="escalation",
    ) == [_d(NOMINEE_ESCALATION_DAY)]


def test_survey_reminds_each_missing_leader_and_tells_the_unit_head_by_name(calendar, campaign):
    person = calendar["person"]
    days = _days(calendar, phase="survey", recipient=person.email, template="survey_person")
    assert days and days[-1] == _d(
        "04/01/2024"
    )  # the third overdue reminder (due Sunday 31/12, 01/01 is off)
    head = campaign.unit_by_code["443"].head_email
    notices = [m for m in calendar["mails"] if m["To"] == head and "[Khảo sát CCHC]" in m["Subject"]]
    assert notices and all(person.name in m.get_body(("plain",)).get_content() for m in notices)
    assert _days(calendar, phase="survey", unit_code="443", recipient=head)[-1] == _d(
        "05/01/2024"
    )  # escalation
    leader = campaign.contacts.snv_leader.email
    assert _days(calendar, phase="survey", recipient=leader, template="escalation_digest") == [
        _d("05/01/2024")
    ]
    completed = [
        r
        for r in parse_form(read_sheets(calendar["staged"] / "khao_sat_tien_do.csv"), campaign).records
        if r.status == "completed" and r.completed_at.date() <= _d("25/12/2023")
    ]
    for r in completed[:10]:
        after = [d for d in _days(calendar, phase="survey", recipient=r.email) if d > r.completed_at.date()]
        assert after == [], r.email


def test_a_bounced_address_is_tried_once_and_never_again(calendar):
    bounce = calendar["bounce"]
    tried = [n for n in calendar["ledger"] if bounce in n.recipients]
    # refused by the server on the first try; at the next run every recipient is known bounced: dropped
    assert [(n.outcome, n.attempts, n.error) for n in tried] == [
        ("dropped", 1, "Mọi người nhận đều đã bị máy chủ thư trả lại.")
    ]
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
    # every mail's subject opens with its kind, in Vietnamese (the year as ####)
    kinds = Counter(re.sub(r"[0-9]{4}", "####", m["Subject"].split("]")[0] + "]") for m in calendar["mails"])
    print(len(calendar["mails"]), dict(kinds))
    assert (len(calendar["mails"]), dict(kinds)) == (668, MAIL_KINDS)
    for m in calendar["mails"]:
        assert m.get_body(("html",)) is not None


def test_only_the_coordinators_and_the_leader_get_airflow_links(calendar, campaign):
    """Everyone else (units, nominees, respondents, heads) gets the coordinators' phone and mailbox, and may
    reply; each head is addressed by title (tests/test_mail_readers.py has the titles by kind)."""
    snv = {c.email for c in campaign.contacts.coordinators} | {campaign.contacts.snv_leader.email}
    coordinator = campaign.contacts.coordinators[0]
    contact = f"- {coordinator.name} — điện thoại {coordinator.phone} — thư điện tử {coordinator.email}"
    heads = {u.head_email: u for u in campaign.active_units}
    for m in calendar["mails"]:
        body = m.get_body(("plain",)).get_content()
        assert "đừng trả lời" not in body and "Thủ trưởng" not in body
        if m["To"] in snv:
            assert campaign.ui_link() in body
            continue
        assert "localhost" not in body and "/dags/" not in body and contact in body
        if m["To"] in heads:
            assert body.splitlines()[0] == f"Kính gửi: {salutation(heads[m['To']], head=True)}"
    # each template's declared audience is who its mail went to
    coordinators, leader = snv - {campaign.contacts.snv_leader.email}, campaign.contacts.snv_leader.email
    sent_to = defaultdict(set)
    for n in calendar["ledger"]:
        sent_to[n.template].add(
            "leader"
            if leader in n.recipients
            else "coordinators"
            if set(n.recipients) <= coordinators
            else "units"
        )
    declared = {
        name: re.search(
            r'{% set audience = "(\w+)" %}', (TEMPLATES_DIR / "email" / f"{name}.txt").read_text()
        )[1]
        for name in sent_to
    }
    assert (
        {name: {audience} for name, audience in declared.items()}
        == sent_to
        == {
            "deadline_alert": {"coordinators"},
            "password_file": {"coordinators"},
            "escalation_digest": {"leader"},
            "reminder": {"units"},
            "escalation": {"units"},
            "survey_person": {"units"},
            "survey_unit_notice": {"units"},
            "portal_accounts": {"units"},
        }
    )


def _ladder(calendar, phase: str) -> dict[str, date]:
    """Step of the ladder → the first local day on which it went out to anyone (sent ledger entries)."""
    days = defaultdict(set)
    for n in calendar["ledger"]:
        if n.outcome == "sent" and n.phase == phase and _is_ladder(n):
            days[n.rung].add(n.sent_at.astimezone(calendar["tz"]).date())
    return {rung: min(d) for rung, d in days.items()}


def test_the_2023_ladder_day_by_day_on_working_days(calendar):
    ladders = {phase: _ladder(calendar, phase) for phase in LADDERS}
    for phase, ladder in ladders.items():
        print(phase, {rung: f"{day:%a %d/%m/%Y}" for rung, day in ladder.items()})
    assert ladders == {
        phase: {rung: _d(day) for rung, day in steps.items()} for phase, steps in LADDERS.items()
    }


def test_no_reminder_on_a_saturday_sunday_or_holiday(calendar):
    sent = sorted(
        {
            n.sent_at.astimezone(calendar["tz"]).date()
            for n in calendar["ledger"]
            if n.outcome == "sent" and _is_ladder(n)
        }
    )
    assert not set(sent) & {_d(day) for day in DAYS_OFF}
    assert all(day.weekday() < 5 and day != date(2024, 1, 1) for day in sent)
    # a ladder step went out on each of the ladders' days, and on no other day
    assert sent == sorted({_d(day) for ladder in LADDERS.values() for day in ladder.values()})


def test_reminders_name_the_deadline_s_weekday(calendar, campaign):
    unit = campaign.unit_by_code[sd.NOMINEES_NEVER_SENT]
    mails = {
        n.sent_at.astimezone(calendar["tz"]).date(): n.body_text
        for n in calendar["ledger"]
        if n.outcome == "sent" and n.phase == "nominees" and n.recipients == [unit.email]
    }
    assert (
        "Còn 8 ngày nữa là đến hạn “Cử công chức đầu mối (Phụ lục IV)”: thứ Bảy, 30/12/2023 23:59 "
        "(giờ Việt Nam)." in mails[date(2023, 12, 22)]
    )
    assert (
        "Còn 1 ngày nữa là đến hạn “Cử công chức đầu mối (Phụ lục IV)”: thứ Bảy, 30/12/2023 23:59 "
        "(giờ Việt Nam)." in mails[date(2023, 12, 29)]
    )
    assert "đã quá hạn (thứ Bảy, 30/12/2023 23:59 (giờ Việt Nam))" in mails[date(2024, 1, 2)]


def test_the_coordinators_notices_before_each_deadline_come_from_the_morning_runs_once_each(
    calendar, campaign
):
    """ "Còn 3 ngày" and "còn 1 ngày" to the coordinators: from the reminder run of that morning, any day of the
    week, once each, never at the deadline itself (that one is the deadlines DAG's, when the deadline is missed)."""
    coordinator = campaign.contacts.coordinators[0].email
    notices = [n for n in calendar["ledger"] if n.rung and n.rung.startswith("alert-")]
    for n in notices:
        print(n.phase, n.rung, f"{n.sent_at.astimezone(calendar['tz']):%a %d/%m/%Y %H:%M}", n.subject)
    assert {(n.phase, n.rung): f"{n.sent_at.astimezone(calendar['tz']):%d/%m/%Y %H:%M}" for n in notices} == {
        key: f"{day} 08:00" for key, day in COORDINATOR_NOTICES.items()
    }
    assert len(notices) == len(COORDINATOR_NOTICES) and {n.outcome for n in notices} == {"sent"}
    assert all(
        n.recipients == [coordinator] and n.key == f"{campaign.id}:{n.phase}:alert:{n.rung[6:]}:{coordinator}"
        for n in notices
    )
    [saturday] = [n for n in notices if (n.phase, n.rung) == ("survey", "alert-1d")]
    assert saturday.subject.startswith("[Cảnh báo hạn — còn 1 ngày] ")
    assert (
        'Còn 1 ngày đến hạn "Trả lời phiếu khảo sát xã hội học": Chủ nhật, 31/12/2023 23:59'
        in saturday.body_text
    )


def test_a_notice_is_due_from_its_moment_until_its_deadline_and_only_the_latest(campaign):
    from par_index.service import due_coordinator_notices

    def at(text: str) -> datetime:
        return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=campaign.tz)

    assert due_coordinator_notices(campaign, at("27/12/2023 07:59")) == []
    assert due_coordinator_notices(campaign, at("27/12/2023 08:00")) == [("nominees", "3d")]
    # a run that did not happen on 27-28/12: on 29/12 only "còn 1 ngày" is due, never a late "còn 3 ngày"
    assert due_coordinator_notices(campaign, at("29/12/2023 08:00")) == [("nominees", "1d"), ("survey", "3d")]
    assert due_coordinator_notices(campaign, at("31/12/2023 08:00")) == [("survey", "1d")]  # nominees: passed
    assert due_coordinator_notices(campaign, at("01/01/2024 00:00")) == []
