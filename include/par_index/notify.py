"""Mail: Vietnamese templates (HTML + plain text), SMTP delivery, and the ledger that keeps every key to one
successful send (a failed send stays in the ledger and is retried by the next run)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.paths import TEMPLATES_DIR
from par_index.store.models import Notification
from par_index.text import vn_date, vn_datetime


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


def render(template: str, **context) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``template`` rendered with ``context``."""
    subject = _env.get_template(f"{template}.subject.txt").render(**context).strip()
    return subject, _env.get_template(f"{template}.txt").render(**context), \
        _env.get_template(f"{template}.html").render(**context)


def build_message(settings: SmtpSettings, recipients: list[str], subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr(("Sở Nội vụ — Chiến dịch CCHC", settings.sender))
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def deliver(settings: SmtpSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message)


def send_once(session: Session, campaign: Campaign, settings: SmtpSettings | None, *, key: str, template: str,
              recipients: list[str], phase: str | None = None, **context) -> str:
    """Send ``template`` to ``recipients`` unless ``key`` was already sent. Returns the ledger outcome:
    ``sent``, ``already_sent``, ``failed`` or ``disabled`` (no SMTP connection configured)."""
    entry = session.scalar(select(Notification).where(Notification.key == key))
    if entry is not None and entry.outcome == "sent":
        return "already_sent"
    context.setdefault("campaign", campaign)
    subject, text, html = render(template, **context)
    if entry is None:
        entry = Notification(campaign_id=campaign.id, key=key, template=template, phase=phase, recipients=recipients,
                             subject=subject, outcome="pending", attempts=0, last_attempt_at=datetime.now(UTC))
        session.add(entry)
    entry.attempts += 1
    entry.last_attempt_at = datetime.now(UTC)
    if settings is None:
        entry.outcome, entry.error = "disabled", "Chưa cấu hình kết nối par_smtp."
    else:
        try:
            deliver(settings, build_message(settings, recipients, subject, text, html))
            entry.outcome, entry.error = "sent", None
        except (OSError, smtplib.SMTPException) as exc:
            entry.outcome, entry.error = "failed", f"{type(exc).__name__}: {exc}"
    session.flush()
    return entry.outcome
