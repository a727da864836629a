"""The campaign inbox: register each new file (SHA-256, arrival time), archive its original, read it, and store
what it holds. Re-running changes nothing; a newer file from the same unit supersedes the older one.

Files come from a hundred offices: half-copied, huge, oddly named. So a check reads only what is finished (a file
modified within :data:`SETTLE` is still being written; a cut-off workbook or CSV younger than :data:`PARTIAL_GRACE`
may still be arriving: both are looked at again later and leave no record meanwhile), sizes a file from ``stat``
before reading it, hashes and archives it streamed, reads only paths that are new or changed since the last check
(:class:`~par_index.store.models.InboxEntry`), and turns any failure on one file into that file's refusal: the
other files go on and intake never fails a task. A file with passwords is moved out of the inbox, never archived.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from par_index import requests
from par_index.campaign import Campaign
from par_index.files import copy_whole, sha256_of
from par_index.intake.forms import ParsedForm, parse_form
from par_index.intake.issue import Issue
from par_index.intake.records import (
    Coverage,
    NomineeRecord,
    PortalAccountRecord,
    PortalScoreRecord,
    Record,
    ReportScoreRecord,
    SurveyProgressRecord,
    SurveyRosterRecord,
)
from par_index.intake.sheets import MAX_FILE_BYTES, Sheet, UnreadableFile, fix_legacy_text, read_sheets
from par_index.paths import archive_dir, inbox_dir, quarantine_dir
from par_index.phase_registry import ALL_FORMS, REGISTRY
from par_index.store.models import (
    InboxEntry,
    IntakeIssue,
    Nominee,
    PortalAccount,
    ReceivedFile,
    Score,
    SurveyProgress,
    SurveyRespondent,
)
from par_index.text import nfc, vn_datetime

log = logging.getLogger(__name__)

EPOCH = datetime.min.replace(tzinfo=UTC)
SETTLE = timedelta(seconds=2)  # a file modified this recently may still be being written
PARTIAL_GRACE = timedelta(minutes=10)  # a cut-off file this young may still be arriving
STILL_ARRIVING = {
    "INT001",
    "INT071",
    "INT074",
}  # how a half-copied workbook (no central directory) or CSV reads
NAME_ENCODINGS = ("utf-8", "cp1258", "cp437")  # file names: UTF-8, else what Windows archives hold
OFFICE_LOCKS = ("~$", ".~lock.")  # files Office and LibreOffice keep beside an open document
UNLINK_AFTER_COMMIT = "par_index.inbox.unlink_after_commit"  # session.info: inbox originals moved out
R = TypeVar("R", bound=Record)


@dataclass
class IntakeResult:
    """What intake did with one file: its status and issues."""

    file_id: int
    name: str
    kind: str
    unit_code: str | None
    status: str
    issues: list[Issue]


@dataclass
class Intake:
    """What one check of the inbox did: the files it registered, and those it left for later (still being
    written, or cut off and young), with the moment to look again."""

    results: list[IntakeResult] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    recheck_at: datetime | None = None
    still_written: bool = (
        False  # a file was being written to (not merely cut off): a closing phase waits for it
    )

    def wait(self, name: str, until: datetime, written: bool = False) -> None:
        """Leave ``name`` for a later check, no later than ``until``."""
        self.pending.append(name)
        self.recheck_at = min(self.recheck_at or until, until)
        self.still_written |= written


def inbox_files(campaign: Campaign) -> list[Path]:
    """Every file under the inbox, sub-folders included; hidden files, Office lock files and symbolic links are
    not files a unit sent. A folder that cannot be listed is passed over, never an error."""
    folder = inbox_dir(campaign.id)
    if not folder.is_dir():
        return []
    found = []
    for top, dirs, files in os.walk(folder, onerror=lambda exc: log.warning("Inbox folder skipped: %s", exc)):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(top) / name
            if not name.startswith((".", *OFFICE_LOCKS)) and not path.is_symlink():
                found.append(path)
    return sorted(found)


def display_name(relative: Path) -> tuple[str, str | None]:
    """A path in the inbox as users read it, sub-folders kept (``đơn vị A/bao_cao.xlsx``), whatever bytes its name
    is made of; and the encoding it was read in when that is not UTF-8 (a name from a Windows archive)."""
    raw = os.fsencode(relative)
    for encoding in NAME_ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in nfc(text))
    return text[:512], None if encoding == "utf-8" else encoding


def path_key(relative: Path) -> str:
    """A fixed-length key for a path relative to the inbox (its SHA-256)."""
    return hashlib.sha256(os.fsencode(relative)).hexdigest()


def inbox_signature(campaign: Campaign) -> tuple[tuple[str, int, int], ...]:
    """What the inbox holds, cheaply (name, modification time, size of each file): a watcher reads the inbox again
    only when this changed."""
    root, signature = inbox_dir(campaign.id), []
    for path in inbox_files(campaign):
        try:
            stat = path.stat()
        except OSError:  # removed while listing
            continue
        signature.append((path_key(path.relative_to(root)), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def inbox_fingerprint(campaign: Campaign) -> list[str]:
    """Each inbox file as a short digest of (name, modification time, size): a phase sensor hands what it saw to
    its wake trigger, which wakes it when a file appears that it had not seen."""
    return [hashlib.sha256(repr(entry).encode()).hexdigest()[:16] for entry in inbox_signature(campaign)]


def ingest(
    session: Session,
    campaign: Campaign,
    phase: str | None = None,
    now: datetime | None = None,
    partial_grace: timedelta = PARTIAL_GRACE,
) -> Intake:
    """Read every new or changed inbox file of ``phase``'s forms (all forms when ``None``). Files no phase reads
    (unknown, unreadable, refused) are registered by whichever phase meets them first. One file's failure is that
    file's refusal, never the check's. A cut-off file is left for later while younger than ``partial_grace`` (a
    phase past its deadline passes none: it is judged now, and superseded if the rest of it arrives)."""
    now = now or datetime.now(UTC)
    wanted = REGISTRY[phase].forms if phase else ALL_FORMS
    root = inbox_dir(campaign.id)
    entries = {
        e.path_key: e
        for e in session.scalars(select(InboxEntry).where(InboxEntry.campaign_id == campaign.id))
    }
    intake = Intake()
    for path in inbox_files(campaign):
        relative = path.relative_to(root)
        found = Found(path, path_key(relative), *display_name(relative))
        try:
            found.stat = path.stat()
        except OSError:  # removed while listing
            continue
        entry = entries.get(found.key)
        if (
            entry is not None
            and (entry.size_bytes, entry.mtime_ns) == (found.size, found.stat.st_mtime_ns)
            and (entry.file_id is not None or entry.form_kind not in wanted)
        ):
            continue  # read before and unchanged: registered, or another phase's form
        if timedelta(0) <= now - found.arrived < SETTLE:
            intake.wait(found.name, found.arrived + SETTLE, written=True)
            continue
        for attempt in range(2):
            try:
                with session.begin_nested():
                    taken = _take(session, campaign, found, wanted, now, intake, partial_grace)
                    if taken is not None:
                        entries[found.key] = _remember(session, campaign, entry, found, *taken, now, intake)
                break
            except IntegrityError:
                # another check noted this path at the same moment: look at what it noted and, when that leaves the
                # file to this check (another phase's check only noted it as this phase's form), read it once more
                session.expire_all()
                entry = session.scalar(
                    select(InboxEntry).where(
                        InboxEntry.campaign_id == campaign.id, InboxEntry.path_key == found.key
                    )
                )
                if entry is not None:
                    entries[found.key] = entry
                if attempt or (
                    entry is not None and (entry.file_id is not None or entry.form_kind not in wanted)
                ):
                    break
            except Exception as exc:  # noqa: BLE001 - one file never stops the others: it is refused with the reason
                log.exception("Inbox file %s could not be taken in", found.name)
                issue = Issue(
                    "INT070",
                    f"Không xử lý được tệp do lỗi ngoài dự kiến ({type(exc).__name__}). Tệp chưa "
                    "được ghi nhận; mở lại, lưu và gửi lại, hoặc báo Sở Nội vụ nếu lỗi lặp lại.",
                )
                try:
                    with session.begin_nested():
                        refused = _refuse_unread(session, campaign, found, issue)
                        entries[found.key] = _remember(
                            session,
                            campaign,
                            entry,
                            found,
                            "unreadable",
                            refused,
                            refused.file_id,
                            now,
                            intake,
                        )
                except IntegrityError:
                    pass
                break
    session.flush()
    return intake


@dataclass
class Found:
    """One file in the inbox as a check finds it."""

    path: Path
    key: str  # SHA-256 of its path's bytes
    name: str  # readable, sub-folders kept
    name_encoding: str | None  # when its name is not UTF-8
    stat: os.stat_result | None = None

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return cast(os.stat_result, self.stat).st_size

    @property
    def arrived(self) -> datetime:
        """When the file arrived (its modification time, UTC)."""
        return datetime.fromtimestamp(cast(os.stat_result, self.stat).st_mtime, UTC)


def _remember(
    session: Session,
    campaign: Campaign,
    entry: InboxEntry | None,
    found: Found,
    kind: str,
    result: IntakeResult | None,
    file_id: int | None,
    now: datetime,
    intake: Intake,
) -> InboxEntry:
    """Note what the path held and became, so the next check passes it over until it changes; a refusal that
    the path held before (a half-copied file) is superseded by the file now read there."""
    if result is not None and entry is not None and entry.file_id is not None:
        _supersede_refusal(session, entry.file_id, result.file_id)
    if entry is None:
        entry = InboxEntry(campaign_id=campaign.id, path_key=found.key)
        session.add(entry)
    entry.display_name, entry.size_bytes, entry.mtime_ns = (
        found.name,
        found.size,
        cast(os.stat_result, found.stat).st_mtime_ns,
    )
    entry.form_kind, entry.file_id, entry.checked_at = kind, file_id, now
    session.flush()  # a check that noted the same path at the same moment makes this fail, with nothing counted
    if result is not None:
        intake.results.append(result)
    return entry


def _take(
    session: Session,
    campaign: Campaign,
    found: Found,
    wanted: AbstractSet[str],
    now: datetime,
    intake: Intake,
    partial_grace: timedelta,
) -> tuple[str, IntakeResult | None, int | None] | None:
    """Read one new or changed file: ``(kind, what this check registered, the received file it is)``; nothing
    registered when it is another phase's form, or the same content under the same name was already; ``None``
    when it is left for later (still being written, or cut off and young)."""
    if found.size > MAX_FILE_BYTES:  # refused from its size alone: never read, hashed or archived
        megabytes = f"{found.size / 1024 / 1024:,.0f}".replace(",", ".")
        result = _refuse_unread(
            session,
            campaign,
            found,
            Issue(
                "INT003",
                f"Tệp quá lớn ({megabytes} MB); giới hạn {MAX_FILE_BYTES // 1024 // 1024} MB. Tệp không được "
                "đọc hay lưu trữ.",
            ),
        )
        return "unreadable", result, result.file_id
    digest = sha256_of(found.path)
    existing = session.scalar(
        select(ReceivedFile).where(
            ReceivedFile.campaign_id == campaign.id,
            ReceivedFile.sha256 == digest,
            ReceivedFile.original_name == found.name,
        )
    )
    if existing is not None:  # the same file touched again
        return existing.form_kind or "unknown", None, existing.id
    if requests.numbers_in(found.name):  # an answer to requests ("YC-01"), whatever its format: never parsed
        unit, problems = requests.judge_answer(session, campaign, found.name)
        form = ParsedForm(
            requests.ANSWER_KIND,
            unit_code=unit,
            issues=[Issue(p.code, p.message[:1].upper() + p.message[1:], p.severity) for p in problems],
        )
        result = _register(
            session,
            campaign,
            found.name,
            found.path.suffix.lower(),
            digest,
            found.size,
            found.arrived,
            form,
            found.path,
        )
        if result.status == "accepted":
            answer = requests.record_answer(
                session, campaign, found.name, unit, result.file_id, found.arrived
            )
            requests.enqueue_answered(session, campaign, answer, found.name, found.arrived)
        return form.kind, result, result.file_id
    try:
        form = parse_form(read_sheets(found.path), campaign, roster=_roster(session, campaign))
    except UnreadableFile as exc:
        form = ParsedForm("unreadable", issues=[exc.issue])
    after = found.path.stat()
    if (after.st_size, after.st_mtime_ns) != (
        found.size,
        cast(os.stat_result, found.stat).st_mtime_ns,
    ):  # written to while being read
        intake.wait(found.name, now + SETTLE, written=True)
        return None
    if {i.code for i in form.issues} & STILL_ARRIVING and now - found.arrived < partial_grace:
        intake.wait(found.name, found.arrived + partial_grace)
        return None
    if form.kind in ALL_FORMS and form.kind not in wanted:
        return form.kind, None, None
    if found.name_encoding:
        form.issues.append(
            Issue(
                "INT073",
                "Tên tệp không ở mã UTF-8 (thường do giải nén tệp .zip tạo trên "
                f"Windows); đã đọc theo bảng mã {found.name_encoding}: “{found.name}”.",
                "warning",
            )
        )
    source: Path | None = found.path
    if any(i.code == "INT010" for i in form.issues):  # passwords: out of the inbox, never archived
        target = _quarantine(session, campaign, found, digest)
        form.issues.append(
            Issue(
                "INT072",
                f"Tệp đã được chuyển khỏi hộp thư đến vào {target} (chỉ quản trị viên đọc "
                "được, không lưu trữ, không sao lưu). Xóa tệp đó khi đã xử lý xong.",
                "warning",
            )
        )
        source = None
    result = _register(
        session,
        campaign,
        found.name,
        found.path.suffix.lower(),
        digest,
        found.size,
        found.arrived,
        form,
        source,
    )
    return form.kind, result, result.file_id


def _refuse_unread(session: Session, campaign: Campaign, found: Found, issue: Issue) -> IntakeResult:
    """Record a file refused before its content could be read: its name, size and the reason; nothing archived.
    A digest of its path, size and time stands in for the SHA-256 never computed."""
    digest = hashlib.sha256(
        f"{found.key}:{found.size}:{cast(os.stat_result, found.stat).st_mtime_ns}:{issue.code}".encode()
    ).hexdigest()
    return _register(
        session,
        campaign,
        found.name,
        found.path.suffix.lower(),
        digest,
        found.size,
        found.arrived,
        ParsedForm("unreadable", issues=[issue]),
        None,
    )


def _quarantine(session: Session, campaign: Campaign, found: Found, digest: str) -> Path:
    """Move a file that holds passwords out of the inbox into a folder only its owner reads (named by its
    content, never by the name a user gave): copied now, the original removed once its refusal is committed, so
    a check killed in between finds it again and loses nothing."""
    target = quarantined_path(campaign.id, digest, found.path.suffix.lower())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o700)
    copy_whole(found.path, target, mode=0o600)
    session.info.setdefault(UNLINK_AFTER_COMMIT, []).append(found.path)
    if not event.contains(session, "after_commit", _unlink_committed):
        event.listen(session, "after_commit", _unlink_committed)
    return target


def quarantined_path(campaign_id: str, digest: str, suffix: str) -> Path:
    """Where a file refused for holding passwords is kept, by its digest."""
    return quarantine_dir(campaign_id) / f"{digest[:16]}{suffix}"


def _unlink_committed(session: Session) -> None:
    """Once the whole transaction has committed (not a savepoint of it), remove the originals it moved out."""
    if session.get_nested_transaction() is not None:
        return
    for path in session.info.pop(UNLINK_AFTER_COMMIT, []):
        path.unlink(missing_ok=True)


def _supersede_refusal(session: Session, previous_id: int, new_id: int) -> None:
    """The same path now holds a file that was read: an earlier refusal there (a half-copied file) is no longer
    what the unit sent, and leaves the list of refusals."""
    previous = session.get(ReceivedFile, previous_id)
    if previous is not None and previous.status == "rejected" and previous.id != new_id:
        previous.status, previous.superseded_by = "superseded", new_id


def ingest_feed(
    session: Session,
    campaign: Campaign,
    feed: str,
    columns: list[str],
    rows: list[list[object]],
    fetched_at: datetime,
) -> IntakeResult | None:
    """Store a feed's records like a received file: a canonical JSON snapshot (SHA-256, archived), read by the
    same reader as the matching export. A feed is fetched for every unit, so its snapshot is a full one: it
    replaces every unit's rows. The same snapshot twice changes nothing."""
    content = json.dumps(
        {"columns": columns, "rows": rows}, ensure_ascii=False, sort_keys=True, default=str
    ).encode()
    digest = hashlib.sha256(content).hexdigest()
    if session.scalar(
        select(ReceivedFile.id).where(ReceivedFile.campaign_id == campaign.id, ReceivedFile.sha256 == digest)
    ):
        return None
    form = parse_form(
        [fix_legacy_text(Sheet(feed, [list(columns), *rows]))],
        campaign,
        snapshot=True,
        roster=_roster(session, campaign),
    )
    name = f"{feed} ({vn_datetime(fetched_at.astimezone(campaign.tz))})"
    snapshot = archive_dir(campaign.id) / f"{digest}.feed.tmp"
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    snapshot.write_bytes(content)
    try:
        with session.begin_nested():  # another task may register the same content at the same moment
            return _register(
                session, campaign, name, ".json", digest, len(content), fetched_at, form, snapshot
            )
    except IntegrityError:
        return None
    finally:
        snapshot.unlink(missing_ok=True)


