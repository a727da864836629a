"""Requests ("yêu cầu") tracked like deadlines: a coordinator, or a nominee of an area-owning unit (Appendix IV),
asks units for evidence on criteria (directive 2a), assigns a task to a nominated official (1c), asks for the budget
estimate (SNV with the Department of Finance, 1c) or the funding advice to the PPC (1d).

Each request has a number per campaign shown as "YC-01" (usable in a file name), one row per recipient unit so that
each unit's answer is tracked, a due day on a working day (a day off is moved to the next working day, with a note),
and an optional attachment placed under ``data_dir()/requests/<campaign>/`` (kept by SHA-256 in the outbox).
Validation returns every problem at once, in Vietnamese, naming the field. Creating the same request twice returns
the first. A unit answers with a file whose name contains the number (any format), dropped in the inbox.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.errors import RequestError
from par_index.paths import data_dir
from par_index.phase_registry import REQUEST_KINDS
from par_index.store.models import Nominee, Notification, RequestRecipient, RequestRow
from par_index.text import fold, nfc, vn_date, vn_weekday_date
from par_index.workdays import is_working_day, next_working_day

if TYPE_CHECKING:
    from par_index.runtime import Runtime

PREFIX = "YC"
KINDS = REQUEST_KINDS
FIELDS = {
    "requester": "Người yêu cầu",
    "recipients": "Đơn vị nhận",
    "kind": "Loại yêu cầu",
    "criteria": "Tiêu chí",
    "text": "Nội dung",
    "due": "Hạn trả lời",
    "attachment": "Tệp đính kèm",
    "answer": "Tệp trả lời",
}
KEPT = (
    ".da_luu"  # requests_dir's sub-folder where each attachment is kept by its SHA-256 when a request is made
)
MAX_TEXT = 4000
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # what provincial mail servers accept
_NUMBER = re.compile(r"(?<![a-z0-9])yc[\s._-]*0*(\d{1,4})(?!\d)")


def label(number: int) -> str:
    """The number users read and put in file names: 1 → "YC-01"."""
    return f"{PREFIX}-{number:02d}"


def numbers_in(name: str) -> list[int]:
    """Request numbers a file name names, in order, whatever its case, diacritics or spacing: "tra loi YC-01.pdf",
    "YC01_STC.docx", "Trả lời yc 1.xlsx" → [1]."""
    found: list[int] = []
    for match in _NUMBER.finditer(fold(Path(name).name)):
        number = int(match.group(1))
        if number and number not in found:
            found.append(number)
    return found


def requests_dir(campaign: Campaign) -> Path:
    """Where a requester places a request's attachment before creating it."""
    return data_dir() / "requests" / campaign.id


@dataclass(frozen=True)
class Problem:
    """One problem of a request form: its error code, field and Vietnamese message."""

    code: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        """The message as a user reads it: code, field title and why."""
        return f"[{self.code}] {FIELDS[self.field]}: {self.message}"


@dataclass
class Draft:
    """A request that passed validation, ready to be stored."""

    kind: str
    requester_email: str
    requester_name: str
    requester_unit: str | None
    recipients: list[str]
    criteria: list[str]
    text: str
    asked_due: date
    due: date
    due_note: str | None
    attachment: Path | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """What makes two requests the same: requester, recipients, kind, criteria, text and due day asked."""
        parts = [
            self.requester_email.lower(),
            ",".join(sorted(self.recipients)),
            self.kind,
            ",".join(sorted(self.criteria)),
            self.text,
            self.asked_due.isoformat(),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def requesters(session: Session, campaign: Campaign) -> dict[str, tuple[str, str | None]]:
    """Who may make a request, by lower-case e-mail → (name, unit code): the coordinators, then the accepted
    nominees (Appendix IV) of area-owning units."""
    allowed: dict[str, tuple[str, str | None]] = {
        c.email.lower(): (c.name, campaign.coordinator) for c in campaign.contacts.coordinators
    }
    owners = set(campaign.area_owners)
    for n in session.scalars(select(Nominee).where(Nominee.campaign_id == campaign.id).order_by(Nominee.id)):
        if n.unit_code in owners:
            allowed.setdefault(n.email.lower(), (n.full_name, n.unit_code))
    return allowed


def _listed(value: object) -> list[str]:
    """A form's list field: a list, or a string of items separated by commas, semicolons or spaces."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,;\s]+", str(value))
    return [nfc(str(v)).strip() for v in items if str(v).strip()]


def _due(value: object) -> date | None:
    """The due day from a form: a date, ISO (the date picker) or dd/mm/yyyy; ``ValueError`` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, "%d/%m/%Y").date()


