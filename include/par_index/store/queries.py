"""The campaign operations' reads and writes of the store (:mod:`par_index.service` calls these): each takes an
open session and the campaign."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from par_index.intake.records import Coverage
from par_index.phase_registry import ALL_FORMS
from par_index.store.models import (
    AssignmentRow,
    CampaignRow,
    InboxEntry,
    IntakeIssue,
    Notification,
    PhaseOutcome,
    ReceivedFile,
    UnitRow,
)

if TYPE_CHECKING:
    from par_index.campaign import Campaign


def sync_campaign(session: Session, campaign: Campaign, config_sha256: str) -> None:
    """Write the campaign, its active units and its Appendix I assignments (replacing those stored before)."""
    session.merge(
        CampaignRow(
            id=campaign.id,
            dag_id=campaign.dag_id,
            title_vi=campaign.title_vi,
            year=campaign.campaign.year,
            catalogue_code=campaign.catalogue.code,
            config_sha256=config_sha256,
            synced_at=datetime.now(UTC),
        )
    )
    session.flush()
    session.execute(delete(UnitRow).where(UnitRow.campaign_id == campaign.id))
    session.execute(delete(AssignmentRow).where(AssignmentRow.campaign_id == campaign.id))
    for u in campaign.active_units:
        session.add(
            UnitRow(
                campaign_id=campaign.id,
                code=u.code,
                name_vi=u.name_vi,
                kind=u.kind,
                valid_from=u.valid_from,
                valid_until=u.valid_until,
                email=u.email,
                head_email=u.head_email,
            )
        )
    for code, unit in campaign.assignment_of.items():
        session.add(AssignmentRow(campaign_id=campaign.id, criterion_code=code, unit_code=unit))


def unit_difficulties(session: Session, campaign: Campaign) -> dict[str, str]:
    """Each unit's "Khó khăn, vướng mắc, đề xuất" (Appendix II, ``ReceivedFile.header["difficulties"]``) from its
    current report: the last accepted Appendix II stored, whose scores are the unit's (a later report without the
    field leaves the unit with none). Units in the campaign file's order; units without difficulties left out."""
    current: dict[str, str | None] = {}
    for row in session.scalars(
        select(ReceivedFile)
        .where(
            ReceivedFile.campaign_id == campaign.id,
            ReceivedFile.form_kind == "appendix_ii",
            ReceivedFile.status == "accepted",
        )
        .order_by(ReceivedFile.id)
    ):
        if row.unit_code:
            current[row.unit_code] = (row.header or {}).get("difficulties")
    return {u.code: text for u in campaign.units if (text := current.get(u.code))}


def files_with_issue(session: Session, campaign: Campaign, code: str) -> list[ReceivedFile]:
    """The received files that met the intake issue ``code`` (e.g. INT072: moved out of the inbox)."""
    return list(
        session.execute(
            select(ReceivedFile)
            .join(IntakeIssue, IntakeIssue.file_id == ReceivedFile.id)
            .where(ReceivedFile.campaign_id == campaign.id, IntakeIssue.code == code)
        )
        .scalars()
        .all()
    )


def received_files(
    session: Session,
    campaign: Campaign,
    until: datetime | None = None,
    kinds: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
) -> list[tuple[ReceivedFile, list[IntakeIssue]]]:
    """The campaign's received files, oldest first, each with its intake problems in the order found: those that
    arrived by ``until`` (default: all), of the form ``kinds`` or of no form the campaign reads (unreadable,
    unrecognised; default: any), with a
    status in ``statuses`` (default: any)."""
    query = select(ReceivedFile).where(ReceivedFile.campaign_id == campaign.id)
    if until is not None:
        query = query.where(ReceivedFile.arrived_at <= until)
    if kinds is not None:
        recognised = or_(
            ReceivedFile.form_kind.in_(list(kinds)), ReceivedFile.form_kind.notin_(list(ALL_FORMS))
        )
        query = query.where(or_(recognised, ReceivedFile.form_kind.is_(None)))
    if statuses is not None:
        query = query.where(ReceivedFile.status.in_(list(statuses)))
    files = session.scalars(query.order_by(ReceivedFile.arrived_at, ReceivedFile.id)).all()
    issues: dict[int, list[IntakeIssue]] = {f.id: [] for f in files}
    if files:
        for issue in session.scalars(
            select(IntakeIssue).where(IntakeIssue.file_id.in_(list(issues))).order_by(IntakeIssue.id)
        ):
            issues[issue.file_id].append(issue)
    return [(f, issues[f.id]) for f in files]


