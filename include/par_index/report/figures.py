"""The figures of the provincial report, computed once from the campaign store: the workbook and the Word report
both read them, so they always say the same thing."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from par_index import requests
from par_index.campaign import BUDGET_STATUS_TITLES, Campaign
from par_index.mismatches import CATEGORY_TITLES, DISAGREEMENTS
from par_index.phase_registry import COLLECTED
from par_index.phases import PhaseState, evaluate, explained
from par_index.requests import OpenRequest, RequestStatus
from par_index.store import queries
from par_index.store.models import LateUnit, Mismatch, Nominee, PhaseOutcome, Reconciliation, Score
from par_index.text import vn_date


@dataclass
class AreaResult:
    """One area's most points (self-scored and survey) and its self score."""

    code: str
    name_vi: str
    self_max: Decimal  # points the province scores itself in this area
    survey_max: Decimal  # points MoHA scores by its survey
    self_score: Decimal
    provisional: bool

    @property
    def percent(self) -> float:
        """The self score as a percentage of the area's maximum."""
        return round(float(100 * self.self_score / self.self_max), 1) if self.self_max else 0.0


@dataclass
class LeafResult:
    """One scored item: the report's score and the software's."""

    code: str
    name_vi: str
    max_points: Decimal
    unit_code: str | None
    report: Score | None
    portal: Score | None
    disagrees: bool
    provisional: bool

    @property
    def on_portal(self) -> bool:
        """Submitted on the software (not a draft) with a score, and evidence or an explanation."""
        return bool(
            self.portal
            and self.portal.score is not None
            and self.portal.status == "submitted"
            and explained(self.portal, self.report)
        )

    @property
    def has_evidence(self) -> bool:
        """Whether the report gives evidence for the item."""
        return bool(self.report and (self.report.evidence or (self.report.evidence_count or 0) > 0))


@dataclass
class ReportFigures:
    """The figures of the provincial report, as of a moment."""

    campaign: Campaign
    as_of: datetime
    areas: list[AreaResult]
    leaves: dict[str, LeafResult]
    survey: PhaseState
    self_scores: PhaseState
    nominees: int
    nominee_units: int
    late: dict[str, list[LateUnit]]
    mismatches: Counter = field(default_factory=Counter)
    outcomes: dict[str, PhaseOutcome] = field(default_factory=dict)  # phases closed so far
    reconciled_at: datetime | None = None  # the last reconciliation run, as the open mismatches (None: never)
    difficulties: dict[str, str] = field(
        default_factory=dict
    )  # unit → its Appendix II "Khó khăn, vướng mắc, đề xuất"
    overdue_requests: list[OpenRequest] = field(default_factory=list)  # requests past due, not answered
    budget_requests: list[RequestStatus] = field(default_factory=list)  # requests of the budget kind

    @property
    def phase_warnings(self) -> list[str]:
        """Phases the report cannot vouch for: not closed when it was built, or closed after a failed
        collection. The report says so rather than present their figures as final."""
        lines = []
        for phase in COLLECTED:
            title = self.campaign.phase_title(phase)
            outcome = self.outcomes.get(phase)
            if outcome is None:
                lines.append(
                    f"Nội dung “{title}” chưa khép lại khi lập báo cáo: số liệu của nội dung này chưa "
                    "phải số liệu cuối cùng."
                )
            elif outcome.collection_failed:
                lines.append(
                    f"Nội dung “{title}” được khép lại sau khi tác vụ thu nhận bị lỗi: số liệu có thể "
                    "chưa đầy đủ."
                )
        return lines

    @property
    def self_total(self) -> Decimal:
        """The province's self-assessed points."""
        return sum((a.self_score for a in self.areas), Decimal(0))

    @property
    def self_max(self) -> Decimal:
        """The most points the province can score itself."""
        return self.campaign.catalogue.totals.get(
            "self_points", sum((a.self_max for a in self.areas), Decimal(0))
        )

    @property
    def survey_max(self) -> Decimal:
        """The most points MoHA's survey can give."""
        return self.campaign.catalogue.totals.get(
            "survey_points", sum((a.survey_max for a in self.areas), Decimal(0))
        )

    @property
    def scored(self) -> int:
        """How many items the report scores."""
        return sum(1 for leaf in self.leaves.values() if leaf.report and leaf.report.score is not None)

    @property
    def on_portal(self) -> int:
        """Self-scored items submitted on the software with evidence or an explanation."""
        return sum(1 for leaf in self.leaves.values() if leaf.on_portal)

    @property
    def lacking_evidence(self) -> list[LeafResult]:
        """Scored items without evidence: the report explains them (or says that no explanation was given)."""
        return [leaf for leaf in self.leaves.values() if leaf.report and not leaf.has_evidence]

    @property
    def survey_rate(self) -> float:
        """The share of expected survey answers given, in percent."""
        expected = sum(s.expected for s in self.survey.units.values())
        return round(100 * sum(s.done for s in self.survey.units.values()) / expected, 1) if expected else 0.0

    @property
    def open_mismatches(self) -> int:
        """How many mismatches are still open."""
        return sum(self.mismatches.values())

    @property
    def budget_line(self) -> str:
        """The report's sentence on the budget: its title, who leads it, its status and its document. When a
        budget request was made (requests.py), its status comes from the request (answered or not, due day);
        otherwise from the campaign file's ``budget:`` section."""
        b = self.campaign.budget
        names = self.campaign.unit_by_code
        who = f"{names[self.campaign.budget_unit].name_vi} chủ trì" + (
            f", phối hợp {names[b.with_unit].name_vi}" if b.with_unit else ""
        )
        if self.budget_requests:
            return (
                f"{b.title_vi} ({who}): "
                + "; ".join(
                    requests.budget_status(self.campaign, r, self.as_of) for r in self.budget_requests
                )
                + "."
            )
        document = (
            f"{b.document}, ngày {vn_date(b.dated)}"
            if b.document and b.dated
            else (b.document or "chưa có số, ngày văn bản")
        )
        return f"{b.title_vi} ({who}): {BUDGET_STATUS_TITLES[b.status].lower()}; {document}."


