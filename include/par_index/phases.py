"""Phase state computed from the campaign store: who is expected, who has complied, who is late.

Everything that judges lateness (sensors, closing tasks, alerts, the report) calls :func:`evaluate`, so they agree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from par_index.phase_registry import REGISTRY
from par_index.store import session_scope
from par_index.store.models import (
    LateUnit,
    Nominee,
    PhaseOutcome,
    ReceivedFile,
    ReportBuild,
    Score,
    SurveyProgress,
    SurveyRespondent,
)
from par_index.text import vn_datetime

if TYPE_CHECKING:
    from par_index.campaign import Campaign

REASON_TITLES = {
    "ok": "Đã hoàn thành",
    "pending": "Chưa nộp (còn hạn)",
    "missing": "Không nộp",
    "late": "Hoàn thành sau hạn",
    "invalid": "Không đạt yêu cầu",
    "incomplete": "Chưa đầy đủ",
}
BUILD_STATUS_TITLES = {
    "awaiting": "Chờ phê duyệt",
    "rejected": "Bị từ chối",
    "approved": "Đã phê duyệt",
    "delivered": "Đã gửi UBND tỉnh",
    "superseded": "Đã có bản lập sau",
}  # a report build's


@dataclass
class UnitStatus:
    """Where one unit stands in a phase, and why."""

    unit_code: str
    reason: str  # ok | pending | missing | late | invalid | incomplete
    detail: str = ""
    done: int = 0
    expected: int = 0
    missing: list[str] = field(default_factory=list)  # survey: who has not answered (in time)


@dataclass
class PhaseState:
    """Where every unit stands in a phase at ``now``."""

    phase: str
    deadline: datetime
    now: datetime
    units: dict[str, UnitStatus] = field(default_factory=dict)

    @property
    def deadline_passed(self) -> bool:
        """Whether the phase's deadline has passed at ``now``."""
        return self.now > self.deadline

    @property
    def complete(self) -> bool:
        """Whether every unit has complied."""
        return all(s.reason == "ok" for s in self.units.values())

    @property
    def done(self) -> bool:
        """The phase may close: everyone complied, or the deadline has passed."""
        return self.complete or self.deadline_passed

    @property
    def laggards(self) -> list[UnitStatus]:
        """The units that have not complied."""
        return [s for s in self.units.values() if s.reason != "ok"]


def _first_arrivals(
    session: Session, campaign: Campaign, kind: str, now: datetime
) -> dict[str | None, datetime]:
    """Unit → when it first sent this form in a readable version (an on-time first version counts even if a
    correction came later), as of ``now``."""
    files = session.execute(
        select(ReceivedFile.unit_code, ReceivedFile.arrived_at).where(
            ReceivedFile.campaign_id == campaign.id,
            ReceivedFile.form_kind == kind,
            ReceivedFile.status.in_(("accepted", "superseded")),
            ReceivedFile.arrived_at <= now,
        )
    )
    first: dict[str | None, datetime] = {}
    for unit, arrived in files:
        if unit not in first or arrived < first[unit]:
            first[unit] = arrived
    return first


def _missing(state: PhaseState, code: str, detail: str) -> UnitStatus:
    return UnitStatus(code, "missing" if state.deadline_passed else "pending", detail)


def evaluate(session: Session, campaign: Campaign, phase: str, now: datetime | None = None) -> PhaseState:
    """Who has complied with the deadline ``phase`` as of ``now``, by the phase's judge
    (:data:`par_index.phase_registry.REGISTRY`)."""
    now = now or datetime.now(UTC)
    state = PhaseState(phase, campaign.deadline_at(phase), now)
    REGISTRY[phase].judge(session, campaign, state)
    return state


def judge_deadline(campaign: Campaign, store_url: str, phase: str, now: datetime) -> dict:
    """Has the directive's deadline ``phase`` been met as of ``now``, judged from the store alone (SQL only: the
    deadlines DAG's trigger asks this in the triggerer)."""
    with session_scope(store_url) as s:
        state = evaluate(s, campaign, phase, now)
    return {
        "phase": phase,
        "as_of": now.isoformat(),
        "deadline": campaign.deadline_at(phase).isoformat(),
        "complete": state.complete,
        "expected": len(state.units),
        "waiting_for": sorted(u.unit_code for u in state.laggards),
        "recheck_at": None,
    }


