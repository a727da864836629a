"""The campaign operations' reads and writes of the store (:mod:`par_index.service` calls these): each takes an
open session and the campaign."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from par_index.phase_registry import ALL_FORMS
from par_index.store.models import (
    AssignmentRow,
    CampaignRow,
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
