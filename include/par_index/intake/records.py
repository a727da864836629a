"""What a form's rows become once read and validated: one frozen record type per form kind.

Only the readers of :mod:`par_index.intake.forms` build records, and only through
:meth:`~par_index.intake.forms.ParsedForm.keep`, which refuses a row that has an error-severity issue: such a row
is reported with its issue and never stored. The code that stores a form (:mod:`par_index.intake.inbox`), and every
other caller, reads the records' attributes: a record is not a dict (no access by key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """A validated row of a form; ``row`` is the Excel row (1-based) it was read from."""

    row: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportScoreRecord(Record):
    """Appendix II: one leaf criterion the unit scored itself (signed report)."""

    criterion: str
    score: Decimal
    evidence: str | None
    evidence_count: int
    explanation: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NomineeRecord(Record):
    """Appendix IV: one nominated focal official of the unit."""

    name: str
    position: str
    division: str | None
    areas: tuple[str, ...]
    phone: str | None
    email: str
    council: bool
    note: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalScoreRecord(Record):
    """The scoring software's export or feed: one unit's score of one criterion as entered on the software."""

    unit: str
    criterion: str
    score: Decimal | None  # blank on the software
    evidence_count: int | None
    status: str  # submitted | draft
    updated_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalAccountRecord(Record):
    """Appendix III: one account on the scoring software."""

    unit: str
    login: str
    scope: str
    manager: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyRosterRecord(Record):
    """The survey roster: one respondent."""

    name: str
    position: str
    unit: str
    email: str
    group: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyProgressRecord(Record):
    """The survey progress (file or feed): one respondent's progress."""

    email: str
    status: str  # completed | in_progress | not_started
    answered: int
    total: int
    completed_at: datetime | None


RECORD_TYPES: dict[str, type[Record]] = {
    "appendix_ii": ReportScoreRecord,
    "appendix_iv": NomineeRecord,
    "portal_export": PortalScoreRecord,
    "appendix_iii": PortalAccountRecord,
    "survey_roster": SurveyRosterRecord,
    "survey_progress": SurveyProgressRecord,
}


ALL_UNITS = "all"  # a received file's header ``units`` when it is a full snapshot of the software


@dataclass(frozen=True)
class Coverage:
    """What a software export or feed snapshot replaces in the store: the software rows of its units (``None``:
    every unit — a full snapshot) in its areas (``None``: every area). Kept in the received file's header as
    ``units`` (:data:`ALL_UNITS` or unit codes) and ``areas`` (area codes, absent for every area); a file stored
    before scopes were read counts as a full snapshot, as it was then."""

    units: frozenset[str] | None
    areas: frozenset[str] | None = None

    @classmethod
    def of(cls, header: dict | None) -> Coverage:
        """The coverage a received file's header states."""
        header = header or {}
        units, areas = header.get("units", ALL_UNITS), header.get("areas")
        return cls(
            None if units == ALL_UNITS else frozenset(units), None if areas is None else frozenset(areas)
        )

    def as_header(self) -> dict[str, object]:
        """The header entries that state this coverage."""
        out: dict[str, object] = {"units": ALL_UNITS if self.units is None else sorted(self.units)}
        if self.areas is not None:
            out["areas"] = sorted(self.areas, key=int)
        return out

    def covers(self, unit: str, area: str) -> bool:
        """Whether the software rows of ``unit`` in ``area`` are replaced by this file."""
        return (self.units is None or unit in self.units) and (self.areas is None or area in self.areas)

    def includes(self, other: Coverage) -> bool:
        """Whether everything ``other`` covers is covered here too."""
        units = self.units is None or (other.units is not None and other.units <= self.units)
        areas = self.areas is None or (other.areas is not None and other.areas <= self.areas)
        return units and areas
