"""The reminder ladder: who is reminded of what, when, from the campaign store (never from memory).

For each deadline, the ladder's steps are: a first notice at the campaign's start (with the blank form), reminders
before the due day (default 7, 3 and 1 day), one on the due day, then overdue reminders (default daily, 3 times),
then an escalation to the unit's head and SNV's leader. At each run the latest step already due is sent to
everyone who has not complied, once (the notification ledger keeps each key to one send), never closer than the
minimum gap to the previous reminder of that person for that deadline, never more than the maximum count, and
never to an address known to bounce.

A ladder counted in whole days keeps to working days (workdays.py: no Saturday, Sunday, public holiday or day off
of the campaign's ``calendar:``); one counted in hours or minutes (a compressed rehearsal) runs by the clock:

- nothing of the ladder (first notice, reminders, escalations) goes out on a day off: a step due then waits for
  the next working day's run;
- a step before the deadline (``before`` and the due-day step) that falls on a day off moves to the previous working
  day; a due-day step moved so becomes a ``before`` step ("Còn 1 ngày nữa…", never "Hôm nay là hạn cuối");
- overdue steps and the escalation count working days after the deadline: overdue-1 at the deadline, each next one
  a working day later, so that each goes out on its own working day;
- two steps at the same moment make one mail: the first of the ladder.

The coordinators' notices before each deadline (``Campaign.alert_moments``) go out from the same runs but any day
(``service.due_coordinator_notices``); the "đã đến hạn" one comes from the deadlines DAG when a deadline is missed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from par_index import requests
from par_index.campaign import Campaign, Ladder, parse_duration
from par_index.intake.templates import template_for
from par_index.notify import SENT, TO_DELIVER, bounced, ledger_key
from par_index.phase_registry import COLLECTED, REGISTRY
from par_index.phases import REASON_TITLES, PhaseState, evaluate
from par_index.store.models import (
    Nominee,
    Notification,
    PortalAccount,
    RequestRecipient,
    RequestRow,
    SurveyProgress,
    SurveyRespondent,
)
from par_index.text import duration_vi, vn_weekday_date, vn_weekday_datetime
from par_index.workdays import add_working_days, is_working_day, previous_working_day


@dataclass(frozen=True)
class Rung:
    """One step of a reminder ladder and its moment."""

    name: str  # start | before-7d | due | overdue-1 | escalation
    at: datetime

    @property
    def kind(self) -> str:
        """The step's kind: start, before, due, overdue or escalation."""
        return self.name.split("-")[0]


@dataclass
class Mail:
    """A mail to send: ledger key, template, recipients and context."""

    key: str
    template: str
    recipients: list[str]
    phase: str | None
    unit_code: str | None
    rung: str | None
    context: dict = field(default_factory=dict)
    attachments: list[Path] = field(default_factory=list)


def rungs(campaign: Campaign, phase: str) -> list[Rung]:
    """The phase's reminder ladder: each rung's kind and moment."""
    return ladder_rungs(
        campaign,
        campaign.ladder_for(phase),
        campaign.due_anchor(phase),
        campaign.deadline_at(phase),
        campaign.starts_at,
    )


def ladder_rungs(
    campaign: Campaign,
    ladder: Ladder,
    anchor: datetime,
    deadline: datetime,
    start: datetime,
    with_start: bool = True,
) -> list[Rung]:
    """A ladder's rungs for one deadline (``anchor``: where the 'before' steps count back from), none before
    ``start``; the first notice at ``start`` unless ``with_start`` is False (a request's own mail is its first
    notice). A ladder in whole days keeps to the campaign's working days (the module docstring)."""
    if ladder.by_working_days:
        return _working_rungs(campaign, ladder, anchor, deadline, start, with_start)
    steps = [Rung("start", start)] if ladder.at_start and with_start else []
    steps += [Rung(f"before-{b}", anchor - parse_duration(b)) for b in ladder.before]
    if ladder.on_due_day:
        steps.append(Rung("due", anchor))
    every = parse_duration(ladder.overdue_every)
    steps += [Rung(f"overdue-{k}", deadline + every * (k - 1)) for k in range(1, ladder.overdue_times + 1)]
    if ladder.escalate:
        steps.append(Rung("escalation", deadline + every * ladder.overdue_times))
    return sorted((r for r in steps if r.at >= start), key=lambda r: r.at)