def validate(  # noqa: C901 - one check per field, every problem kept
    session: Session, campaign: Campaign, form: Mapping, today: date
) -> Draft | list[Problem]:
    """The request ``form`` (fields of :data:`FIELDS`) checked against the campaign on ``today`` (local day):
    a :class:`Draft`, or every problem found."""
    problems: list[Problem] = []
    email = str(form.get("requester") or "").strip()
    who = requesters(session, campaign).get(email.lower())
    if not email:
        problems.append(Problem("REQ001", "requester", "chưa nhập hộp thư của người yêu cầu."))
    elif who is None:
        problems.append(
            Problem(
                "REQ001",
                "requester",
                f"“{email}” không phải điều phối viên của chiến dịch hay công chức đầu mối (Phụ lục IV) của "
                "đơn vị chủ trì lĩnh vực.",
            )
        )
    recipients = [r.upper() for r in _listed(form.get("recipients"))]
    unknown = [r for r in recipients if r not in campaign.unit_by_code]
    if not recipients:
        problems.append(Problem("REQ002", "recipients", "chưa chọn đơn vị nhận."))
    elif unknown:
        problems.append(
            Problem("REQ002", "recipients", f"không có đơn vị mã {', '.join(unknown)} trong chiến dịch.")
        )
    kind = str(form.get("kind") or "").strip()
    if kind not in KINDS:
        problems.append(
            Problem(
                "REQ003",
                "kind",
                f"“{kind}” không phải loại yêu cầu; chọn một trong: {', '.join(KINDS)}."
                if kind
                else "chưa chọn loại yêu cầu.",
            )
        )
    criteria = [c.rstrip(".") for c in _listed(form.get("criteria"))]
    missing = [c for c in criteria if c not in campaign.catalogue]
    if missing:
        problems.append(
            Problem(
                "REQ004",
                "criteria",
                f"mã {', '.join(missing)} không có trong bộ tiêu chí {campaign.catalogue.code}.",
            )
        )
    elif kind == "evidence" and not criteria:
        problems.append(Problem("REQ004", "criteria", "yêu cầu tài liệu kiểm chứng phải nêu tiêu chí."))
    text = nfc(str(form.get("text") or "")).strip()
    if not text:
        problems.append(Problem("REQ005", "text", "chưa nhập nội dung yêu cầu."))
    elif len(text) > MAX_TEXT:
        problems.append(Problem("REQ005", "text", f"dài {len(text)} ký tự, tối đa {MAX_TEXT}."))
    try:
        asked = _due(form.get("due"))
    except ValueError:
        asked = None
        problems.append(
            Problem("REQ006", "due", f"“{form.get('due')}” không phải ngày (nhập theo dạng dd/mm/yyyy).")
        )
    else:
        if asked is None:
            problems.append(Problem("REQ006", "due", "chưa nhập hạn trả lời."))
        elif asked < today:
            problems.append(
                Problem("REQ006", "due", f"ngày {vn_date(asked)} đã qua (hôm nay là {vn_date(today)}).")
            )
        elif asked > (last := campaign.last_due_day):
            problems.append(
                Problem(
                    "REQ006",
                    "due",
                    f"ngày {vn_date(asked)} sau hạn cuối của chiến dịch ({vn_date(last)}): sau hạn đó hệ thống "
                    "không còn nhắc việc; chọn một ngày đến hết hạn cuối.",
                )
            )
    attachment = _attachment(campaign, form.get("attachment"), problems)
    if problems or asked is None or who is None:
        return problems
    due, note = asked, None
    if not is_working_day(asked, campaign.calendar):
        due = next_working_day(asked, campaign.calendar)
        note = (
            f"Hạn {vn_weekday_date(asked)} là ngày nghỉ: chuyển sang ngày làm việc kế tiếp, "
            f"{vn_weekday_date(due)}."
        )
    return Draft(kind, email, who[0], who[1], recipients, criteria, text, asked, due, note, attachment)


