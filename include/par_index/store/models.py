"""Campaign store: SQLAlchemy 2 models. Schema changes go through Alembic migrations (``migrations/``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware datetimes stored as UTC; read back aware (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """An aware datetime as the database stores it (UTC, naive on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the campaign store")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: ARG002 - SQLAlchemy's TypeDecorator hook
        """The stored value as an aware UTC datetime."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


Points = Numeric(6, 2)


class Base(DeclarativeBase):
    """The campaign store's declarative base."""


class CampaignRow(Base):
    """A campaign as the store knows it."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(128))
    title_vi: Mapped[str] = mapped_column(String(255))
    year: Mapped[int]
    catalogue_code: Mapped[str] = mapped_column(String(64))
    config_sha256: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnitRow(Base):
    """A unit of a campaign."""

    __tablename__ = "units"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    email: Mapped[str] = mapped_column(String(255))
    head_email: Mapped[str] = mapped_column(String(255))


class AssignmentRow(Base):
    """Which unit scores which item (Appendix I)."""

    __tablename__ = "assignments"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    criterion_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32))


class ReceivedFile(Base):
    """Every file received, once per content and name (its path in the inbox, sub-folders kept), with its SHA-256;
    ``status`` accepted | rejected | superseded. A refusal is superseded when the same path later holds a file that
    was read (a half-copied file, then the whole one)."""

    __tablename__ = "received_files"
    __table_args__ = (UniqueConstraint("campaign_id", "sha256", "original_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(512))
    archived_as: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger)  # from stat: a refused file may be many GB
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    form_kind: Mapped[str | None] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("received_files.id"))
    header: Mapped[dict | None] = mapped_column(JSON)


class InboxEntry(Base):
    """What intake last saw at one inbox path (size, modification time) and what became of it: a check reads only
    paths that are new or changed since. ``path_key`` is the SHA-256 of the path's bytes (any name, even one that is
    not UTF-8); ``display_name`` the readable form shown to users."""

    __tablename__ = "inbox_entries"
    __table_args__ = (UniqueConstraint("campaign_id", "path_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    path_key: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    form_kind: Mapped[str | None] = mapped_column(String(32))  # what the file holds, once read
    file_id: Mapped[int | None] = mapped_column(ForeignKey("received_files.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IntakeIssue(Base):
    """A problem found in a received file: ``severity`` error (file set aside, or the row refused in a multi-unit
    file) | warning (kept). In a multi-unit file, the unit (and criterion) of its row when known: a software
    score that cannot be read is a finding of that unit (:func:`par_index.store.queries.portal_refusals`)."""

    __tablename__ = "intake_issues"
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(16))
    sheet: Mapped[str | None] = mapped_column(String(128))
    row: Mapped[int | None]
    column: Mapped[str | None] = mapped_column(String(128))
    cell: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    criterion_code: Mapped[str | None] = mapped_column(String(32))


class Nominee(Base):
    """A civil servant a unit nominates (Appendix IV)."""

    __tablename__ = "nominees"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_code: Mapped[str] = mapped_column(String(32))
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))
    full_name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(255))
    division: Mapped[str | None] = mapped_column(String(255))
    areas: Mapped[list] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(255))
    council_member: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_nominees_unit", "campaign_id", "unit_code"),)


class SurveyRespondent(Base):
    """SNV's respondent roster: who is expected to answer MoHA's survey."""

    __tablename__ = "survey_respondents"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(255), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str | None] = mapped_column(String(255))
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    group: Mapped[str | None] = mapped_column(String(128))
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))


class SurveyProgress(Base):
    """Latest known progress of one respondent (from the progress export or feed)."""

    __tablename__ = "survey_progress"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # completed | in_progress | not_started
    answered: Mapped[int]
    total: Mapped[int]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))


class Score(Base):
    """A self-score as it stands in one source: ``report`` (Appendix II) or ``portal`` (MoHA's software)."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("campaign_id", "source", "unit_code", "criterion_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    source: Mapped[str] = mapped_column(String(8))
    unit_code: Mapped[str] = mapped_column(String(32))
    criterion_code: Mapped[str] = mapped_column(String(32))
    score: Mapped[Decimal | None] = mapped_column(Points)
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_count: Mapped[int | None]
    explanation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # report: when it was signed
    duplicates: Mapped[int] = mapped_column(
        default=1
    )  # rows the source had for this key (the latest is kept)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))


class Reconciliation(Base):
    """One run of mismatch detection: its scope, tolerance and summary."""

    __tablename__ = "reconciliations"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    scope: Mapped[str] = mapped_column(String(255))
    units: Mapped[list] = mapped_column(JSON)
    areas: Mapped[list] = mapped_column(JSON)
    tolerance: Mapped[Decimal] = mapped_column(Points)
    rows_compared: Mapped[int]
    equal: Mapped[int]
    counts: Mapped[dict] = mapped_column(JSON)
    largest: Mapped[list] = mapped_column(JSON)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Mismatch(Base):
    """A disagreement found by reconciliation; a run replaces the rows of the units and areas of its scope."""

    __tablename__ = "mismatches"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliations.id"))
    scope: Mapped[str] = mapped_column(String(255), index=True)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    criterion_code: Mapped[str] = mapped_column(String(32))
    area: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(32))
    report_score: Mapped[Decimal | None] = mapped_column(Points)
    portal_score: Mapped[Decimal | None] = mapped_column(Points)
    difference: Mapped[Decimal | None] = mapped_column(Points)
    message: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhaseOutcome(Base):
    """How a phase ended: complete or closed incomplete."""

    __tablename__ = "phase_outcomes"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(24))  # complete | closed_incomplete
    collection_failed: Mapped[bool] = mapped_column(
        default=False
    )  # closed although its collection task failed
    expected_units: Mapped[int]
    complete_units: Mapped[int]
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CollectionFailure(Base):
    """A failure while collecting a phase: a feed of MoHA's software that did not answer during a check, or the
    collection task itself. Shown on the dashboard and in the coordinators' next mail (then ``reported_at``)."""

    __tablename__ = "collection_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    phase: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(128))  # the feed's name, or "thu nhận" for the task
    code: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LateUnit(Base):
    """A unit late or incomplete for one deadline (the directive's criticism list)."""

    __tablename__ = "late_units"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # missing | late | incomplete | invalid
    detail: Mapped[str] = mapped_column(Text)