def judge_nominees(session: Session, campaign: Campaign, state: PhaseState) -> None:
    """Appendix IV: each unit's nominees sent on time and within the directive's rules."""
    files = _first_arrivals(session, campaign, "appendix_iv", state.now)
    people: dict[str, list[Nominee]] = defaultdict(list)
    for nominee in session.scalars(select(Nominee).where(Nominee.campaign_id == campaign.id)):
        people[nominee.unit_code].append(nominee)
    rules = campaign.nominee_rules
    for code, areas in campaign.area_owners.items():
        arrived = files.get(code)
        if arrived is None:
            state.units[code] = _missing(state, code, "Chưa gửi danh sách công chức đầu mối.")
            continue
        nominees = people[code]
        problems = []
        if code in rules.exactly_one:
            if len(nominees) != 1:
                problems.append(f"cử {len(nominees)} người, quy định đúng 01 người")
        else:
            per_area = Counter(a for n in nominees for a in n.areas)
            for area in areas:
                count = per_area.get(area, 0)
                if not rules.per_area_min <= count <= rules.per_area_max:
                    problems.append(
                        f"lĩnh vực {area}: {count} người (quy định {rules.per_area_min:02d}–"
                        f"{rules.per_area_max:02d})"
                    )
        if problems:
            state.units[code] = UnitStatus(code, "invalid", "; ".join(problems) + ".", len(nominees))
        elif arrived > state.deadline:
            state.units[code] = UnitStatus(
                code, "late", f"Nộp ngày {arrived.astimezone(campaign.tz):%d/%m/%Y}.", len(nominees)
            )
        else:
            state.units[code] = UnitStatus(code, "ok", f"{len(nominees)} người.", len(nominees))


def judge_survey(session: Session, campaign: Campaign, state: PhaseState) -> None:
    """The survey: every leader on the unit's roster answered in full, on time."""
    roster = session.scalars(
        select(SurveyRespondent).where(SurveyRespondent.campaign_id == campaign.id)
    ).all()
    progress = {
        p.email: p
        for p in session.scalars(select(SurveyProgress).where(SurveyProgress.campaign_id == campaign.id))
    }
    by_unit: dict[str, list[SurveyRespondent]] = defaultdict(list)
    for person in roster:
        by_unit[person.unit_code].append(person)
    cutoff = min(state.now, state.deadline)
    for unit in campaign.active_units:
        people = by_unit.get(unit.code, [])
        if not people:
            state.units[unit.code] = _missing(
                state, unit.code, "Chưa có trong danh sách người trả lời khảo sát."
            )
            continue
        done_in_time = done_late = 0
        missing_names = []
        for person in people:
            p = progress.get(person.email)
            finished = p is not None and p.status == "completed" and p.total > 0 and p.answered >= p.total
            if finished and p is not None and (p.completed_at is None or p.completed_at <= cutoff):
                done_in_time += 1
            elif finished:
                done_late += 1
            else:
                missing_names.append(person.full_name)
        expected = len(people)
        rate = f"{done_in_time}/{expected}"
        if done_in_time == expected:
            state.units[unit.code] = UnitStatus(
                unit.code, "ok", f"Hoàn thành {rate}.", done_in_time, expected, missing_names
            )
        elif not state.deadline_passed:
            state.units[unit.code] = UnitStatus(
                unit.code,
                "pending",
                f"Hoàn thành {rate}; còn thiếu: {', '.join(missing_names)}.",
                done_in_time,
                expected,
                missing_names,
            )
        elif done_late and not missing_names:
            state.units[unit.code] = UnitStatus(
                unit.code,
                "late",
                f"Hoàn thành {rate} đúng hạn; {done_late} người trả lời sau hạn.",
                done_in_time,
                expected,
                missing_names,
            )
        else:
            late = f"; {done_late} người trả lời sau hạn" if done_late else ""
            state.units[unit.code] = UnitStatus(
                unit.code,
                "incomplete",
                f"Hoàn thành {rate}{late}; chưa trả lời đầy đủ: {', '.join(missing_names)}.",
                done_in_time,
                expected,
                missing_names,
            )


