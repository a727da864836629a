"""The campaign inbox: register each new file (SHA-256, arrival time), archive its original, read it, and store
what it holds. Re-running changes nothing; a newer file from the same unit supersedes the older one."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.intake.forms import ParsedForm, parse_form
from par_index.intake.issue import Issue
from par_index.intake.sheets import Sheet, UnreadableFile, fix_legacy_text, read_sheets
from par_index.paths import archive_dir, inbox_dir
from par_index.store.models import (
    IntakeIssue,
    Nominee,
    PortalAccount,
    ReceivedFile,
    Score,
    SurveyProgress,
    SurveyRespondent,
)

PHASE_FORMS = {
    "nominees": {"appendix_iv", "appendix_iii"},
    "survey": {"survey_roster", "survey_progress"},
    "self_scores": {"appendix_ii", "portal_export"},
}
ALL_FORMS = set().union(*PHASE_FORMS.values())
EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass
class IntakeResult:
    file_id: int
    name: str
    kind: str
    unit_code: str | None
    status: str
    issues: list[Issue]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inbox_files(campaign: Campaign) -> list[Path]:
    folder = inbox_dir(campaign.id)
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and not p.name.startswith("."))


def inbox_signature(campaign: Campaign) -> tuple[tuple[str, int, int], ...]:
    """What the inbox holds, cheaply (name, modification time, size of each file): a watcher reads the inbox again
    only when this changed."""
    signature = []
    for path in inbox_files(campaign):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while listing
            continue
        signature.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def inbox_fingerprint(campaign: Campaign) -> list[str]:
    """Each inbox file as a short digest of (name, modification time, size): a phase sensor hands what it saw to
    its wake trigger, which wakes it when a file appears that it had not seen."""
    return [hashlib.sha256(repr(entry).encode()).hexdigest()[:16] for entry in inbox_signature(campaign)]


def ingest(session: Session, campaign: Campaign, phase: str | None = None) -> list[IntakeResult]:
    """Read every new inbox file of ``phase``'s forms (all forms when ``None``). Files no phase reads (unknown,
    unreadable) are registered by whichever phase meets them first. Returns what this call registered."""
    wanted = PHASE_FORMS[phase] if phase else ALL_FORMS
    known = set(session.scalars(select(ReceivedFile.sha256).where(ReceivedFile.campaign_id == campaign.id)))
    results = []
    for path in inbox_files(campaign):
        digest = sha256_of(path)
        if digest in known:
            continue
        try:
            form = parse_form(read_sheets(path), campaign)
        except UnreadableFile as exc:
            form = ParsedForm("unreadable", issues=[exc.issue])
        if form.kind in ALL_FORMS and form.kind not in wanted:
            continue
        arrived = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        result = _register_once(session, campaign, path.name, path.suffix.lower(), path.read_bytes(), digest,
                                arrived, form)
        if result:
            results.append(result)
        known.add(digest)
    session.flush()
    return results


def ingest_feed(session: Session, campaign: Campaign, feed: str, columns: list[str], rows: list[list[object]],
                fetched_at: datetime) -> IntakeResult | None:
    """Store a feed's records like a received file: a canonical JSON snapshot (SHA-256, archived), read by the
    same reader as the matching export. The same snapshot twice changes nothing."""
    content = json.dumps({"columns": columns, "rows": rows}, ensure_ascii=False, sort_keys=True,
                         default=str).encode()
    digest = hashlib.sha256(content).hexdigest()
    if session.scalar(select(ReceivedFile.id).where(ReceivedFile.campaign_id == campaign.id,
                                                    ReceivedFile.sha256 == digest)):
        return None
    form = parse_form([fix_legacy_text(Sheet(feed, [list(columns), *rows]))], campaign)
    name = f"{feed} ({fetched_at.astimezone(campaign.tz):%d/%m/%Y %H:%M})"
    return _register_once(session, campaign, name, ".json", content, digest, fetched_at, form)


def _register_once(session: Session, campaign: Campaign, name: str, suffix: str, content: bytes, digest: str,
                   arrived: datetime, form: ParsedForm) -> IntakeResult | None:
    try:
        with session.begin_nested():  # another task may register the same content at the same moment
            return _register(session, campaign, name, suffix, content, digest, arrived, form)
    except IntegrityError:
        return None


def _register(session: Session, campaign: Campaign, name: str, suffix: str, content: bytes, digest: str,
              arrived: datetime, form: ParsedForm) -> IntakeResult:
    password_refused = any(i.code == "INT010" for i in form.issues)
    archived = ""
    if not password_refused:  # a file holding passwords is never kept
        target = archive_dir(campaign.id) / f"{digest}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(content)
            tmp.replace(target)
        archived = target.name
    row = ReceivedFile(
        campaign_id=campaign.id, sha256=digest, original_name=name[:512], archived_as=archived,
        size_bytes=len(content), arrived_at=arrived, registered_at=datetime.now(UTC),
        form_kind=form.kind, unit_code=form.unit_code, status="rejected" if form.rejected else "accepted",
        header=form.header or None,
    )
    session.add(row)
    session.flush()
    for issue in form.issues:
        session.add(IntakeIssue(file_id=row.id, severity=issue.severity, code=issue.code, sheet=issue.sheet,
                                row=issue.row, column=issue.column, cell=issue.cell, message=issue.message))
    if row.status == "accepted":
        _apply(session, campaign, row, form)
    return IntakeResult(row.id, row.original_name, form.kind, form.unit_code, row.status, form.issues)


def _apply(session: Session, campaign: Campaign, row: ReceivedFile, form: ParsedForm) -> None:
    """Make ``row`` the current file of its kind (and unit) unless a newer one already is."""
    previous = session.scalars(select(ReceivedFile).where(
        ReceivedFile.campaign_id == campaign.id, ReceivedFile.form_kind == row.form_kind,
        ReceivedFile.unit_code.is_(row.unit_code) if row.unit_code is None else ReceivedFile.unit_code == row.unit_code,
        ReceivedFile.status == "accepted", ReceivedFile.id != row.id)).all()
    newer = [p for p in previous if p.arrived_at > row.arrived_at]
    if newer:
        row.status = "superseded"
        row.superseded_by = max(newer, key=lambda p: p.arrived_at).id
        return
    for old in previous:
        old.status = "superseded"
        old.superseded_by = row.id
    _store_records(session, campaign, row, form)


def _signed_at(campaign: Campaign, form: ParsedForm) -> datetime | None:
    """The report's signing date (its 'Ngày:' line) as the end of that local day."""
    signed = form.header.get("date")
    if not signed:
        return None
    return datetime.combine(date.fromisoformat(signed), time(23, 59, 59), tzinfo=campaign.tz)