def _register(
    session: Session,
    campaign: Campaign,
    name: str,
    suffix: str,
    digest: str,
    size: int,
    arrived: datetime,
    form: ParsedForm,
    source: Path | None,
) -> IntakeResult:
    """Record a received file and what it holds; its original is copied (streamed) from ``source`` into the
    archive under its SHA-256, unless there is none to keep (refused unread, or holding passwords)."""
    archived = ""
    if source is not None:
        target = archive_dir(campaign.id) / f"{digest}{suffix}"
        if not target.exists():
            copy_whole(source, target)
        archived = target.name
    row = ReceivedFile(
        campaign_id=campaign.id,
        sha256=digest,
        original_name=name[:512],
        archived_as=archived,
        size_bytes=size,
        arrived_at=arrived,
        registered_at=datetime.now(UTC),
        form_kind=form.kind,
        unit_code=form.unit_code,
        status="rejected" if form.rejected else "accepted",
        header=form.header or None,
    )
    session.add(row)
    session.flush()
    for issue in form.issues:
        session.add(
            IntakeIssue(
                file_id=row.id,
                severity=issue.severity,
                code=issue.code,
                sheet=issue.sheet,
                row=issue.row,
                column=issue.column,
                cell=issue.cell,
                message=issue.message,
                unit_code=issue.unit,
                criterion_code=issue.criterion,
            )
        )
    if row.status == "accepted" and form.kind != requests.ANSWER_KIND:  # answers never supersede each other
        _apply(session, campaign, row, form)
    return IntakeResult(row.id, row.original_name, form.kind, form.unit_code, row.status, form.issues)


