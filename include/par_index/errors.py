"""Errors a user reads: each carries a stable code and a Vietnamese message."""

from __future__ import annotations


class ParError(Exception):
    """Base error of the project. ``code`` is stable; ``message`` is Vietnamese and names what is wrong."""

    code = "PAR000"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class CatalogueError(ParError):
    code = "CAT000"


class CampaignError(ParError):
    code = "CMP000"


class ReportStateError(ParError):
    """A decision or delivery asked of a report build that is not in the state it needs."""

    code = "REP000"
