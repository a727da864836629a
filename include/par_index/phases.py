"""Phase state computed from the campaign store: who is expected, who has complied, who is late.

Everything that judges lateness (sensors, closing tasks, alerts, the report) calls :func:`evaluate`, so they agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from par_index import nominee_rules
from par_index.mismatches import DEFAULT_TOLERANCE
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
from par_index.text import code_list, vn_datetime, vn_number

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
    late: list[str] = field(default_factory=list)  # survey: who answered after the deadline
    problems: list[str] = field(default_factory=list)  # self-scores: what to fix, one sentence each


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
    for code in campaign.area_owners:
        arrived = files.get(code)
        if arrived is None:
            state.units[code] = _missing(state, code, "Chưa gửi danh sách công chức đầu mối.")
            continue
        nominees = people[code]
        problems = [b.rule for b in nominee_rules.breaches(campaign, code, [(0, n.areas) for n in nominees])]
        if problems:
            state.units[code] = UnitStatus(code, "invalid", "; ".join(problems) + ".", len(nominees))
        elif arrived > state.deadline:
            state.units[code] = UnitStatus(
                code, "late", f"Nộp ngày {arrived.astimezone(campaign.tz):%d/%m/%Y}.", len(nominees)
            )
        else:
            state.units[code] = UnitStatus(code, "ok", f"{len(nominees)} người.", len(nominees))


def _roster_as_of(session: Session, campaign: Campaign, now: datetime) -> list[SurveyRespondent]:
    """The survey roster as of ``now``: none before the first roster arrived. A roster replaces the one before
    (whose rows are not kept), so once one has arrived the stored roster stands for it."""
    if not _first_arrivals(session, campaign, "survey_roster", now):
        return []
    return list(
        session.scalars(select(SurveyRespondent).where(SurveyRespondent.campaign_id == campaign.id)).all()
    )


def judge_survey(session: Session, campaign: Campaign, state: PhaseState) -> None:
    """The survey: every leader on the unit's roster answered in full, on time."""
    roster = _roster_as_of(session, campaign, state.now)
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
        done_in_time = 0
        missing_names, late_names = [], []
        for person in people:
            p = progress.get(person.email)
            finished = p is not None and p.status == "completed" and p.total > 0 and p.answered >= p.total
            if finished and p is not None and (p.completed_at is None or p.completed_at <= cutoff):
                done_in_time += 1
            elif finished:
                late_names.append(person.full_name)
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
        elif late_names and not missing_names:
            state.units[unit.code] = UnitStatus(
                unit.code,
                "late",
                f"Hoàn thành {rate} đúng hạn; trả lời sau hạn: {', '.join(late_names)}.",
                done_in_time,
                expected,
                missing_names,
                late_names,
            )
        else:
            late = f"; trả lời sau hạn: {', '.join(late_names)}" if late_names else ""
            state.units[unit.code] = UnitStatus(
                unit.code,
                "incomplete",
                f"Hoàn thành {rate}{late}; chưa trả lời đầy đủ: {', '.join(missing_names)}.",
                done_in_time,
                expected,
                missing_names,
                late_names,
            )


def _scored(score: Score | None) -> bool:
    return score is not None and score.score is not None


def explained(portal: Score, report: Score | None) -> bool:
    """The software entry has evidence, or the item is explained (on the software or in the report)."""
    return bool(
        (portal.evidence_count or 0) > 0
        or portal.evidence
        or portal.explanation
        or (report is not None and report.explanation)
    )


def _unit_scores(session: Session, campaign: Campaign, source: str, now: datetime) -> dict:
    """(unit, criterion) → the unit's own score from ``source``; a software entry counts once it was made (its
    ``updated_at``, when known, is not after ``now``)."""
    rows = session.scalars(select(Score).where(Score.campaign_id == campaign.id, Score.source == source))
    return {
        (r.unit_code, r.criterion_code): r
        for r in rows
        if source == "report" or r.updated_at is None or r.updated_at <= now
    }


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


@dataclass
class _Checks:
    """One unit's assigned criteria, sorted by what keeps each from done."""

    no_report: list[str] = field(default_factory=list)
    no_portal: list[str] = field(default_factory=list)
    draft: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    differing: dict[str, str] = field(default_factory=dict)  # criterion → "x (báo cáo 1, phần mềm 0,75)"
    unreadable: dict[str, str] = field(
        default_factory=dict
    )  # criterion → "x (ô E12)": refused on the software
    late: list[Score] = field(default_factory=list)  # software entries made after the deadline

    @property
    def failing(self) -> set[str]:
        return {
            *self.no_report,
            *self.no_portal,
            *self.draft,
            *self.unexplained,
            *self.differing,
            *self.unreadable,
        }


def _check(criteria: list[str], report: dict, portal: dict, unit: str, deadline: datetime) -> _Checks:
    checks = _Checks()
    for criterion in criteria:
        paper, entry = report.get((unit, criterion)), portal.get((unit, criterion))
        if not _scored(paper):
            checks.no_report.append(criterion)
        if entry is None or entry.score is None:
            checks.no_portal.append(criterion)
            continue
        if entry.status != "submitted":
            checks.draft.append(criterion)
        if not explained(entry, paper):
            checks.unexplained.append(criterion)
        if entry.updated_at is not None and entry.updated_at > deadline:
            checks.late.append(entry)
        if (
            paper is not None
            and paper.score is not None
            and abs(paper.score - entry.score) > DEFAULT_TOLERANCE
        ):
            checks.differing[criterion] = (
                f"{criterion} (báo cáo {vn_number(paper.score)}, phần mềm {vn_number(entry.score)})"
            )
    return checks