def _roster(session: Session, campaign: Campaign) -> set[str] | None:
    """The survey roster's emails, ``None`` while no roster was received."""
    emails = set(
        session.scalars(select(SurveyRespondent.email).where(SurveyRespondent.campaign_id == campaign.id))
    )
    return emails or None


def _apply(session: Session, campaign: Campaign, row: ReceivedFile, form: ParsedForm) -> None:
    """Make ``row`` the current file of its kind (and unit) unless a newer one already is."""
    if form.kind == "portal_export":
        _apply_portal(session, campaign, row, form)
        return
    previous = session.scalars(
        select(ReceivedFile).where(
            ReceivedFile.campaign_id == campaign.id,
            ReceivedFile.form_kind == row.form_kind,
            ReceivedFile.unit_code.is_(row.unit_code)
            if row.unit_code is None
            else ReceivedFile.unit_code == row.unit_code,
            ReceivedFile.status == "accepted",
            ReceivedFile.id != row.id,
        )
    ).all()
    newer = [p for p in previous if p.arrived_at > row.arrived_at]
    if newer:
        row.status = "superseded"
        row.superseded_by = max(newer, key=lambda p: p.arrived_at).id
        return
    for old in previous:
        old.status = "superseded"
        old.superseded_by = row.id
    _store_records(session, campaign, row, form)


