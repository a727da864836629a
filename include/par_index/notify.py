"""Mail: Vietnamese templates (HTML + plain text), an outbox in the campaign store, and SMTP delivery.

**Outbox.** :func:`enqueue` renders a mail and records it under its key, in the caller's transaction, with a copy
of each attachment kept by content (``$PAR_DATA_DIR/outbox/<sha256>``): what was enqueued is what goes out, even
if a later build overwrites the files. A key is enqueued once; a key already there is never rendered again.
:func:`deliver_queued` then sends the outbox one message at a time, after the enqueueing transaction committed:
each message is claimed (``sending``, committed), sent, and its outcome committed right after the server answers.

**Crash window: at least once per key.** A process killed between the server's answer and the commit of
``sent`` leaves the message ``sending``; once ``reclaim_after`` has passed it is sent again, with the same
Message-ID (made from the key at enqueueing), so mail clients show it once. A mail is never lost to a crash.

**Held, not lost.** Without an SMTP connection a mail stays ``queued`` (held); it goes out at the first delivery
after mail is configured, unless it has become obsolete by then (the ``obsolete`` rule of the caller: a reminder
to a unit that has since complied), which is recorded as ``dropped`` with the reason.

**On the wire.** Subject and display names in RFC 2047 encoded words of at most 75 characters that decode back to
the exact text; attachments with their own content type and RFC 2231 file names; Date, Message-ID, and Reply-To
the coordinators' mailboxes.
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import mimetypes
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from par_index.addresses import header_addresses
from par_index.campaign import Campaign
from par_index.files import copy_whole, sha256_of
from par_index.paths import TEMPLATES_DIR, outbox_dir
from par_index.readers import salutation
from par_index.store import session_scope
from par_index.store.models import BouncedAddress, Notification
from par_index.text import vn_date, vn_datetime, vn_number, vn_weekday_date, vn_weekday_datetime

QUEUED, SENDING, SENT, FAILED, DROPPED = "queued", "sending", "sent", "failed", "dropped"
TO_DELIVER = (QUEUED, FAILED, SENDING)  # a sending one only once it is stale (its process died)
RECLAIM_AFTER = timedelta(minutes=10)  # an SMTP exchange takes seconds (timeout 20 s): older "sending" died
SENDER_NAME = "Sở Nội vụ — Chiến dịch CCHC"
HELD = "Chưa cấu hình kết nối par_smtp: thư được giữ lại và sẽ gửi khi cấu hình."
# Headers are folded here (encoded words of at most 75 characters), not by Python's folder, which loses spaces
# between encoded words: the policy leaves lines we built alone.
MAIL_POLICY = email.policy.SMTP.clone(refold_source="none")
CONTENT_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
}
WORD_BYTES = 39  # UTF-8 bytes per encoded word: base64 of 39 bytes is 52 characters, the word 64 (≤ 75)


def ledger_key(campaign: Campaign, *subject: object, recipient: str | None = None) -> str:
    """A mail's key in the ledger (``Notification.key``; one send per key): the campaign, what the mail is about
    (its kind and its subject's parts: phase, rung, unit, build, …) and its recipient, joined by ':'. Every mail
    key is built here; the keys of stores already written keep this exact form."""
    return ":".join(
        [campaign.id, *(str(part) for part in subject), *([recipient] if recipient is not None else [])]
    )


def ledger_file_part(name: str, arrived_at: datetime) -> str:
    """A received file in a ledger key: its name and arrival time (its content's hash may differ between two copies
    of the same form: workbooks carry the moment they were saved)."""
    return hashlib.sha256(f"{name}|{arrived_at.isoformat()}".encode()).hexdigest()[:16]


def ledger_key_parts(key: str) -> list[str]:
    """A ledger key's parts (:func:`ledger_key`), the campaign's id first."""
    return key.split(":")


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes; built from the Airflow connection ``par_smtp`` (never from the repository)."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "cchc@localhost"
    starttls: bool = False
    timeout: float = 20.0


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "email"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["vn_date"] = vn_date
_env.filters["vn_datetime"] = vn_datetime
_env.filters["vn_weekday_date"] = vn_weekday_date  # a deadline names its weekday
_env.filters["vn_weekday_datetime"] = vn_weekday_datetime
_env.filters["points"] = vn_number
_env.filters["salutation"] = (
    salutation  # "Kính gửi: {{ unit|salutation }}", its head: unit|salutation(head=True)
)


def render(template: str, **context) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``template`` rendered with ``context``."""
    subject = _env.get_template(f"{template}.subject.txt").render(**context).strip()
    campaign = context.get("campaign")
    if (
        getattr(getattr(campaign, "campaign", None), "trial", False)
        and "thử nghiệm" not in subject.casefold()
    ):
        subject = f"[Thử nghiệm] {subject}"  # a trial campaign's mail never reads as the real one's
    return (
        subject,
        _env.get_template(f"{template}.txt").render(**context),
        _env.get_template(f"{template}.html").render(**context),
    )


# ---- on the wire ---------------------------------------------------------------------------------------------
def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words (UTF-8, base64) of at most 75 characters, split between characters:
    decoded and joined they give back exactly ``text``, spaces included (they sit inside the words)."""
    words, chunk = [], b""
    for ch in text:
        data = ch.encode()
        if len(chunk) + len(data) > WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in words if w]


def _unstructured(text: str) -> str:
    """A header value: as it is when short plain ASCII, else encoded words, one per folded line."""
    if text.isascii() and len(text) <= 60 and "=?" not in text:
        return text
    return "\r\n ".join(encoded_words(text))


def _mailbox(name: str, address: str) -> str:
    """The sender: its display name encoded, its address as configured in ``par_smtp`` (may be a local domain)."""
    return f"{_unstructured(name)} <{address.strip()}>"


def content_type(name: str) -> tuple[str, str]:
    """(maintype, subtype) of an attachment from its name: the project's own formats first, then ``mimetypes``."""
    kind = (
        CONTENT_TYPES.get(Path(name).suffix.lower())
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    maintype, _, subtype = kind.partition("/")
    return maintype, subtype


def build_message(settings: SmtpSettings, entry: Notification, sent_at: datetime) -> EmailMessage:
    """The message of an outbox entry, exactly as enqueued, dated ``sent_at``."""
    message = EmailMessage(policy=MAIL_POLICY)
    message.set_raw("Subject", _unstructured(entry.subject))
    message.set_raw("From", _mailbox(SENDER_NAME, settings.sender))
    message.set_raw("To", ",\r\n ".join(str(a) for a in header_addresses(entry.recipients)))
    if entry.reply_to:
        message.set_raw("Reply-To", ",\r\n ".join(str(a) for a in header_addresses(entry.reply_to)))
    message.set_raw("Date", format_datetime(sent_at))
    message.set_raw("Message-ID", entry.message_id or message_id(entry.key, settings.sender))
    message.set_content(entry.body_text or "", charset="utf-8")
    message.add_alternative(entry.body_html or "", subtype="html", charset="utf-8")
    for item in entry.attachments or []:
        name, path = (
            (item["name"], outbox_dir() / f"{item['sha256']}{Path(item['name']).suffix.lower()}")
            if isinstance(item, dict)
            else (Path(item).name, Path(item))
        )  # rows from before the outbox: paths
        maintype, subtype = content_type(name)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=name)
    return message


def message_id(key: str, mailbox: str) -> str:
    """The same Message-ID for every attempt at one key: a mail sent twice after a crash shows once."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{mailbox.rpartition('@')[2] or 'localhost'}>"


def deliver(settings: SmtpSettings, message: EmailMessage) -> dict[str, str]:
    """Send; returns the recipients the server refused (address → reason). Raises when nothing was sent."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        refused = smtp.send_message(message)
    return {address: f"{code} {reason!r}" for address, (code, reason) in refused.items()}


def bounced(session: Session) -> set[str]:
    """The addresses known to bounce, in lower case."""
    return {b.lower() for b in session.scalars(select(BouncedAddress.email))}


# ---- the outbox ----------------------------------------------------------------------------------------------
def enqueue(
    session: Session,
    campaign: Campaign,
    *,
    key: str,
    template: str,
    recipients: list[str],
    phase: str | None = None,
    unit_code: str | None = None,
    rung: str | None = None,
    attachments: Iterable[Path] = (),
    now: datetime | None = None,
    **context,
) -> str:
    """Put ``template`` for ``recipients`` in the outbox under ``key`` (rendered now, attachments copied by
    content), in the caller's transaction. Returns ``queued``, or ``already_sent`` / the key's state when the key
    is already there (it is never rendered again)."""
    entry = session.scalar(select(Notification).where(Notification.key == key))
    if entry is not None:
        return "already_sent" if entry.outcome == SENT else entry.outcome
    context.setdefault("campaign", campaign)
    subject, text, html = render(template, **context)
    coordinators = [c.email for c in campaign.contacts.coordinators]
    session.add(
        Notification(
            campaign_id=campaign.id,
            key=key,
            template=template,
            phase=phase,
            recipients=list(recipients),
            subject=subject,
            outcome=QUEUED,
            attempts=0,
            last_attempt_at=now or datetime.now(UTC),
            unit_code=unit_code,
            rung=rung,
            body_text=text,
            body_html=html,
            attachments=[_keep(Path(p)) for p in attachments],
            message_id=message_id(key, coordinators[0]),
            reply_to=coordinators,
            queued_at=datetime.now(UTC),
        )
    )
    session.flush()
    return QUEUED


def _keep(path: Path) -> dict:
    """A copy of an attachment under its SHA-256 in the outbox folder: later builds cannot change it."""
    sha = sha256_of(path)
    target = outbox_dir() / f"{sha}{path.suffix.lower()}"
    if not target.exists():
        copy_whole(path, target)
    return {"name": path.name, "sha256": sha, "size": target.stat().st_size}


Obsolete = Callable[[Session, Notification], str | None]


def deliver_queued(
    store_url: str,
    campaign: Campaign,
    settings: SmtpSettings | None,
    *,
    now: datetime | None = None,
    obsolete: Obsolete | None = None,
    reclaim_after: timedelta = RECLAIM_AFTER,
) -> dict[str, str]:
    """Send the campaign's outbox, one message at a time, each outcome committed right after the server
    answered; returns each handled key's outcome. Without settings, everything stays queued (held)."""
    from par_index.store import session_scope

    with session_scope(store_url) as s:
        waiting = s.execute(
            select(Notification.id, Notification.key)
            .where(Notification.campaign_id == campaign.id, Notification.outcome.in_(TO_DELIVER))
            .order_by(Notification.id)
        ).all()
        if settings is None:
            s.execute(
                update(Notification)
                .where(
                    Notification.campaign_id == campaign.id,
                    Notification.outcome == QUEUED,
                    Notification.error.is_distinct_from(HELD),
                )
                .values(error=HELD)
            )
            return {key: QUEUED for _, key in waiting}
    return {
        key: _deliver_one(store_url, campaign, settings, entry_id, now, obsolete, reclaim_after)
        for entry_id, key in waiting
    }


def _deliver_one(
    store_url: str,
    campaign: Campaign,
    settings: SmtpSettings,
    entry_id: int,
    now: datetime | None,
    obsolete: Obsolete | None,
    reclaim_after: timedelta,
) -> str:
    clock = datetime.now(UTC)
    with session_scope(store_url) as s:  # claim it: only one process sends a message
        entry = cast(Notification, s.get(Notification, entry_id))  # queued by this process: it exists
        if entry.outcome == SENDING and entry.last_attempt_at > clock - reclaim_after:
            return SENDING  # another process is sending it now
        if entry.outcome not in TO_DELIVER:
            return entry.outcome
        dead = bounced(s)
        reason = (
            "Mọi người nhận đều đã bị máy chủ thư trả lại."
            if all(r.lower() in dead for r in entry.recipients)
            else (obsolete(s, entry) if obsolete else None)
        )
        if reason:
            entry.outcome, entry.error = DROPPED, reason
            return DROPPED
        claimed = s.execute(
            update(Notification)
            .where(
                Notification.id == entry_id,
                Notification.outcome == entry.outcome,
                Notification.attempts == entry.attempts,
            )
            .values(outcome=SENDING, attempts=entry.attempts + 1, last_attempt_at=clock)
        ).rowcount  # type: ignore[attr-defined]
        if not claimed:
            return SENDING
        s.refresh(entry)
        message = build_message(settings, entry, clock.astimezone(campaign.tz))
    try:
        refused = deliver(settings, message)
        outcome, error = SENT, None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = {a: f"{c} {r!r}" for a, (c, r) in exc.recipients.items()}
        outcome, error = FAILED, "Máy chủ thư từ chối mọi người nhận."
    except (OSError, smtplib.SMTPException) as exc:
        refused, outcome, error = {}, FAILED, f"{type(exc).__name__}: {exc}"
    with session_scope(store_url) as s:  # the server's answer, committed at once
        entry = cast(Notification, s.get(Notification, entry_id))  # queued by this process: it exists
        entry.outcome, entry.error = outcome, error
        if outcome == SENT:
            entry.sent_at = now or clock
        for address, why in refused.items():
            s.merge(BouncedAddress(email=address.lower(), reason=why, seen_at=clock))
    return outcome
