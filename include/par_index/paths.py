"""Where things live: the project's bundled files and the data folder (inbox, archive, outputs, mail)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
CRITERIA_DIR = INCLUDE_DIR / "criteria"
CAMPAIGNS_DIR = Path(os.environ.get("PAR_CAMPAIGNS_DIR", INCLUDE_DIR / "campaigns"))
TEMPLATES_DIR = INCLUDE_DIR / "templates"


def extra_campaigns_dir() -> Path | None:
    """Campaign files generated outside the repository (``PAR_EXTRA_CAMPAIGNS_DIR``; ``make up`` puts its trial
    campaign there), read besides the bundled ones. Read on each call: tests and the stack set it late."""
    folder = os.environ.get("PAR_EXTRA_CAMPAIGNS_DIR")
    return Path(folder).resolve() if folder else None


def data_dir() -> Path:
    """Base folder for campaign data; ``PAR_DATA_DIR`` or ``<project>/out``."""
    return Path(os.environ.get("PAR_DATA_DIR", PROJECT_ROOT / "out")).resolve()


def inbox_dir(campaign_id: str) -> Path:
    """Where SNV drops what units send (any file name, any sub-folder)."""
    return data_dir() / "inbox" / campaign_id


def archive_dir(campaign_id: str) -> Path:
    """Originals of every received file, stored under their SHA-256 (never under a user-given name)."""
    return data_dir() / "archive" / campaign_id


def reports_dir(campaign_id: str) -> Path:
    """Where the campaign's reports are written."""
    return data_dir() / "reports" / campaign_id


def mail_dir() -> Path:
    """Where copies of the mail sent are kept."""
    return data_dir() / "mail"


def quarantine_dir(campaign_id: str) -> Path:
    """Files moved out of the inbox because they hold passwords: never archived, never backed up, owner-only."""
    return data_dir() / "quarantine" / campaign_id


def outbox_dir() -> Path:
    """Attachments of queued and sent mail, each kept once under its SHA-256: what a mail carries never changes."""
    return data_dir() / "outbox"