def leaf_scores(session: Session, campaign: Campaign, source: str) -> dict[str, Score]:
    """Each self-scored leaf's score from ``source`` ('report' or 'portal'), as sent by the unit it is assigned
    to (a score sent by another unit is a mismatch, not the province's score)."""
    rows = session.scalars(select(Score).where(Score.campaign_id == campaign.id, Score.source == source))
    return {s.criterion_code: s for s in rows if campaign.assignment_of.get(s.criterion_code) == s.unit_code}


def compute(session: Session, campaign: Campaign, now: datetime) -> ReportFigures:
    """The report's figures from the store at ``now``: per criterion, per area, totals."""
    catalogue = campaign.catalogue
    report, portal = leaf_scores(session, campaign, "report"), leaf_scores(session, campaign, "portal")
    open_rows = session.scalars(select(Mismatch).where(Mismatch.campaign_id == campaign.id)).all()
    disagreeing = {m.criterion_code for m in open_rows if m.category in DISAGREEMENTS}
    leaves = {
        leaf.code: LeafResult(
            leaf.code,
            leaf.name_vi,
            leaf.max_points,
            campaign.assignment_of.get(leaf.code),
            report.get(leaf.code),
            portal.get(leaf.code),
            leaf.code in disagreeing,
            leaf.provisional,
        )
        for leaf in catalogue.self_scored_leaves
    }
    self_score: dict[str, Decimal] = defaultdict(Decimal)
    for leaf in leaves.values():
        if leaf.report and leaf.report.score is not None:
            self_score[leaf.code.split(".")[0]] += leaf.report.score
    areas = []
    for area in catalogue.areas:
        inside = [i for i in catalogue.leaves if i.area == area.code]
        areas.append(
            AreaResult(
                area.code,
                area.name_vi,
                sum((i.max_points for i in inside if i.method == "self"), Decimal(0)),
                sum((i.max_points for i in inside if i.method == "survey"), Decimal(0)),
                self_score[area.code],
                any(i.provisional for i in [area, *inside]),
            )
        )
    nominees = session.scalars(select(Nominee).where(Nominee.campaign_id == campaign.id)).all()
    late: dict[str, list[LateUnit]] = {phase: [] for phase in COLLECTED}
    for row in session.scalars(
        select(LateUnit).where(LateUnit.campaign_id == campaign.id).order_by(LateUnit.unit_code)
    ):
        late.setdefault(row.phase, []).append(row)
    return ReportFigures(
        campaign,
        now,
        areas,
        leaves,
        evaluate(session, campaign, "survey", now),
        evaluate(session, campaign, "self_scores", now),
        len(nominees),
        len({n.unit_code for n in nominees}),
        late,
        Counter(CATEGORY_TITLES.get(m.category, m.category) for m in open_rows),
        {
            o.phase: o
            for o in session.scalars(
                select(PhaseOutcome).where(
                    PhaseOutcome.campaign_id == campaign.id, PhaseOutcome.closed_at <= now
                )
            )
        },
        session.scalar(
            select(func.max(Reconciliation.finished_at)).where(Reconciliation.campaign_id == campaign.id)
        ),
        queries.unit_difficulties(session, campaign),
        [
            o
            for o in requests.open_requests(session, campaign, now.astimezone(campaign.tz).date())
            if o.overdue
        ],
        requests.statuses(session, campaign, "budget"),
    )