def judge_self_scores(session: Session, campaign: Campaign, state: PhaseState) -> None:
    """Appendix II: each area owner's self-score report received on time."""
    reports = _first_arrivals(session, campaign, "appendix_ii", state.now)
    portal_units = set(
        session.scalars(
            select(Score.unit_code)
            .where(Score.campaign_id == campaign.id, Score.source == "portal", Score.updated_at <= state.now)
            .distinct()
        )
    )
    assigned: dict[str, int] = Counter(campaign.assignment_of.values())
    for code, expected in assigned.items():
        arrived = reports.get(code)
        if arrived is None:
            state.units[code] = _missing(state, code, "Chưa gửi báo cáo tự chấm điểm (Phụ lục II).")
        elif code not in portal_units:
            state.units[code] = _missing(
                state, code, "Đã gửi báo cáo nhưng chưa có điểm trên phần mềm chấm điểm."
            )
        elif arrived > state.deadline:
            state.units[code] = UnitStatus(
                code,
                "late",
                f"Nộp báo cáo ngày {arrived.astimezone(campaign.tz):%d/%m/%Y}.",
                expected=expected,
            )
        else:
            state.units[code] = UnitStatus(
                code, "ok", "Đã gửi báo cáo và cập nhật phần mềm.", expected=expected
            )


def judge_report(session: Session, campaign: Campaign, state: PhaseState) -> None:
    """The report deadline is the coordinating unit's own: met when an approved report has been delivered to the
    PPC."""
    now = state.now
    delivered = session.scalar(
        select(func.min(ReportBuild.delivered_at)).where(
            ReportBuild.campaign_id == campaign.id, ReportBuild.delivered_at <= now
        )
    )
    build = session.scalar(
        select(ReportBuild)
        .where(ReportBuild.campaign_id == campaign.id, ReportBuild.created_at <= now)
        .order_by(ReportBuild.number.desc())
        .limit(1)
    )
    if delivered:
        reason, detail = "ok", f"Đã gửi UBND tỉnh lúc {vn_datetime(delivered.astimezone(campaign.tz))}."
    else:
        reason = "missing" if state.deadline_passed else "pending"
        detail = (
            f"Bản lần {build.number}: {BUILD_STATUS_TITLES[build.status].lower()}"
            + (f" (lý do: {build.reason})" if build.status == "rejected" else "")
            + "."
            if build
            else "Chưa lập báo cáo tổng hợp."
        )
    state.units[campaign.coordinator] = UnitStatus(campaign.coordinator, reason, detail)


def report_state(session: Session, campaign: Campaign, now: datetime) -> PhaseState:
    """The report deadline's state (:func:`judge_report`)."""
    return evaluate(session, campaign, "report", now)


def close(
    session: Session,
    campaign: Campaign,
    phase: str,
    now: datetime | None = None,
    collection_failed: bool = False,
) -> PhaseState:
    """Record the phase's outcome and its late units (replacing any earlier record: reruns are idempotent);
    ``collection_failed`` when the phase closes although its collection task failed."""
    state = evaluate(session, campaign, phase, now)
    session.execute(
        delete(PhaseOutcome).where(PhaseOutcome.campaign_id == campaign.id, PhaseOutcome.phase == phase)
    )
    session.execute(delete(LateUnit).where(LateUnit.campaign_id == campaign.id, LateUnit.phase == phase))
    session.add(
        PhaseOutcome(
            campaign_id=campaign.id,
            phase=phase,
            status="complete" if state.complete else "closed_incomplete",
            expected_units=len(state.units),
            complete_units=len(state.units) - len(state.laggards),
            closed_at=state.now,
            collection_failed=collection_failed,
        )
    )
    for s in state.laggards:
        session.add(
            LateUnit(
                campaign_id=campaign.id, phase=phase, unit_code=s.unit_code, reason=s.reason, detail=s.detail
            )
        )
    session.flush()
    return state