def _attachment(campaign: Campaign, value: object, problems: list[Problem]) -> Path | None:
    """The attachment's path in the campaign's requests folder, or ``None``; problems appended."""
    name = nfc(str(value or "")).strip()
    if not name:
        return None
    folder = requests_dir(campaign)
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        problems.append(Problem("REQ007", "attachment", f"“{name}” nằm ngoài thư mục {folder}."))
        return None
    if not path.is_file():
        problems.append(Problem("REQ007", "attachment", f"không có tệp “{name}” trong thư mục {folder}."))
        return None
    size = path.stat().st_size
    if size == 0:
        problems.append(Problem("REQ007", "attachment", f"tệp “{name}” rỗng."))
    elif size > MAX_ATTACHMENT_BYTES:
        problems.append(
            Problem(
                "REQ007",
                "attachment",
                f"tệp “{name}” nặng {size / 1024 / 1024:.1f} MB, tối đa {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB.",
            )
        )
    return path


@dataclass(frozen=True)
class Created:
    """A stored request and whether this call stored it (False: the same request existed)."""

    number: int
    label: str
    created: bool
    due: date
    due_note: str | None


def create(session: Session, campaign: Campaign, form: Mapping, now: datetime | None = None) -> Created:
    """Validate ``form`` and store the request with one row per recipient unit; the same request again returns
    the first. Raises :class:`RequestError` listing every problem (nothing stored)."""
    from par_index.files import copy_whole, sha256_of

    now = now or datetime.now(UTC)
    draft = validate(session, campaign, form, now.astimezone(campaign.tz).date())
    if isinstance(draft, list):
        raise RequestError(
            "Yêu cầu không hợp lệ, chưa được lưu:\n" + "\n".join(f"- {p}" for p in draft), code="REQ000"
        )
    existing = session.scalar(
        select(RequestRow).where(
            RequestRow.campaign_id == campaign.id, RequestRow.fingerprint == draft.fingerprint
        )
    )
    if existing is not None:
        return Created(existing.number, label(existing.number), False, existing.due, existing.due_note)
    number = (
        session.scalar(select(func.max(RequestRow.number)).where(RequestRow.campaign_id == campaign.id)) or 0
    ) + 1
    row = RequestRow(
        campaign_id=campaign.id,
        number=number,
        kind=draft.kind,
        requester_email=draft.requester_email,
        requester_name=draft.requester_name,
        requester_unit=draft.requester_unit,
        criteria=draft.criteria,
        text=draft.text,
        due=draft.due,
        due_note=draft.due_note,
        attachment_name=draft.attachment.name if draft.attachment else None,
        attachment_sha256=sha256_of(draft.attachment) if draft.attachment else None,
        fingerprint=draft.fingerprint,
        created_at=now,
    )
    session.add(row)
    session.flush()
    kept = attachment_path(campaign, row)
    if draft.attachment and kept and not kept.exists():  # what is mailed is what was validated
        copy_whole(draft.attachment, kept)
    for code in dict.fromkeys(draft.recipients):
        session.add(RequestRecipient(request_id=row.id, unit_code=code))
    session.flush()
    return Created(number, label(number), True, row.due, row.due_note)


def by_number(session: Session, campaign: Campaign, number: int) -> RequestRow | None:
    """The campaign's request of that number."""
    return session.scalar(
        select(RequestRow).where(RequestRow.campaign_id == campaign.id, RequestRow.number == number)
    )


def recipients_of(session: Session, row: RequestRow) -> list[RequestRecipient]:
    """The request's recipient units, in code order."""
    return list(
        session.scalars(
            select(RequestRecipient)
            .where(RequestRecipient.request_id == row.id)
            .order_by(RequestRecipient.unit_code)
        )
    )


def due_at(campaign: Campaign, row: RequestRow) -> datetime:
    """The request's deadline: the end of its due day, local time."""
    return datetime.combine(row.due, time(23, 59, 59), tzinfo=campaign.tz)


