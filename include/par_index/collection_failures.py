"""Failures while collecting a phase (a feed of MoHA's software that did not answer, the collection task itself).

A failure never ends a phase: it is recorded with its code and time, the phase goes on from the inbox, the
dashboard lists it, and the coordinators' next mail names it once (then it is marked reported)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.store.models import CollectionFailure

TASK_SOURCE = "Tác vụ thu nhận"
TASK_FAILED = "COL001"


def record(
    session: Session, campaign: Campaign, phase: str, source: str, code: str, message: str, at: datetime
) -> CollectionFailure:
    """Note that collecting ``source`` for ``phase`` failed, with its code and message."""
    failure = CollectionFailure(
        campaign_id=campaign.id, phase=phase, source=source, code=code, message=message, occurred_at=at
    )
    session.add(failure)
    session.flush()
    return failure


def unreported(session: Session, campaign: Campaign, until: datetime) -> list[CollectionFailure]:
    """Failures not yet named in a coordinators' mail, oldest first, up to ``until``."""
    return list(
        session.scalars(
            select(CollectionFailure)
            .where(
                CollectionFailure.campaign_id == campaign.id,
                CollectionFailure.reported_at.is_(None),
                CollectionFailure.occurred_at <= until,
            )
            .order_by(CollectionFailure.occurred_at, CollectionFailure.id)
        )
    )


def recent(session: Session, campaign: Campaign, until: datetime, limit: int = 20) -> list[CollectionFailure]:
    """The latest failures up to ``until`` (the dashboard), newest first."""
    return list(
        session.scalars(
            select(CollectionFailure)
            .where(CollectionFailure.campaign_id == campaign.id, CollectionFailure.occurred_at <= until)
            .order_by(CollectionFailure.occurred_at.desc(), CollectionFailure.id.desc())
            .limit(limit)
        )
    )


def mark_reported(failures: list[CollectionFailure], at: datetime) -> None:
    """Mark the failures as reported at ``at``."""
    for failure in failures:
        failure.reported_at = at