def _working_rungs(
    campaign: Campaign,
    ladder: Ladder,
    anchor: datetime,
    deadline: datetime,
    start: datetime,
    with_start: bool,
) -> list[Rung]:
    """The ladder on working days (the rules of the module docstring)."""
    cal, tz = campaign.calendar, campaign.tz
    anchor, deadline = anchor.astimezone(tz), deadline.astimezone(tz)

    def earlier(moment: datetime) -> datetime:
        if is_working_day(moment.date(), cal):
            return moment
        return datetime.combine(previous_working_day(moment.date(), cal), moment.timetz())

    steps = [Rung("start", start)] if ladder.at_start and with_start else []
    steps += [Rung(f"before-{b}", earlier(anchor - parse_duration(b))) for b in ladder.before]
    if ladder.on_due_day:
        due = earlier(anchor)
        steps.append(Rung("due", due) if due == anchor else Rung(f"before-{(anchor - due).days}d", due))
    days = parse_duration(ladder.overdue_every).days
    steps += [
        Rung(f"overdue-{k}", add_working_days(deadline, days * (k - 1), cal))
        for k in range(1, ladder.overdue_times + 1)
    ]
    if ladder.escalate:
        steps.append(Rung("escalation", add_working_days(deadline, days * ladder.overdue_times, cal)))
    kept: dict[datetime, Rung] = {}
    for rung in sorted((r for r in steps if r.at >= start), key=lambda r: r.at):
        kept.setdefault(rung.at, rung)
    return list(kept.values())


def working_day_for_reminders(campaign: Campaign, phase: str, now: datetime) -> bool:
    """Whether the ladder of ``phase`` may send at ``now`` (always, for a ladder that runs by the clock)."""
    return not campaign.ladder_for(phase).by_working_days or is_working_day(
        now.astimezone(campaign.tz).date(), campaign.calendar
    )


class _History:
    """What the ledger says was already sent, per (deadline, recipient)."""

    def __init__(self, session: Session, campaign: Campaign):
        self.sent: dict[tuple[str | None, str], list[datetime]] = defaultdict(list)
        self.keys: set[str] = set()
        for n in session.scalars(select(Notification).where(Notification.campaign_id == campaign.id)):
            self.keys.add(n.key)  # in the outbox: queued, sent or dropped alike, never planned twice
            if n.outcome == SENT or n.outcome in TO_DELIVER:  # sent, or on its way (held, retried)
                for r in n.recipients:
                    self.sent[(n.phase, r.lower())].append(n.sent_at or n.last_attempt_at)
        self.bounced = bounced(session)

    def allows(self, campaign: Campaign, phase: str, recipient: str, now: datetime, rung: Rung) -> bool:
        times = self.sent[(phase, recipient.lower())]
        if recipient.lower() in self.bounced:
            return False
        if rung.kind != "escalation" and len(times) >= campaign.reminders.max_per_recipient:
            return False  # the escalation, the last resort, is not held back by the count
        gap = parse_duration(campaign.reminders.min_gap)
        return not times or now - max(times) >= gap


def plan(session: Session, campaign: Campaign, now: datetime) -> list[Mail]:
    """Every reminder, notice and escalation due at ``now`` and not sent yet."""
    history = _History(session, campaign)
    mails: list[Mail] = []
    for phase in COLLECTED:
        due = [r for r in rungs(campaign, phase) if r.at <= now]
        if not due or not working_day_for_reminders(campaign, phase, now):
            continue
        rung = due[-1]
        state = evaluate(session, campaign, phase, now)
        builder = _survey_mails if phase == "survey" else _unit_mails
        planned: set[str] = set()  # one mail per person and deadline in one run
        for mail in builder(session, campaign, state, rung) + _leader_digest(campaign, state, rung):
            if mail.key in history.keys:
                continue
            mail.recipients = [
                r
                for r in mail.recipients
                if r.lower() not in planned and history.allows(campaign, phase, r, now, rung)
            ]
            planned.update(r.lower() for r in mail.recipients)
            if mail.recipients:
                mails.append(mail)
    mails += _portal_account_notices(session, campaign, history)
    mails += request_mails(session, campaign, history, now)
    return mails