def criteria_named(campaign: Campaign, codes: list[str]) -> list[tuple[str, str]]:
    """(code, name) of each criterion of a request, from the campaign's catalogue."""
    return [(c, campaign.catalogue[c].name_vi) for c in codes if c in campaign.catalogue]


def attachment_path(campaign: Campaign, row: RequestRow) -> Path | None:
    """The request's attachment as it was when the request was created, kept by its SHA-256 (the requester may
    change or remove the file in the folder afterwards)."""
    if not (row.attachment_name and row.attachment_sha256):
        return None
    return requests_dir(campaign) / KEPT / row.attachment_sha256 / row.attachment_name


def mail_context(campaign: Campaign, row: RequestRow) -> dict:
    """What the request's mails show: number, kind, requester, criteria with names, text, due day and note."""
    return {
        "request": row,
        "request_label": label(row.number),
        "kind_title": KINDS[row.kind],
        "criteria": criteria_named(campaign, row.criteria),
        "due": row.due,
        "requester_unit": campaign.unit_by_code.get(row.requester_unit or ""),
        "requester_vi": requester_vi(campaign, row),
    }


def requester_vi(campaign: Campaign, row: RequestRow) -> str:
    """How the mails name the requester: the coordinators' office as the campaign file names it, or a nominee as
    "đồng chí <name> (<unit>)"."""
    if any(c.email.lower() == row.requester_email.lower() for c in campaign.contacts.coordinators):
        return row.requester_name
    unit = campaign.unit_by_code.get(row.requester_unit or "")
    return f"đồng chí {row.requester_name}" + (f" ({unit.name_vi})" if unit else "")


def enqueue_mails(session: Session, campaign: Campaign, row: RequestRow, now: datetime) -> dict[str, str]:
    """Put the request in the outbox: one mail per recipient unit, to its mailbox with the requester in copy,
    with the attachment; each once (its ledger key)."""
    from par_index.notify import enqueue, ledger_key

    attachment = attachment_path(campaign, row)
    queued = {}
    for recipient in recipients_of(session, row):
        unit = campaign.unit_by_code[recipient.unit_code]
        key = ledger_key(campaign, "request", label(row.number), unit.code)
        queued[key] = enqueue(
            session,
            campaign,
            key=key,
            template="request",
            recipients=[unit.email, row.requester_email],
            phase="request",
            unit_code=unit.code,
            rung=label(row.number),
            attachments=[attachment] if attachment and attachment.is_file() else [],
            now=now,
            unit=unit,
            **mail_context(campaign, row),
        )
    return queued


@dataclass(frozen=True)
class OpenRequest:
    """A recipient unit that has not answered a request yet."""

    number: int
    label: str
    kind: str
    kind_title: str
    unit_code: str
    due: date
    overdue: bool


def open_requests(
    session: Session, campaign: Campaign, today: date, until: datetime | None = None
) -> list[OpenRequest]:
    """Every (request, unit) not answered yet, by request number then unit; ``overdue`` once its due day passed
    on ``today``. With ``until``: as of that moment (requests made by then, answers received by then)."""
    query = (
        select(RequestRow, RequestRecipient)
        .join(RequestRecipient, RequestRecipient.request_id == RequestRow.id)
        .where(RequestRow.campaign_id == campaign.id)
        .order_by(RequestRow.number, RequestRecipient.unit_code)
    )
    if until is None:
        query = query.where(RequestRecipient.answered_at.is_(None))
    else:
        query = query.where(
            RequestRow.created_at <= until,
            (RequestRecipient.answered_at.is_(None)) | (RequestRecipient.answered_at > until),
        )
    return [
        OpenRequest(r.number, label(r.number), r.kind, KINDS[r.kind], u.unit_code, r.due, r.due < today)
        for r, u in session.execute(query).all()
    ]


@dataclass(frozen=True)
class RequestStatus:
    """A request as the report and the dashboard show it: each recipient unit with when it answered."""

    label: str
    kind: str
    kind_title: str
    due: date
    units: list[tuple[str, datetime | None]]  # (unit code, answered at) in code order

    def open_units(self) -> list[str]:
        """The recipient units that have not answered."""
        return [code for code, at in self.units if at is None]