def _apply_portal(session: Session, campaign: Campaign, row: ReceivedFile, form: ParsedForm) -> None:
    """Replace the software rows ``row`` covers (:class:`~par_index.intake.records.Coverage`: its units and
    areas, every unit for a full snapshot), except those a file that arrived later holds; never another unit's
    rows. An earlier export all of whose coverage this one covers is superseded by it; this one is superseded
    when a later one covers all of its own."""
    cid, covers = campaign.id, Coverage.of(row.header)
    others = session.scalars(
        select(ReceivedFile).where(
            ReceivedFile.campaign_id == cid,
            ReceivedFile.form_kind == "portal_export",
            ReceivedFile.status == "accepted",
            ReceivedFile.id != row.id,
        )
    ).all()
    newer = [(p, Coverage.of(p.header)) for p in others if p.arrived_at > row.arrived_at]
    above = [p for p, cover in newer if cover.includes(covers)]
    if above:
        row.status = "superseded"
        row.superseded_by = max(above, key=lambda p: p.arrived_at).id
        return
    for old in others:
        if old.arrived_at <= row.arrived_at and covers.includes(Coverage.of(old.header)):
            old.status, old.superseded_by = "superseded", row.id

    def ours(unit: str, criterion: str) -> bool:
        area = campaign.catalogue[criterion].area if criterion in campaign.catalogue else criterion
        return covers.covers(unit, area) and not any(cover.covers(unit, area) for _, cover in newer)

    for stored in session.scalars(select(Score).where(Score.campaign_id == cid, Score.source == "portal")):
        if ours(stored.unit_code, stored.criterion_code):
            session.delete(stored)
    session.flush()
    latest: dict[tuple[str, str], PortalScoreRecord] = {}
    count: Counter = Counter()
    # the export may list a key twice: keep the latest, count the rows
    for entry in _typed(form, PortalScoreRecord):
        key = (entry.unit, entry.criterion)
        count[key] += 1
        if key not in latest or (entry.updated_at or EPOCH) >= (latest[key].updated_at or EPOCH):
            latest[key] = entry
    for key, entry in latest.items():
        if ours(*key):
            session.add(
                Score(
                    campaign_id=cid,
                    source="portal",
                    unit_code=entry.unit,
                    criterion_code=entry.criterion,
                    score=entry.score,
                    evidence_count=entry.evidence_count,
                    status=entry.status,
                    updated_at=entry.updated_at,
                    duplicates=count[key],
                    file_id=row.id,
                )
            )


