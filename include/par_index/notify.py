"""Mail: Vietnamese templates (HTML + plain text), SMTP delivery, and the ledger that keeps every key to one
successful send (a failed send stays in the ledger and is retried by the next run)."""

from __future__ import annotations

import email.policy
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from par_index.addresses import header_addresses
from par_index.campaign import Campaign
from par_index.paths import TEMPLATES_DIR
from par_index.readers import salutation
from par_index.store.models import BouncedAddress, Notification
from par_index.text import vn_date, vn_datetime, vn_number, vn_weekday_date, vn_weekday_datetime

# Python folds long non-ASCII subjects into encoded words and loses the spaces between them ("phầnmềm"): keep
# each header on one line (RFC 5322 allows 998 characters).
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
DONE = ("sent", "disabled")  # a key in one of these states is never sent again ("failed" is retried)
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


_env = Environment(loader=FileSystemLoader(TEMPLATES_DIR / "email"), undefined=StrictUndefined,
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_env.filters["vn_date"] = vn_date
_env.filters["vn_datetime"] = vn_datetime
_env.filters["vn_weekday_date"] = vn_weekday_date  # a deadline names its weekday
_env.filters["vn_weekday_datetime"] = vn_weekday_datetime
_env.filters["points"] = vn_number
_env.filters["salutation"] = salutation  # "Kính gửi: {{ unit|salutation }}", its head: unit|salutation(head=True)


def render(template: str, **context) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``template`` rendered with ``context``."""
    subject = _env.get_template(f"{template}.subject.txt").render(**context).strip()
    campaign = context.get("campaign")
    if getattr(getattr(campaign, "campaign", None), "trial", False) and "thử nghiệm" not in subject.casefold():
        subject = f"[Thử nghiệm] {subject}"  # a trial campaign's mail never reads as the real one's
    return subject, _env.get_template(f"{template}.txt").render(**context), \
        _env.get_template(f"{template}.html").render(**context)


def build_message(settings: SmtpSettings, recipients: list[str], subject: str, text: str, html: str,
                  attachments: list[Path] = ()) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    sender_local, _, sender_domain = settings.sender.rpartition("@")
    message["From"] = Address("Sở Nội vụ — Chiến dịch CCHC", sender_local, sender_domain)
    message["To"] = header_addresses(recipients)
    message["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    for path in attachments:
        message.add_attachment(path.read_bytes(), maintype="application", subtype=XLSX_SUBTYPE, filename=path.name)
    return message


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
    return {b.lower() for b in session.scalars(select(BouncedAddress.email))}


def send_once(session: Session, campaign: Campaign, settings: SmtpSettings | None, *, key: str, template: str,
              recipients: list[str], phase: str | None = None, unit_code: str | None = None, rung: str | None = None,
              attachments: list[Path] = (), now: datetime | None = None, **context) -> str:
    """Send ``template`` to ``recipients`` unless ``key`` was already sent. Returns the ledger outcome:
    ``sent``, ``already_sent``, ``failed`` (kept, with what was rendered, for :func:`retry_failed`) or
    ``disabled`` (no SMTP connection configured)."""
    entry = session.scalar(select(Notification).where(Notification.key == key))
    if entry is not None and entry.outcome in DONE:
        return "already_sent" if entry.outcome == "sent" else entry.outcome
    context.setdefault("campaign", campaign)
    subject, text, html = render(template, **context)
    if entry is None:
        entry = Notification(campaign_id=campaign.id, key=key, template=template, phase=phase, recipients=recipients,
                             subject=subject, outcome="pending", attempts=0, last_attempt_at=datetime.now(UTC),
                             unit_code=unit_code, rung=rung)
        session.add(entry)
    entry.subject, entry.body_text, entry.body_html = subject, text, html
    entry.attachments = [str(p) for p in attachments]
    return _attempt(session, entry, settings, now)


def _attempt(session: Session, entry: Notification, settings: SmtpSettings | None, now: datetime | None) -> str:
    entry.attempts += 1
    entry.last_attempt_at = datetime.now(UTC)
    if settings is None:
        entry.outcome, entry.error = "disabled", "Chưa cấu hình kết nối par_smtp."
    else:
        try:
            message = build_message(settings, entry.recipients, entry.subject, entry.body_text or "",
                                    entry.body_html or "", [Path(p) for p in entry.attachments or []])
            refused = deliver(settings, message)
            entry.outcome, entry.error, entry.sent_at = "sent", None, now or datetime.now(UTC)
            _remember_bounces(session, refused)
        except smtplib.SMTPRecipientsRefused as exc:
            entry.outcome, entry.error = "failed", "Máy chủ thư từ chối mọi người nhận."
            _remember_bounces(session, {a: f"{c} {r!r}" for a, (c, r) in exc.recipients.items()})
        except (OSError, smtplib.SMTPException) as exc:
            entry.outcome, entry.error = "failed", f"{type(exc).__name__}: {exc}"
    session.flush()
    return entry.outcome


def _remember_bounces(session: Session, refused: dict[str, str]) -> None:
    for address, reason in refused.items():
        session.merge(BouncedAddress(email=address.lower(), reason=reason, seen_at=datetime.now(UTC)))


def retry_failed(session: Session, campaign: Campaign, settings: SmtpSettings | None) -> int:
    """Send again, exactly as rendered, every mail whose last attempt failed."""
    if settings is None:
        return 0
    entries = session.scalars(select(Notification).where(Notification.campaign_id == campaign.id,
                                                         Notification.outcome == "failed")).all()
    dead = bounced(session)
    sent = 0
    for entry in entries:
        if all(r.lower() in dead for r in entry.recipients):
            continue
        sent += _attempt(session, entry, settings, None) == "sent"
    return sent