def ledger_keys(session: Session, campaign: Campaign) -> set[str]:
    """Every mail key in the campaign's ledger (whatever its outcome)."""
    return set(session.scalars(select(Notification.key).where(Notification.campaign_id == campaign.id)))


def last_sent(session: Session, campaign: Campaign, template: str, unit_code: str) -> Notification | None:
    """The unit's last mail of ``template`` that went out."""
    return session.scalars(
        select(Notification)
        .where(
            Notification.campaign_id == campaign.id,
            Notification.template == template,
            Notification.unit_code == unit_code,
            Notification.outcome == "sent",
        )
        .order_by(Notification.sent_at.desc())
    ).first()


def ledger_entries(
    session: Session, campaign: Campaign, template: str, key_prefix: str
) -> list[Notification]:
    """The campaign's mails of ``template`` whose key starts with ``key_prefix`` (a :func:`ledger_key` without its
    recipient, ending in ':')."""
    return list(
        session.scalars(
            select(Notification).where(
                Notification.campaign_id == campaign.id,
                Notification.template == template,
                Notification.key.like(f"{key_prefix}%"),
            )
        ).all()
    )


def sent_at(session: Session, key: str) -> datetime | None:
    """When the mail of ledger key ``key`` went out (None: not sent)."""
    return session.scalar(
        select(Notification.sent_at).where(Notification.key == key, Notification.outcome == "sent")
    )


def phase_outcome(session: Session, campaign: Campaign, phase: str) -> PhaseOutcome | None:
    """How the phase closed (None: not closed yet)."""
    return session.get(PhaseOutcome, (campaign.id, phase))


def portal_refusals(session: Session, campaign: Campaign) -> list[IntakeIssue]:
    """The software rows that stand refused (a score, count, time or status that cannot be read: no valid score
    on the software), one finding per unit and criterion, from the latest export or feed snapshot that covers
    it; ordered by unit, criterion."""
    files = session.scalars(
        select(ReceivedFile).where(
            ReceivedFile.campaign_id == campaign.id,
            ReceivedFile.form_kind == "portal_export",
            ReceivedFile.status == "accepted",
        )
    ).all()
    covers = {f.id: (f.arrived_at, Coverage.of(f.header)) for f in files}
    found: dict[tuple[str, str], IntakeIssue] = {}
    issues = session.scalars(
        select(IntakeIssue)
        .where(
            IntakeIssue.file_id.in_(covers),
            IntakeIssue.severity == "error",
            IntakeIssue.unit_code.is_not(None),
            IntakeIssue.criterion_code.is_not(None),
        )
        .order_by(IntakeIssue.id)
    ).all()
    for issue in issues:
        unit, code = cast(str, issue.unit_code), cast(str, issue.criterion_code)
        area = campaign.catalogue[code].area if code in campaign.catalogue else code
        arrived = covers[issue.file_id][0]
        if not any(at > arrived and cover.covers(unit, area) for at, cover in covers.values()):
            found[(unit, code)] = issue
    return [found[key] for key in sorted(found)]


def inbox_recorded(session: Session, campaign: Campaign) -> set[tuple[str, int, int]]:
    """Each inbox path the store has registered as a received file, as (path key, modification time, size): the
    entries of :func:`~par_index.intake.inbox.inbox_signature` that no check needs to read again (a path only noted
    as another phase's form is not one of them)."""
    return {
        (key, mtime, size)
        for key, mtime, size in session.execute(
            select(InboxEntry.path_key, InboxEntry.mtime_ns, InboxEntry.size_bytes).where(
                InboxEntry.campaign_id == campaign.id, InboxEntry.file_id.is_not(None)
            )
        )
    }