def _signed_at(campaign: Campaign, form: ParsedForm) -> datetime | None:
    """The report's signing date (its 'Ngày:' line) as the end of that local day."""
    signed = form.header.get("date")
    if not signed:
        return None
    return datetime.combine(date.fromisoformat(cast(str, signed)), time(23, 59, 59), tzinfo=campaign.tz)


# One branch per form kind, each replacing that unit's records of the kind: a dispatch, not nested logic.
def _store_records(session: Session, campaign: Campaign, row: ReceivedFile, form: ParsedForm) -> None:  # noqa: C901
    """Replace what the store holds from ``form``'s kind (and unit) with its typed records: only rows read without
    an error are records (:meth:`~par_index.intake.forms.ParsedForm.keep`)."""
    cid = campaign.id
    if form.kind == "appendix_iv":
        session.execute(delete(Nominee).where(Nominee.campaign_id == cid, Nominee.unit_code == row.unit_code))
        for nominee in _typed(form, NomineeRecord):
            session.add(
                Nominee(
                    campaign_id=cid,
                    unit_code=row.unit_code,
                    file_id=row.id,
                    full_name=nominee.name,
                    position=nominee.position,
                    division=nominee.division,
                    areas=list(nominee.areas),
                    phone=nominee.phone,
                    email=nominee.email,
                    council_member=nominee.council,
                    note=nominee.note,
                )
            )
    elif form.kind == "appendix_ii":
        session.execute(
            delete(Score).where(
                Score.campaign_id == cid, Score.source == "report", Score.unit_code == row.unit_code
            )
        )
        signed = _signed_at(campaign, form) or row.arrived_at
        for score in _typed(form, ReportScoreRecord):
            session.add(
                Score(
                    campaign_id=cid,
                    source="report",
                    unit_code=row.unit_code,
                    criterion_code=score.criterion,
                    score=score.score,
                    evidence=score.evidence,
                    evidence_count=score.evidence_count,
                    explanation=score.explanation,
                    status="signed",
                    updated_at=signed,
                    file_id=row.id,
                )
            )
    elif form.kind == "survey_roster":
        session.execute(delete(SurveyRespondent).where(SurveyRespondent.campaign_id == cid))
        for respondent in _typed(form, SurveyRosterRecord):
            session.add(
                SurveyRespondent(
                    campaign_id=cid,
                    email=respondent.email,
                    full_name=respondent.name,
                    position=respondent.position,
                    unit_code=respondent.unit,
                    group=respondent.group,
                    file_id=row.id,
                )
            )
    elif form.kind == "appendix_iii":
        session.execute(delete(PortalAccount).where(PortalAccount.campaign_id == cid))
        for account in {
            account.login: account for account in _typed(form, PortalAccountRecord) if account.login
        }.values():
            session.add(
                PortalAccount(
                    campaign_id=cid,
                    login=account.login,
                    unit_code=account.unit,
                    scope=account.scope or None,
                    manager=account.manager or None,
                    email=account.email or None,
                    file_id=row.id,
                )
            )
    elif form.kind == "survey_progress":
        session.execute(delete(SurveyProgress).where(SurveyProgress.campaign_id == cid))
        for progress in {
            progress.email: progress for progress in _typed(form, SurveyProgressRecord)
        }.values():
            session.add(
                SurveyProgress(
                    campaign_id=cid,
                    email=progress.email,
                    status=progress.status,
                    answered=progress.answered,
                    total=progress.total,
                    completed_at=progress.completed_at,
                    file_id=row.id,
                )
            )


def _typed(form: ParsedForm, kind: type[R]) -> list[R]:
    """``form``'s records, each checked to be of ``kind`` (what its form kind reads into)."""
    records = list(form.records)
    for record in records:
        if not isinstance(record, kind):
            raise TypeError(f"{form.kind}: {type(record).__name__} is not a {kind.__name__}")
    return cast(list[R], records)
