"""Build a :class:`~par_index.runtime.Runtime` from Airflow connections (secrets stay in Airflow). The library is
imported only where needed: the triggerer asks :func:`store_url` alone, without intake, HTTP or mail code."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from par_index.runtime import Runtime
from par_index.store import default_url

if TYPE_CHECKING:  # imported when used: the dashboard asks only for the store's address
    from par_index.intake.feeds import PortalClient
    from par_index.notify import SmtpSettings

log = logging.getLogger(__name__)
STORE_CONN_ID = "par_campaign_db"
SMTP_CONN_ID = "par_smtp"
PORTAL_CONN_ID = "par_portal"


def _connection(conn_id: str):
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - AirflowNotFoundException's module differs between contexts
        return None


def store_url() -> str:
    """SQLAlchemy URL of the campaign store: connection ``par_campaign_db`` or the default SQLite file."""
    conn = _connection(STORE_CONN_ID)
    if conn is None:
        return default_url()
    if conn.extra_dejson.get("sqlalchemy_url"):
        return conn.extra_dejson["sqlalchemy_url"]
    if conn.conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    from sqlalchemy.engine import URL

    driver = {"postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2"}.get(
        conn.conn_type, conn.conn_type
    )
    return URL.create(
        driver,
        username=conn.login,
        password=conn.password,
        host=conn.host,
        port=conn.port,
        database=conn.schema,
    ).render_as_string(hide_password=False)


def smtp_settings() -> SmtpSettings | None:
    """SMTP settings from connection ``par_smtp``; ``None`` (mail recorded as not sent) when it is missing."""
    from par_index.notify import SmtpSettings

    conn = _connection(SMTP_CONN_ID)
    if conn is None:
        log.warning("Connection %s is not defined: notifications are recorded but not sent.", SMTP_CONN_ID)
        return None
    extra = conn.extra_dejson
    return SmtpSettings(
        host=conn.host or "localhost",
        port=int(conn.port or 25),
        user=conn.login or None,
        password=conn.password or None,
        sender=extra.get("from_email", "cchc@localhost"),
        starttls=bool(extra.get("starttls", False)),
        timeout=float(extra.get("timeout", 20)),
    )


def portal_client() -> PortalClient | None:
    """Client of MoHA's software from connection ``par_portal`` (base URL in host, token in password)."""
    from par_index.intake.feeds import FeedSettings, PortalClient

    conn = _connection(PORTAL_CONN_ID)
    if conn is None:
        return None
    extra = conn.extra_dejson
    host = conn.host or ""
    base = (
        host if "://" in host else f"{conn.schema or 'https'}://{host}{f':{conn.port}' if conn.port else ''}"
    )
    return PortalClient(
        FeedSettings(
            base_url=base,
            token=conn.password or extra.get("token"),
            read_timeout=float(extra.get("timeout", 30)),
            retries=int(extra.get("retries", 3)),
            backoff=float(extra.get("backoff", 0.5)),
        )
    )


def runtime() -> Runtime:
    """The store URL, SMTP settings and portal client of this deployment."""
    return Runtime(store_url(), smtp_settings(), portal_client())