def rung_sentence(campaign: Campaign, phase: str, rung: Rung) -> str:
    """The sentence of a reminder mail for one rung of the phase's ladder."""
    title, deadline = (
        campaign.phase_title(phase),
        f"{vn_weekday_datetime(campaign.deadline_at(phase))} (giờ Việt Nam)",
    )
    if rung.kind == "start":
        subject = campaign.directive.title_vi.removeprefix("V/v").strip()
        return (
            f"Thực hiện văn bản của {campaign.directive.issuer_vi} về việc {subject}, đề nghị đơn vị hoàn "
            f"thành nội dung “{title}” trước {deadline}."
        )
    if rung.kind == "before":
        return (
            f"Còn {duration_vi(campaign.due_anchor(phase) - rung.at)} nữa là đến hạn “{title}”: {deadline}."
        )
    if rung.kind == "due":
        return f"Hôm nay là hạn cuối của nội dung “{title}”: {deadline}."
    return f"Nội dung “{title}” đã quá hạn ({deadline})."


def _base(campaign: Campaign, phase: str, rung: Rung) -> dict:
    return {
        "phase_title": campaign.phase_title(phase),
        "deadline": campaign.deadline_at(phase),
        "rung_kind": rung.kind,
        "rung_sentence": rung_sentence(campaign, phase, rung),
    }


def _unit_mails(session: Session, campaign: Campaign, state: PhaseState, rung: Rung) -> list[Mail]:
    phase = state.phase
    nominees = nominee_emails(session, campaign) if phase == "self_scores" else {}
    form = REGISTRY[phase].blank_form
    attachments = [template_for(campaign, form)] if rung.kind == "start" and form else []
    mails = []
    for status in state.laggards:
        if status.reason == "late":  # complied after the deadline: nothing left to remind
            continue
        unit = campaign.unit_by_code[status.unit_code]
        if rung.kind == "escalation":
            recipients = [unit.head_email]  # SNV's leader gets one digest for all units (_leader_digest)
            template = "escalation"
        else:
            recipients = [unit.email, *nominees.get(unit.code, [])]
            template = "reminder"
        for recipient in recipients:
            mails.append(
                Mail(
                    ledger_key(campaign, phase, rung.name, unit.code, recipient=recipient),
                    template,
                    [recipient],
                    phase,
                    unit.code,
                    rung.name,
                    _base(campaign, phase, rung)
                    | {"unit": unit, "status": status, "reason": REASON_TITLES[status.reason]},
                    attachments,
                )
            )
    return mails


def nominee_emails(session: Session, campaign: Campaign) -> dict[str, list[str]]:
    """Unit → the e-mail addresses of its accepted nominees (Appendix IV)."""
    emails: dict[str, list[str]] = defaultdict(list)
    for n in session.scalars(select(Nominee).where(Nominee.campaign_id == campaign.id).order_by(Nominee.id)):
        emails[n.unit_code].append(n.email)
    return emails


def _survey_mails(session: Session, campaign: Campaign, state: PhaseState, rung: Rung) -> list[Mail]:
    """A personal reminder to each leader who has not finished, and a notice to the unit's head naming them."""
    done = {
        p.email
        for p in session.scalars(select(SurveyProgress).where(SurveyProgress.campaign_id == campaign.id))
        if p.status == "completed"
        and p.answered >= p.total > 0
        and (p.completed_at is None or p.completed_at <= state.now)
    }
    missing: dict[str, list[SurveyRespondent]] = defaultdict(list)
    for person in session.scalars(
        select(SurveyRespondent)
        .where(SurveyRespondent.campaign_id == campaign.id)
        .order_by(SurveyRespondent.unit_code, SurveyRespondent.full_name)
    ):
        if person.email not in done:
            missing[person.unit_code].append(person)
    mails = []
    for status in state.laggards:
        unit = campaign.unit_by_code[status.unit_code]
        people = missing.get(unit.code, [])
        if (
            not people
        ):  # the unit is not on SNV's roster yet: nobody to remind (the coordinators' alerts say so)
            continue
        context = _base(campaign, "survey", rung) | {"unit": unit, "status": status, "people": people}
        if rung.kind != "escalation":
            for person in people:
                mails.append(
                    Mail(
                        ledger_key(campaign, "survey", rung.name, unit.code, recipient=person.email),
                        "survey_person",
                        [person.email],
                        "survey",
                        unit.code,
                        rung.name,
                        context | {"person": person},
                    )
                )
        mails.append(
            Mail(
                ledger_key(campaign, "survey", rung.name, unit.code, recipient=unit.head_email),
                "survey_unit_notice",
                [unit.head_email],
                "survey",
                unit.code,
                rung.name,
                context,
            )
        )
    return mails