def _unreadable_portal_scores(
    session: Session, campaign: Campaign, now: datetime
) -> dict[tuple[str, str], str]:
    """(unit, criterion) → "code (ô X)" for each software score refused as unreadable in the latest export
    covering it (:func:`par_index.store.queries.portal_refusals`), among files arrived by ``now``."""
    from par_index.store.queries import portal_refusals  # only when judged: the deadline trigger stays light

    found = {}
    for issue in portal_refusals(session, campaign):
        arrived = session.scalar(select(ReceivedFile.arrived_at).where(ReceivedFile.id == issue.file_id))
        if arrived is not None and arrived <= now:
            where = f" (ô {issue.cell})" if issue.cell else ""
            found[(str(issue.unit_code), str(issue.criterion_code))] = f"{issue.criterion_code}{where}"
    return found


def _problems(checks: _Checks, total: int, report_sent: bool) -> list[str]:
    """What keeps the unit from done, each with what to do after " — "."""
    problems = []
    if not report_sent:
        problems.append(
            f"chưa gửi báo cáo tự chấm điểm (Phụ lục II) — gửi báo cáo chấm đủ {total} tiêu chí được giao"
        )
    elif checks.no_report:
        problems.append(
            f"báo cáo còn thiếu {len(checks.no_report)}/{total} tiêu chí: {code_list(checks.no_report)} — chấm "
            "điểm các tiêu chí này trong Phụ lục II và gửi lại báo cáo"
        )
    if checks.no_portal:
        problems.append(
            f"phần mềm còn thiếu {len(checks.no_portal)}/{total} tiêu chí: {code_list(checks.no_portal)} — nhập "
            "điểm trên phần mềm chấm điểm của Bộ Nội vụ"
        )
    if checks.unreadable:
        problems.append(
            f"điểm trên phần mềm của {len(checks.unreadable)} tiêu chí không đọc được: "
            f"{code_list(list(checks.unreadable.values()))} — sửa điểm trên phần mềm thành số rồi xuất lại"
        )
    if checks.draft:
        problems.append(
            f"{len(checks.draft)} tiêu chí trên phần mềm còn ở trạng thái “Chưa nộp”: {code_list(checks.draft)} "
            "— bấm nộp trên phần mềm"
        )
    if checks.unexplained:
        problems.append(
            f"{len(checks.unexplained)} tiêu chí trên phần mềm chưa có tài liệu kiểm chứng hay giải trình: "
            f"{code_list(checks.unexplained)} — tải tài liệu kiểm chứng lên phần mềm hoặc giải trình"
        )
    if checks.differing:
        problems.append(
            f"điểm trên phần mềm khác báo cáo ở {len(checks.differing)} tiêu chí: "
            f"{code_list(list(checks.differing.values()))} — sửa cho hai bên trùng khớp"
        )
    return problems


def judge_self_scores(session: Session, campaign: Campaign, state: PhaseState) -> None:
    """Appendix II and MoHA's software, per assigned self-scored criterion: a unit is done when, for every
    criterion assigned to it, its report (received on time) scores it, the software has it submitted (not a
    draft) before the deadline with evidence or an explanation, and both scores agree
    (:data:`par_index.mismatches.DEFAULT_TOLERANCE`). The detail names what is missing, criterion by
    criterion; ``problems`` says what to fix, one sentence each (the reminders list them)."""
    reports = _first_arrivals(session, campaign, "appendix_ii", state.now)
    report_scores = _unit_scores(session, campaign, "report", state.now)
    portal_scores = _unit_scores(session, campaign, "portal", state.now)
    unreadable = _unreadable_portal_scores(session, campaign, state.now)
    assigned: dict[str, list[str]] = defaultdict(list)
    for criterion, unit in campaign.assignment_of.items():
        assigned[unit].append(criterion)
    for code, criteria in assigned.items():
        total, arrived = len(criteria), reports.get(code)
        checks = _check(criteria, report_scores if arrived else {}, portal_scores, code, state.deadline)
        for criterion in [c for c in checks.no_portal if (code, c) in unreadable]:
            checks.no_portal.remove(criterion)
            checks.unreadable[criterion] = unreadable[(code, criterion)]
        problems = _problems(checks, total, arrived is not None)
        lateness = []  # done, but after the deadline
        if arrived is not None and arrived > state.deadline:
            lateness.append(f"nộp báo cáo ngày {arrived.astimezone(campaign.tz):%d/%m/%Y} (sau hạn)")
        if checks.late:
            last = max(p.updated_at for p in checks.late if p.updated_at is not None)
            lateness.append(
                f"{len(checks.late)} tiêu chí cập nhật trên phần mềm sau hạn: "
                f"{code_list([p.criterion_code for p in checks.late])} (muộn nhất ngày "
                f"{last.astimezone(campaign.tz):%d/%m/%Y})"
            )
        if arrived is None or problems:
            reason = "missing" if arrived is None else "incomplete"
            reason = reason if state.deadline_passed else "pending"
        else:
            reason = "late" if lateness else "ok"
        detail = (
            _sentence([p.split(" — ")[0] for p in problems + lateness])
            if problems or lateness
            else f"Đủ {total}/{total} tiêu chí trong báo cáo và trên phần mềm, điểm trùng khớp, đúng hạn."
        )
        state.units[code] = UnitStatus(
            code,
            reason,
            detail,
            total - len(checks.failing) if arrived is not None else 0,
            total,
            problems=[_sentence([p]) for p in problems + lateness],
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