def statuses(
    session: Session, campaign: Campaign, kind: str | None = None, until: datetime | None = None
) -> list[RequestStatus]:
    """Every request of the campaign (of ``kind`` when given), by number, with each unit's answer; with
    ``until``, as of that moment (requests made by then, answers received by then)."""
    query = select(RequestRow).where(RequestRow.campaign_id == campaign.id).order_by(RequestRow.number)
    if kind:
        query = query.where(RequestRow.kind == kind)
    if until is not None:
        query = query.where(RequestRow.created_at <= until)
    return [
        RequestStatus(
            label(row.number),
            row.kind,
            KINDS[row.kind],
            row.due,
            [
                (r.unit_code, r.answered_at if until is None or (r.answered_at or until) <= until else None)
                for r in recipients_of(session, row)
            ],
        )
        for row in session.scalars(query)
    ]


def budget_status(campaign: Campaign, request: RequestStatus, as_of: datetime) -> str:
    """A budget request's status in words: "theo yêu cầu YC-03 (hạn 10/01/2024), Sở Tài chính đã trả lời ngày
    08/01/2024" / "… chưa trả lời (quá hạn)"."""
    names = campaign.unit_names
    today = as_of.astimezone(campaign.tz).date()
    parts = [
        f"{names.get(code, code)} đã trả lời ngày {vn_date(at.astimezone(campaign.tz))}"
        if at is not None
        else f"{names.get(code, code)} chưa trả lời" + (" (quá hạn)" if request.due < today else "")
        for code, at in request.units
    ]
    return f"theo yêu cầu {request.label} (hạn {vn_date(request.due)}), {', '.join(parts)}"


ANSWER_KIND = "request_answer"  # a received file that answers requests (its name holds their numbers)


def answering_unit(campaign: Campaign, name: str, candidates: list[str]) -> str | None:
    """Which of ``candidates`` (recipient units) a file answers for: a unit named by one of its folders (code or
    exact name), else a unit code written in the file name ("YC01_STC.docx"), else the only candidate."""
    path = Path(name)
    named = [u.code for part in path.parts[:-1] if (u := campaign.unit_for(part)) is not None]
    tokens = {t.upper() for t in re.split(r"[^0-9A-Za-z]+", path.stem) if t}
    named += [c for c in candidates if c in tokens]
    chosen = [c for c in dict.fromkeys(named) if c in candidates]
    if len(chosen) == 1:
        return chosen[0]
    return candidates[0] if len(set(candidates)) == 1 and not chosen else None


def judge_answer(session: Session, campaign: Campaign, name: str) -> tuple[str | None, list[Problem]]:
    """The unit a file naming requests answers for, and its problems (REQ008 a number the campaign has no
    request for: an error unless another number is known; REQ010 the answering unit cannot be told)."""
    numbers = numbers_in(name)
    rows = {n: by_number(session, campaign, n) for n in numbers}
    known = {n: r for n, r in rows.items() if r is not None}
    unknown = [label(n) for n, r in rows.items() if r is None]
    problems = []
    if unknown:
        existing = session.scalars(
            select(RequestRow.number).where(RequestRow.campaign_id == campaign.id).order_by(RequestRow.number)
        ).all()
        problems.append(
            Problem(
                "REQ008",
                "answer",
                f"tên tệp nêu số yêu cầu {', '.join(unknown)} nhưng chiến dịch không có yêu cầu số này (các yêu cầu "
                f"hiện có: {', '.join(label(n) for n in existing) or 'chưa có'}); kiểm tra lại số trong tên tệp.",
                "warning" if known else "error",
            )
        )
    recipients = [r.unit_code for row in known.values() for r in recipients_of(session, row)]
    unit = answering_unit(campaign, name, recipients) if known else None
    if known and unit is None:
        asked = ", ".join(sorted(set(recipients)))
        problems.append(
            Problem(
                "REQ010",
                "answer",
                f"không xác định được đơn vị trả lời {', '.join(label(n) for n in known)} (gửi cho {asked}): ghi mã "
                f"đơn vị vào tên tệp, ví dụ “{label(min(known))}_{sorted(set(recipients))[0]}.pdf”.",
            )
        )
    return unit, problems


