"""The sender told at once: an answer to each file a unit sends that was refused or accepted with problems.

Whatever path read the file (a phase sensor, the reminder run, the inbox watcher's feedback DAG), the answer comes
from the store: :func:`plan` looks at every received file and the ledger, and :func:`answer_files` puts in the
outbox one mail per recipient and file version that has none yet (``ledger_key(campaign, "feedback", kind, unit,
file, recipient=…)``; the file is its name and arrival time, :func:`~par_index.notify.ledger_file_part`). So a file
is answered once, however many runs see it, and a mail held or failed goes out at the next delivery (the outbox).

Who hears what:

- a file **refused**, or **accepted with warnings**: the unit and its accepted nominees (Appendix IV), each problem
  with its sheet, cell (or row) and what to do; a file whose unit could not be read (no or an unknown “Đơn vị:”)
  goes to the coordinators, who know who sent it;
- a file **accepted without a problem** after a file of the same unit and form was answered with problems: the
  unit hears that the corrected file supersedes it (its own answer);
- a file superseded before it was answered (a later file of the unit and form was accepted first), a feed's
  snapshot, and a file moved out for holding passwords (the coordinators' own mail, ``password_file``) get no
  answer here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from par_index.campaign import Campaign, Unit
from par_index.intake.forms import SPEC_BY_KIND
from par_index.intake.issue import location
from par_index.notify import enqueue, ledger_file_part, ledger_key
from par_index.phase_registry import REGISTRY
from par_index.reminders import nominee_emails
from par_index.runtime import Runtime
from par_index.store.models import IntakeIssue, Notification, ReceivedFile

TEMPLATE = "file_feedback"
NO_UNIT = "-"  # the unit part of the key of a file whose unit could not be read
QUARANTINED = "INT072"  # a file with passwords: the coordinators' own mail tells them
FEED_SUFFIX = ".json"  # a feed's snapshot is archived as JSON and named after its feed
ACTIONS = {
    "error": "Sửa lỗi này trong tệp rồi gửi lại cả tệp vào hộp thư đến.",
    "warning": "Tệp vẫn được tiếp nhận; kiểm tra lại, nếu cần sửa thì gửi lại cả tệp.",
}


@dataclass(frozen=True)
class Problem:
    """One problem of a file, as the sender reads it: where, what, and what to do."""

    severity: str
    code: str
    where: str
    message: str
    action: str

    @property
    def line(self) -> str:
        """“[INT041] trang Phụ lục IV, ô C9, cột “Chức vụ”: Thiếu chức vụ. Sửa lỗi này …”."""
        where = f"{self.where}: " if self.where else ""
        return f"[{self.code}] {where}{self.message} {self.action}"


@dataclass
class Answer:
    """The answer due for one received file: its mail's recipients and what it says."""

    file: ReceivedFile
    unit: Unit | None
    recipients: list[str]
    problems: list[Problem] = field(default_factory=list)
    supersedes: ReceivedFile | None = None  # the answered file a clean one corrects

    @property
    def outcome(self) -> str:
        """refused | warnings | corrected."""
        if self.file.status == "rejected":
            return "refused"
        return "warnings" if self.problems else "corrected"


def file_key(campaign: Campaign, received: ReceivedFile, recipient: str | None = None) -> str:
    """The ledger key of the answer to ``received`` for ``recipient`` (without it: the prefix of all of them)."""
    parts = [
        "feedback",
        received.form_kind or "unknown",
        received.unit_code or NO_UNIT,
        ledger_file_part(received.original_name, received.arrived_at),
    ]
    if recipient is None:
        return ledger_key(campaign, *parts) + ":"
    return ledger_key(campaign, *parts, recipient=recipient)


def problems_of(issues: Iterable[IntakeIssue]) -> list[Problem]:
    """Each issue as the sender reads it, errors first, in sheet and row order."""
    ordered = sorted(issues, key=lambda i: (i.severity != "error", i.sheet or "", i.row or 0, i.id or 0))
    return [
        Problem(
            i.severity,
            i.code,
            location(i.sheet, i.row, i.column, i.cell),
            i.message,
            ACTIONS.get(i.severity, ACTIONS["warning"]),
        )
        for i in ordered
    ]


def _is_feed(received: ReceivedFile) -> bool:
    """Whether ``received`` is a snapshot of MoHA's feed (``inbox.ingest_feed``), not a file someone sent."""
    names = {p.feed.name for p in REGISTRY.values() if p.feed}
    return received.archived_as.endswith(FEED_SUFFIX) and any(
        received.original_name.startswith(f"{name} (") for name in names
    )


