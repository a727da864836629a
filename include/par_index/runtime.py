"""Where a campaign operation runs: the store's address, how to send mail, MoHA's software. Light on purpose
(neither pandas nor openpyxl, nor the operations of :mod:`par_index.service`): the API server's dashboard and the
Airflow adapters build one without loading the write side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from par_index.store.db import default_url

if TYPE_CHECKING:
    from par_index.intake.feeds import PortalClient
    from par_index.notify import SmtpSettings


@dataclass(frozen=True)
class Runtime:
    """Where the campaign store, the mail server and MoHA's software are."""

    store_url: str
    smtp: SmtpSettings | None = None
    portal: PortalClient | None = None  # MoHA's software over HTTP, when the par_portal connection exists

    @classmethod
    def local(cls, smtp: SmtpSettings | None = None) -> Runtime:
        """The runtime on the default store (the data folder's), mailing through ``smtp``."""
        return cls(default_url(), smtp)