def _store_records(session: Session, campaign: Campaign, row: ReceivedFile, form: ParsedForm) -> None:
    cid = campaign.id
    if form.kind == "appendix_iv":
        session.execute(delete(Nominee).where(Nominee.campaign_id == cid, Nominee.unit_code == row.unit_code))
        for r in form.records:
            session.add(Nominee(campaign_id=cid, unit_code=row.unit_code, file_id=row.id, full_name=r["name"],
                                position=r["position"], division=r["division"], areas=r["areas"], phone=r["phone"],
                                email=r["email"], council_member=r["council"], note=r["note"]))
    elif form.kind == "appendix_ii":
        session.execute(delete(Score).where(Score.campaign_id == cid, Score.source == "report",
                                            Score.unit_code == row.unit_code))
        signed = _signed_at(campaign, form) or row.arrived_at
        for r in form.records:
            session.add(Score(campaign_id=cid, source="report", unit_code=row.unit_code, criterion_code=r["criterion"],
                              score=r["score"], evidence=r["evidence"], evidence_count=r["evidence_count"],
                              explanation=r["explanation"], status="signed", updated_at=signed, file_id=row.id))
    elif form.kind == "portal_export":
        session.execute(delete(Score).where(Score.campaign_id == cid, Score.source == "portal"))
        latest: dict[tuple[str, str], dict] = {}
        count: Counter = Counter()
        for r in form.records:  # the export may list a key twice: keep the latest update, count the rows
            key = (r["unit"], r["criterion"])
            count[key] += 1
            if key not in latest or (r["updated_at"] or EPOCH) >= (latest[key]["updated_at"] or EPOCH):
                latest[key] = r
        for key, r in latest.items():
            session.add(Score(campaign_id=cid, source="portal", unit_code=r["unit"], criterion_code=r["criterion"],
                              score=r["score"], evidence_count=r["evidence_count"], status=r["status"],
                              updated_at=r["updated_at"], duplicates=count[key], file_id=row.id))
    elif form.kind == "survey_roster":
        session.execute(delete(SurveyRespondent).where(SurveyRespondent.campaign_id == cid))
        for r in form.records:
            session.add(SurveyRespondent(campaign_id=cid, email=r["email"], full_name=r["name"],
                                         position=r["position"], unit_code=r["unit"], group=r["group"],
                                         file_id=row.id))
    elif form.kind == "appendix_iii":
        session.execute(delete(PortalAccount).where(PortalAccount.campaign_id == cid))
        for r in {r["login"]: r for r in form.records if r["login"]}.values():
            session.add(PortalAccount(campaign_id=cid, login=r["login"], unit_code=r["unit"], scope=r["scope"] or None,
                                      manager=r["manager"] or None, email=r["email"] or None, file_id=row.id))
    elif form.kind == "survey_progress":
        session.execute(delete(SurveyProgress).where(SurveyProgress.campaign_id == cid))
        for r in {r["email"]: r for r in form.records}.values():
            session.add(SurveyProgress(campaign_id=cid, email=r["email"], status=r["status"], answered=r["answered"],
                                       total=r["total"], completed_at=r["completed_at"], file_id=row.id))