def plan(session: Session, campaign: Campaign) -> list[Answer]:
    """The answers due: every received file (oldest first) that calls for one (the module's rules) and has none
    yet. A file is answered once, to its recipients of that moment: a nominee accepted later does not receive the
    answers to the unit's earlier files."""
    files = session.scalars(
        select(ReceivedFile).where(ReceivedFile.campaign_id == campaign.id).order_by(ReceivedFile.id)
    ).all()
    issues: dict[int, list[IntakeIssue]] = {}
    for issue in session.scalars(
        select(IntakeIssue)
        .join(ReceivedFile, ReceivedFile.id == IntakeIssue.file_id)
        .where(ReceivedFile.campaign_id == campaign.id)
    ):
        issues.setdefault(issue.file_id, []).append(issue)
    answered = {
        key.rsplit(":", 1)[0] + ":"  # the file's part of each key: a file is answered once, to all at once
        for key in session.scalars(
            select(Notification.key).where(
                Notification.campaign_id == campaign.id, Notification.template == TEMPLATE
            )
        )
    }
    accepted_at: dict[tuple[str | None, str | None], datetime] = {}
    for received in files:
        if received.status == "accepted" and received.unit_code:
            kept = (received.form_kind, received.unit_code)
            accepted_at[kept] = max(accepted_at.get(kept, received.arrived_at), received.arrived_at)
    nominees = nominee_emails(session, campaign)
    last_answered: dict[tuple[str | None, str | None], ReceivedFile] = {}
    answers = []
    for received in files:
        found = issues.get(received.id, [])
        slot = (received.form_kind, received.unit_code)
        if file_key(campaign, received) in answered:  # to its recipients of then: never again
            last_answered[slot] = received
            continue
        if (
            received.status not in ("rejected", "accepted")
            or QUARANTINED in {i.code for i in found}
            or _is_feed(received)
            or accepted_at.get(slot, received.arrived_at) > received.arrived_at
        ):  # superseded, or a later file of the unit's was accepted before this one was answered
            continue
        unit = campaign.unit_by_code.get(received.unit_code or "")
        recipients = (
            [unit.email, *nominees.get(unit.code, [])]
            if unit is not None
            else [c.email for c in campaign.contacts.coordinators]
        )
        answer = Answer(received, unit, list(dict.fromkeys(recipients)), problems_of(found))
        if not answer.problems:
            earlier = last_answered.get(slot) if unit is not None else None
            if earlier is None:
                continue  # a clean file nobody was told about: nothing to say
            answer.supersedes = earlier
        last_answered[slot] = received
        answers.append(answer)
    return answers


def _deadline(campaign: Campaign, kind: str | None) -> datetime | None:
    """The deadline of the phase that reads forms of ``kind``."""
    for phase, entry in REGISTRY.items():
        if kind in entry.forms and phase in campaign.deadlines:
            return campaign.deadline_at(phase)
    return None


def _phase(kind: str | None) -> str | None:
    return next((phase for phase, entry in REGISTRY.items() if kind in entry.forms), None)


def answer_files(session: Session, campaign: Campaign, now: datetime) -> dict[str, str]:
    """Put every answer due (:func:`plan`) in the outbox, one mail per recipient, in the caller's transaction;
    each key's outcome (``queued``, or its state when it was there already)."""
    queued = {}
    for answer in plan(session, campaign):
        received = answer.file
        spec = SPEC_BY_KIND.get(received.form_kind or "")
        context: dict[str, Any] = {
            "answer": answer,
            "name": received.original_name,
            "arrived": received.arrived_at.astimezone(campaign.tz),
            "form_title": spec.title_vi if spec else "tệp",
            "unit": answer.unit,
            "deadline": _deadline(campaign, received.form_kind),
            "errors": [p for p in answer.problems if p.severity == "error"],
            "warnings": [p for p in answer.problems if p.severity != "error"],
            "earlier": answer.supersedes,
            "earlier_arrived": answer.supersedes.arrived_at.astimezone(campaign.tz)
            if answer.supersedes
            else None,
            "ui_url": campaign.ui_link(),
        }
        for recipient in answer.recipients:
            key = file_key(campaign, received, recipient)
            queued[key] = enqueue(
                session,
                campaign,
                key=key,
                template=TEMPLATE,
                recipients=[recipient],
                phase=_phase(received.form_kind),
                unit_code=received.unit_code,
                now=now,
                **context,
            )
    return queued


def run(campaign: Campaign, rt: Runtime, now: datetime | None = None) -> dict:
    """One run of the feedback DAG: read the inbox (every form, the same intake as the phase sensors; a file
    another check is reading is waited for by the store), commit, then answer every file due and send the outbox.
    Rerun, it reads and sends nothing new. A file left for later (still being written, or cut off and young) is
    answered by a later run: the watcher fires again while the store has not recorded it."""
    from par_index.intake.inbox import ingest
    from par_index.service import deliver, prepare
    from par_index.store import session_scope
    from par_index.store.models import CampaignRow

    now = now or datetime.now(UTC)
    try:
        with session_scope(rt.store_url) as s:
            prepared = s.get(CampaignRow, campaign.id) is not None
    except DBAPIError:  # a store not made yet
        prepared = False
    if not prepared:  # a file came before the campaign's DAG put the campaign in the store
        prepare(campaign, rt)
    with session_scope(rt.store_url) as s:
        intake = ingest(s, campaign, None, now)
    with session_scope(rt.store_url) as s:
        queued = answer_files(s, campaign, now)
        files = len({key.rsplit(":", 1)[0] for key in queued})
    return {
        "new_files": len(intake.results),
        "rejected": [r.name for r in intake.results if r.status == "rejected"],
        "pending": intake.pending,
        "answered_files": files,
        "mail": dict(deliver(rt, campaign, queued, now)),
    }