class Notification(Base):
    """The outbox and ledger of every mail: one row per key, rendered when enqueued; ``outcome`` queued (held
    while mail is not configured) | sending | sent | failed (retried) | dropped (obsolete, with the reason)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    template: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str | None] = mapped_column(String(32))
    recipients: Mapped[list] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(512))
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # what was rendered, so that a failed send is retried exactly as it was meant
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list | None] = mapped_column(JSON)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    rung: Mapped[str | None] = mapped_column(
        String(32)
    )  # the reminder ladder's step, e.g. "-3d" or "overdue-1"
    message_id: Mapped[str | None] = mapped_column(String(255))  # the same for every attempt
    reply_to: Mapped[list | None] = mapped_column(JSON)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BouncedAddress(Base):
    """An address the mail server refused: no reminder goes there again."""

    __tablename__ = "bounced_addresses"
    email: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortalAccount(Base):
    """A unit's account on MoHA's scoring software (Appendix III). Never a password."""

    __tablename__ = "portal_accounts"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    login: Mapped[str] = mapped_column(String(128), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    scope: Mapped[str | None] = mapped_column(String(255))
    manager: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))


class ReportBuild(Base):
    """One assembly of the provincial report (workbook + Word) and its way to the PPC:
    ``awaiting`` approval → ``rejected`` (with the reason) or ``approved`` → ``delivered``."""

    __tablename__ = "report_builds"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    number: Mapped[int]  # 1, 2, … per campaign
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[str | None] = mapped_column(String(255))  # the Airflow run that built it
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)


class ReportVersion(Base):
    """A file of a report build, with its SHA-256: as built, and the archived copy delivered to the PPC."""

    __tablename__ = "report_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    build_id: Mapped[int | None] = mapped_column(ForeignKey("report_builds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # workbook | docx | archived_workbook | archived_docx
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestRow(Base):
    """A request ("yêu cầu", requests.py) a coordinator or an area owner's nominee sends to units: its number per
    campaign (shown as "YC-01"), kind, criteria, text, due day and optional attachment (kept by SHA-256).
    ``fingerprint`` makes creating the same request twice return the first."""

    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        UniqueConstraint("campaign_id", "fingerprint"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))  # evidence | task | budget | funding_advice | other
    requester_email: Mapped[str] = mapped_column(String(255))
    requester_name: Mapped[str] = mapped_column(String(255))
    requester_unit: Mapped[str | None] = mapped_column(String(32))
    criteria: Mapped[list] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[date]
    due_note: Mapped[str | None] = mapped_column(Text)  # why the due day differs from the one asked for
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestRecipient(Base):
    """One recipient unit of a request, tracked on its own: answered when a file naming the request arrives."""

    __tablename__ = "request_recipients"
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_file_id: Mapped[int | None] = mapped_column(ForeignKey("received_files.id", ondelete="SET NULL"))
