"""Errors a user reads: each carries a stable code and a Vietnamese message."""

from __future__ import annotations


class ParError(Exception):
    """Base error of the project. ``code`` is stable; ``message`` is Vietnamese and names what is wrong."""

    code = "PAR000"

    def __init__(self, message: str, *, code: str | None = None):
        """Keep the message and, when given, a code other than the class's."""
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        """The message prefixed with its code."""
        return f"[{self.code}] {self.message}"


class CatalogueError(ParError):
    """The criteria catalogue is invalid."""

    code = "CAT000"


class CampaignError(ParError):
    """A campaign file is invalid."""

    code = "CMP000"


class ReportStateError(ParError):
    """A decision or delivery asked of a report build that is not in the state it needs."""

    code = "REP000"


class RequestError(ParError):
    """A request ("yêu cầu") that cannot be created: the message lists every problem, one a line."""

    code = "REQ000"