def _leader_digest(campaign: Campaign, state: PhaseState, rung: Rung) -> list[Mail]:
    """At the escalation step, one mail to SNV's leader listing every unit still not done."""
    if rung.kind != "escalation" or all(s.reason == "late" for s in state.laggards):
        return []
    leader = campaign.contacts.snv_leader
    return [
        Mail(
            ledger_key(campaign, state.phase, rung.name, "leader", recipient=leader.email),
            "escalation_digest",
            [leader.email],
            state.phase,
            None,
            rung.name,
            _base(campaign, state.phase, rung)
            | {
                "state": state,
                "recipient_name": leader.name,
                "unit_names": campaign.unit_names,
                "reason_titles": REASON_TITLES,
                "ui_url": campaign.ui_link(),
            },
        )
    ]


def _portal_account_notices(session: Session, campaign: Campaign, history: _History) -> list[Mail]:
    """Each accepted nominee receives the unit's account names on MoHA's software (never a password)."""
    accounts: dict[str, list[PortalAccount]] = defaultdict(list)
    for account in session.scalars(
        select(PortalAccount).where(PortalAccount.campaign_id == campaign.id).order_by(PortalAccount.login)
    ):
        accounts[account.unit_code].append(account)
    mails = []
    for nominee in session.scalars(select(Nominee).where(Nominee.campaign_id == campaign.id)):
        if not accounts.get(nominee.unit_code) or nominee.email.lower() in history.bounced:
            continue
        key = ledger_key(campaign, "accounts", nominee.unit_code, recipient=nominee.email)
        if key in history.keys:
            continue
        mails.append(
            Mail(
                key,
                "portal_accounts",
                [nominee.email],
                "nominees",
                nominee.unit_code,
                None,
                {
                    "unit": campaign.unit_by_code[nominee.unit_code],
                    "nominee": nominee,
                    "accounts": accounts[nominee.unit_code],
                },
            )
        )
    return mails


def request_rungs(campaign: Campaign, row: RequestRow) -> list[Rung]:
    """A request's ladder: the campaign's default ladder counted from its due day, from when it was made (its own
    mail is the first notice)."""
    anchor = datetime.combine(row.due, time(0, 0), tzinfo=campaign.tz)
    return ladder_rungs(
        campaign, campaign.reminders.ladder, anchor, requests.due_at(campaign, row), row.created_at, False
    )


def request_sentence(campaign: Campaign, row: RequestRow, rung: Rung) -> str:
    """The sentence of a request reminder for one rung."""
    number, due = requests.label(row.number), vn_weekday_date(row.due)
    if rung.kind == "before":
        anchor = datetime.combine(row.due, time(0, 0), tzinfo=campaign.tz)
        return f"Còn {duration_vi(anchor - rung.at)} nữa là đến hạn trả lời yêu cầu {number}: {due}."
    if rung.kind == "due":
        return f"Hôm nay là hạn cuối trả lời yêu cầu {number}: {due}."
    return f"Yêu cầu {number} đã quá hạn trả lời ({due})."


def request_mails(session: Session, campaign: Campaign, history: _History, now: datetime) -> list[Mail]:
    """For each unit that has not answered a request: the latest step of the request's ladder due at ``now``,
    once, on working days (the escalation to the unit's head, the requester in copy)."""
    if campaign.reminders.ladder.by_working_days and not is_working_day(
        now.astimezone(campaign.tz).date(), campaign.calendar
    ):
        return []
    mails = []
    rows = {r.id: r for r in session.scalars(select(RequestRow).where(RequestRow.campaign_id == campaign.id))}
    for recipient in session.scalars(
        select(RequestRecipient)
        .where(RequestRecipient.request_id.in_(rows), RequestRecipient.answered_at.is_(None))
        .order_by(RequestRecipient.request_id, RequestRecipient.unit_code)
    ):
        row = rows[recipient.request_id]
        due = [r for r in request_rungs(campaign, row) if r.at <= now]
        unit = campaign.unit_by_code.get(recipient.unit_code)
        if not due or unit is None:
            continue
        rung, number = due[-1], requests.label(row.number)
        key = ledger_key(campaign, "request", number, rung.name, unit.code)
        to = [unit.head_email if rung.kind == "escalation" else unit.email, row.requester_email]
        to = [r for r in to if r.lower() not in history.bounced]
        if key in history.keys or not to:
            continue
        mails.append(
            Mail(
                key,
                "request_reminder",
                to,
                "request",
                unit.code,
                f"{number}:{rung.name}",
                requests.mail_context(campaign, row)
                | {
                    "unit": unit,
                    "rung_kind": rung.kind,
                    "rung_sentence": request_sentence(campaign, row, rung),
                },
            )
        )
    return mails
