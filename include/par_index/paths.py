"""Where things live: the project's bundled files and the data folder (inbox, archive, outputs, mail).

The library's own data — the criteria catalogues, the bundled campaign files, the templates (mail, forms, report,
dashboard) — is found through ``importlib.resources``: an installed wheel carries it as ``par_index/bundled/``
(setup.py copies the repository's ``include/criteria/``, ``include/campaigns/`` and ``include/templates/`` there);
a source checkout (the editable install of ``make install``) reads those folders in place. Deployment-specific
folders come from the environment: ``PAR_CAMPAIGNS_DIR`` (campaign files), ``PAR_EXTRA_CAMPAIGNS_DIR``,
``PAR_DATA_DIR`` (inbox, archive, reports, mail).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PROJECT_ROOT = (
    Path(__file__).resolve().parents[2]
)  # the repository, when the library runs from a source checkout


def _bundled_dir() -> Path:
    installed = resources.files(__package__) / "bundled"
    if isinstance(installed, Path) and installed.is_dir():  # a wheel installed on the file system
        return installed
    return PROJECT_ROOT / "include"


BUNDLED_DIR = _bundled_dir()
FROM_SOURCE = BUNDLED_DIR == PROJECT_ROOT / "include"
CRITERIA_DIR = BUNDLED_DIR / "criteria"
CAMPAIGNS_DIR = Path(os.environ.get("PAR_CAMPAIGNS_DIR", BUNDLED_DIR / "campaigns"))
TEMPLATES_DIR = BUNDLED_DIR / "templates"


def extra_campaigns_dir() -> Path | None:
    """Campaign files generated outside the repository (``PAR_EXTRA_CAMPAIGNS_DIR``; ``make up`` puts its trial
    campaign there), read besides the bundled ones. Read on each call: tests and the stack set it late."""
    folder = os.environ.get("PAR_EXTRA_CAMPAIGNS_DIR")
    return Path(folder).resolve() if folder else None


def data_dir() -> Path:
    """Base folder for campaign data; ``PAR_DATA_DIR``, else ``<project>/out`` in a source checkout and ``out`` in the
    working directory for an installed wheel."""
    default = PROJECT_ROOT / "out" if FROM_SOURCE else Path("out")
    return Path(os.environ.get("PAR_DATA_DIR", default)).resolve()


def inbox_dir(campaign_id: str) -> Path:
    """Where SNV drops what units send (any file name, any sub-folder)."""
    return data_dir() / "inbox" / campaign_id


def setup_dir(campaign_id: str) -> Path:
    """Where a campaign's setup workbooks are exported and read from (par_index.setup_workbook), with ``luu/``
    holding the campaign file's previous versions."""
    return data_dir() / "setup" / campaign_id


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