@dataclass(frozen=True)
class Answer:
    """What a file naming requests did: the (label, unit) it answered now, the labels it could not use."""

    answered: list[tuple[str, str]]
    unknown: list[str]  # labels of numbers the campaign has no request for
    unresolved: list[str]  # labels whose answering unit could not be told


def record_answer(
    session: Session, campaign: Campaign, name: str, unit_code: str | None, file_id: int | None, at: datetime
) -> Answer:
    """Mark the requests a received file names as answered by its unit (``unit_code``, else
    :func:`answering_unit`); idempotent: an answered unit stays answered by its first file."""
    answered, unknown, unresolved = [], [], []
    for number in numbers_in(name):
        row = by_number(session, campaign, number)
        if row is None:
            unknown.append(label(number))
            continue
        targets = recipients_of(session, row)
        unit = unit_code or answering_unit(campaign, name, [t.unit_code for t in targets])
        targets = [t for t in targets if t.unit_code == unit]
        if not targets:
            unresolved.append(label(number))
            continue
        for target in targets:
            if target.answered_at is None:
                target.answered_at, target.answer_file_id = at, file_id
                answered.append((label(number), target.unit_code))
    session.flush()
    return Answer(answered, unknown, unresolved)


def enqueue_answered(
    session: Session, campaign: Campaign, answer: Answer, name: str, at: datetime
) -> dict[str, str]:
    """Tell each requester, once per request and unit, that the unit answered (the file's name and arrival)."""
    from par_index.notify import enqueue, ledger_key

    queued = {}
    for request_label, unit_code in answer.answered:
        row = by_number(session, campaign, int(request_label.split("-")[1]))
        if row is None:
            continue
        key = ledger_key(
            campaign, "request", request_label, unit_code, "answered", recipient=row.requester_email
        )
        queued[key] = enqueue(
            session,
            campaign,
            key=key,
            template="request_answered",
            recipients=[row.requester_email],
            phase="request",
            unit_code=unit_code,
            rung=request_label,
            now=at,
            unit=campaign.unit_by_code[unit_code],
            file_name=name,
            arrived_at=at.astimezone(campaign.tz),
            ui_url=campaign.ui_link(),
            **mail_context(campaign, row),
        )
    return queued


def answered_since(session: Session, campaign: Campaign, entry: Notification) -> str | None:
    """Why a held request reminder should no longer go out (its unit answered since), or None."""
    number = int((entry.rung or "").split(":")[0].removeprefix(f"{PREFIX}-") or 0)
    row = by_number(session, campaign, number)
    if row is None or entry.unit_code is None:
        return None
    target = session.get(RequestRecipient, (row.id, entry.unit_code))
    if target is None or target.answered_at is None:
        return None
    unit = campaign.unit_by_code.get(entry.unit_code)
    return f"Không gửi nữa: {unit.name_vi if unit else entry.unit_code} đã trả lời yêu cầu {label(number)}."


# ---- the tasks of the request DAG --------------------------------------------------------------------------------
def submit(campaign: Campaign, rt: Runtime, form: Mapping, now: datetime | None = None) -> dict:
    """The request DAG's first task: validate and store the request (the campaign synced into the store first).
    Raises :class:`RequestError` with every problem; nothing is stored then."""
    from par_index.service import prepare
    from par_index.store import session_scope

    prepare(campaign, rt)
    with session_scope(rt.store_url) as s:
        made = create(s, campaign, form, now)
    return {
        "number": made.number,
        "label": made.label,
        "created": made.created,
        "due": made.due.isoformat(),
        "due_note": made.due_note,
    }


def send(campaign: Campaign, rt: Runtime, number: int, now: datetime | None = None) -> dict:
    """The request DAG's second task: mail the request to each recipient unit (requester in copy), once per unit
    whatever the retries, through the outbox."""
    from par_index.service import deliver
    from par_index.store import session_scope

    now = now or datetime.now(UTC)
    with session_scope(rt.store_url) as s:
        row = by_number(s, campaign, number)
        if row is None:
            raise RequestError(
                f"Không có yêu cầu {label(number)} trong chiến dịch {campaign.id}.", code="REQ009"
            )
        queued = enqueue_mails(s, campaign, row, now)
    return {"label": label(number), "mail": dict(deliver(rt, campaign, queued, now))}
