"""Campaign operations, one function per DAG task. Plain Python: the DAGs, the tools and the tests call these.

Each function takes a :class:`Runtime` (where the store is, how to send mail) and returns a small JSON-able dict
that the task logs and pushes to XCom.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

from par_index import collection_failures, phases, reminders
from par_index.campaign import Campaign, parse_duration
from par_index.errors import ReportStateError
from par_index.files import sha256_of
from par_index.intake.feeds import FeedError
from par_index.intake.inbox import PARTIAL_GRACE, ingest, ingest_feed, quarantined_path
from par_index.intake.templates import blank_forms
from par_index.mismatches import CATEGORY_TITLES, DEFAULT_TOLERANCE
from par_index.notify import deliver_queued, enqueue, ledger_file_part, ledger_key, ledger_key_parts
from par_index.paths import CAMPAIGNS_DIR, reports_dir
from par_index.phase_registry import COLLECTED, PHASES, REGISTRY
from par_index.readers import approver_shown
from par_index.received import file_view, status_counts_vi
from par_index.reconcile import Scope, findings_digest, reconcile
from par_index.report import builds
from par_index.report.figures import compute as report_figures
from par_index.report.unit_notice import write_unit_notice
from par_index.runtime import Runtime
from par_index.store import migrate, queries, session_scope
from par_index.store.models import Notification
from par_index.text import duration_vi, vn_datetime

log = logging.getLogger(__name__)


def prepare(campaign: Campaign, rt: Runtime) -> dict:
    """Upgrade the store's schema, write the campaign's units and Appendix I assignments into it, and bring the
    blank forms up to date (regenerated when the campaign file or catalogue changed; their folder is logged)."""
    migrate(rt.store_url)
    source = CAMPAIGNS_DIR / f"{campaign.id}.yaml"
    digest = sha256_of(source) if source.exists() else ""
    with session_scope(rt.store_url) as s:
        queries.sync_campaign(s, campaign, digest)
    forms = blank_forms(campaign)
    log.info("Biểu mẫu trống (cập nhật theo tệp chiến dịch và danh mục tiêu chí): %s", forms)
    return {
        "units": len(campaign.active_units),
        "assigned_leaves": len(campaign.assignment_of),
        "blank_forms": str(forms),
    }


def collect(campaign: Campaign, rt: Runtime, phase: str, now: datetime | None = None) -> dict:
    """Read the phase's new inbox files (and its feed, when one is configured), then report whether the phase may
    close (complete or past its deadline). Files are stored before the feed is read, and a feed that fails is
    recorded (code, time) while the answer comes from the inbox: a failing feed loses nothing and ends nothing."""
    with session_scope(rt.store_url) as s:
        # on the real clock: whether a file is finished is physical; past the deadline a cut-off file is judged now
        closing = (now or datetime.now(UTC)) >= campaign.deadline_at(phase)
        intake = ingest(s, campaign, phase, partial_grace=timedelta(0) if closing else PARTIAL_GRACE)
    if any(i.code == "INT072" for r in intake.results for i in r.issues):
        with session_scope(rt.store_url) as s:
            queued = notify_quarantined(s, campaign, datetime.now(UTC))
        deliver(rt, campaign, queued)
    results = intake.results
    feed, portal = REGISTRY[phase].feed, rt.portal
    feed_error = None
    if feed and portal:
        try:
            rows = feed.fetch(portal, campaign)
        except FeedError as exc:
            feed_error = {"source": feed.name, "code": exc.code, "message": exc.message}
            with session_scope(rt.store_url) as s:
                collection_failures.record(
                    s, campaign, phase, feed.name, exc.code, exc.message, datetime.now(UTC)
                )
        else:
            with session_scope(rt.store_url) as s:
                snapshot = ingest_feed(s, campaign, feed.name, feed.columns, rows, datetime.now(UTC))
            results += [snapshot] if snapshot else []
    with session_scope(rt.store_url) as s:
        state = phases.evaluate(s, campaign, phase, now)
    return {
        "phase": phase,
        "new_files": len(results),
        "rejected": [r.name for r in results if r.status == "rejected"],
        # a file still being written when the deadline passes is read before the phase closes
        "complete": state.complete,
        "deadline_passed": state.deadline_passed,
        "done": state.done and not intake.still_written,
        "waiting_for": sorted(s.unit_code for s in state.laggards),
        "feed_error": feed_error,
        "pending": intake.pending,
        "recheck_at": intake.recheck_at.isoformat() if intake.recheck_at else None,
    }


def received_log(campaign: Campaign, rt: Runtime, phase: str) -> list[str]:
    """What the store holds for the phase's forms, whoever registered it (a sensor's check, a reminder run, a
    closing task): the files by status, then each file still refused with its sender and reasons. For task logs."""
    with session_scope(rt.store_url) as s:
        received = queries.received_files(s, campaign, kinds=REGISTRY[phase].forms)
    lines = [f"Kho dữ liệu, {campaign.phase_title(phase)}: {status_counts_vi([f for f, _ in received])}."]
    for f, issues in received:
        if f.status != "rejected":
            continue
        view = file_view(campaign, f, issues)
        reasons = "; ".join(
            f"{p['where_vi']}: {p['message']}" for p in view["problems"] if p["severity"] == "error"
        )
        lines.append(
            f"Bị từ chối: {view['name']} — {view['unit_name']}"
            + (f" ({view['unit_code']})" if view["unit_code"] else "")
            + f", nhận lúc {view['arrived_vi']}: {reasons or 'không rõ lý do'}"
        )
    return lines


def close_phase(
    campaign: Campaign, rt: Runtime, phase: str, now: datetime | None = None, collection_failed: bool = False
) -> dict:
    """Record the phase's outcome and its late units (the PPC's list for this deadline). Always runs, also after
    its collection task failed: then it reads the inbox once more itself, records the failure, and the outcome
    says the phase closed after a failed collection (the coordinators' mail and the report say so)."""
    now = now or datetime.now(UTC)
    if collection_failed:
        local = now.astimezone(campaign.tz)
        with session_scope(rt.store_url) as s:
            collection_failures.record(
                s,
                campaign,
                phase,
                collection_failures.TASK_SOURCE,
                collection_failures.TASK_FAILED,
                f"Tác vụ thu nhận “{campaign.phase_title(phase)}” kết thúc lỗi; nội dung được khép lại lúc "
                f"{vn_datetime(local)} ({'sau' if now > campaign.deadline_at(phase) else 'TRƯỚC'} hạn) với dữ liệu "
                "đã có. Xem nhật ký tác vụ, sửa lỗi rồi Clear tác vụ thu nhận để thu nhận tiếp.",
                now,
            )
        try:  # whatever the inbox holds now still counts
            collect(campaign, rt, phase, now)
        except Exception as exc:  # noqa: BLE001 - closing must record the late list whatever failed
            with session_scope(rt.store_url) as s:
                collection_failures.record(
                    s,
                    campaign,
                    phase,
                    collection_failures.TASK_SOURCE,
                    getattr(exc, "code", collection_failures.TASK_FAILED),
                    f"Đọc hộp thư khi khép lại cũng lỗi: {type(exc).__name__}: {exc}",
                    now,
                )
    with session_scope(rt.store_url) as s:
        state = phases.close(s, campaign, phase, now, collection_failed=collection_failed)
    return {
        "phase": phase,
        "complete": state.complete,
        "expected": len(state.units),
        "collection_failed": collection_failed,
        "late": {u.unit_code: u.reason for u in state.laggards},
    }


def notify_phase_closed(campaign: Campaign, rt: Runtime, phase: str, now: datetime | None = None) -> dict:
    """Tell the coordinators how the phase closed and who is late (once per phase and coordinator)."""
    now = now or datetime.now(UTC)
    with session_scope(rt.store_url) as s:
        state = phases.evaluate(s, campaign, phase, now)
        failures = collection_failures.unreported(s, campaign, datetime.now(UTC))
        outcome_row = queries.phase_outcome(s, campaign, phase)
        refused = (
            [  # still refused (no readable version came after), of the phase's forms or of none recognised
                file_view(campaign, f, issues)
                for f, issues in queries.received_files(
                    s, campaign, until=now, kinds=REGISTRY[phase].forms, statuses=("rejected",)
                )
            ]
            if REGISTRY[phase].collected
            else []
        )
        queued = {
            key: enqueue(
                s,
                campaign,
                key=key,
                template="phase_closed",
                recipients=[c.email],
                phase=phase,
                now=now,
                recipient_name=c.name,
                state=state,
                phase_title=campaign.phase_title(phase),
                deadline=campaign.deadline_at(phase),
                closed_at=now.astimezone(campaign.tz),
                collection_failed=bool(outcome_row and outcome_row.collection_failed),
                refused=refused,
                # the self-score phase: what units wrote under "Khó khăn, vướng mắc, đề xuất", by unit
                difficulties=queries.unit_difficulties(s, campaign) if phase == "self_scores" else {},
                **_failure_context(campaign, failures),
                **_unit_context(campaign),
            )
            for c in campaign.contacts.coordinators
            if (key := ledger_key(campaign, phase, "closed", recipient=c.email))
        }
        _mark_reported(failures, queued.values())
    return {"phase": phase, "complete": state.complete, "mail": dict(deliver(rt, campaign, queued, now))}


def notify_quarantined(session, campaign: Campaign, now: datetime) -> dict[str, str]:
    """Tell the coordinators, once per file, that a file holding passwords was moved out of the inbox, where to,
    and what to do (the phase sensor, woken by the file, and each reminder run look)."""
    moved = queries.files_with_issue(session, campaign, "INT072")
    return {
        key: enqueue(
            session,
            campaign,
            key=key,
            template="password_file",
            recipients=[c.email],
            phase="nominees",
            now=now,
            recipient_name=c.name,
            name=f.original_name,
            arrived=f.arrived_at.astimezone(campaign.tz),
            moved_to=quarantined_path(campaign.id, f.sha256, Path(f.original_name).suffix.lower()),
            sender=campaign.unit_by_code[f.unit_code].name_vi
            if f.unit_code in campaign.unit_by_code
            else "đơn vị gửi tệp",
            **_unit_context(campaign),
        )
        for f in moved
        for c in campaign.contacts.coordinators
        if (
            key := ledger_key(
                campaign, "quarantined", ledger_file_part(f.original_name, f.arrived_at), recipient=c.email
            )
        )
    }


def _failure_context(campaign: Campaign, failures: list) -> dict:
    """The collection failures a coordinators' mail names (each once)."""
    return {
        "failures": [
            {
                "when": vn_datetime(f.occurred_at.astimezone(campaign.tz)),
                "code": f.code,
                "source": f.source,
                "message": f.message,
                "phase_title": campaign.phase_title(f.phase) if f.phase in COLLECTED else f.phase,
            }
            for f in failures
        ]
    }


def _mark_reported(failures: list, outcomes) -> None:
    """The failures a mail names are reported once the mail is in the outbox (or was sent before)."""
    if any(o in ("queued", "already_sent") for o in outcomes):
        collection_failures.mark_reported(failures, datetime.now(UTC))


def deliver(
    rt: Runtime,
    campaign: Campaign,
    queued: dict[str, str],
    now: datetime | None = None,
    delivered: dict[str, str] | None = None,
) -> Counter:
    """Send the outbox now that the enqueueing transaction has committed; the outcome of each of ``queued``'s keys
    (``already_sent`` for a key sent before, ``queued`` while mail is not configured). ``delivered``, when given,
    receives every key the outbox handled, also those queued earlier."""
    handled = deliver_queued(rt.store_url, campaign, rt.smtp, now=now, obsolete=ObsoleteRule(campaign))
    if delivered is not None:
        delivered.update(handled)
    return Counter(handled.get(key, outcome) for key, outcome in queued.items())


OBSOLETE_WHEN_COMPLIED = {
    "reminder",
    "escalation",
    "survey_unit_notice",
}  # mail chasing one unit for one phase


class ObsoleteRule:
    """Why a mail held in the outbox should no longer go out: it chases a unit that has since complied. Each
    phase is judged once per delivery, however many held mails chase it."""

    def __init__(self, campaign: Campaign):
        """No phase judged yet."""
        self.campaign = campaign
        self.laggards: dict[str, set[str]] = {}

    def __call__(self, session, entry: Notification) -> str | None:
        """Why ``entry`` should no longer go out, or None."""
        if entry.template == "request_reminder":
            from par_index.requests import answered_since

            return answered_since(session, self.campaign, entry)
        if (
            entry.template not in OBSOLETE_WHEN_COMPLIED
            or not entry.unit_code
            or entry.phase not in COLLECTED
        ):
            return None
        if entry.phase not in self.laggards:
            state = phases.evaluate(session, self.campaign, entry.phase, datetime.now(UTC))
            self.laggards[entry.phase] = {u.unit_code for u in state.laggards}
        if entry.unit_code in self.laggards[entry.phase]:
            return None
        return (
            f"Không gửi nữa: {self.campaign.unit_by_code[entry.unit_code].name_vi} đã hoàn thành "
            f"“{self.campaign.phase_title(entry.phase)}” trước khi thư được gửi."
        )


def deadline_alert(
    campaign: Campaign, rt: Runtime, phase: str, before: str | None, now: datetime | None = None
) -> dict:
    """A coordinators' deadline mail: a notice before the deadline (``before`` = '3d', '1d', …; sent by the reminder
    DAG's run, :func:`send_notices`) or ``None`` at the deadline (the Deadline Alert of the deadlines DAG, when
    the deadline was missed). Reads what is in the inbox first, then mails the coordinators only what is still
    missing, naming the units. ``now`` is the mail's own moment, so a replayed campaign judges it as of then."""
    now = now or datetime.now(UTC)
    if phase in COLLECTED:
        collect(campaign, rt, phase, now)
    label = before or "due"
    with session_scope(rt.store_url) as s:
        state = phases.evaluate(s, campaign, phase, now)
        failures = collection_failures.unreported(s, campaign, datetime.now(UTC))
        queued = {
            key: enqueue(
                s,
                campaign,
                key=key,
                template="deadline_alert",
                recipients=[c.email],
                phase=phase,
                rung=f"alert-{label}",
                now=now,
                recipient_name=c.name,
                state=state,
                passed=before is None,
                left=duration_vi(parse_duration(before)) if before else "",
                phase_title=campaign.phase_title(phase),
                deadline=campaign.deadline_at(phase),
                as_of=now.astimezone(campaign.tz),
                **_failure_context(campaign, failures),
                **_unit_context(campaign),
            )
            for c in campaign.contacts.coordinators
            if (key := ledger_key(campaign, phase, "alert", label, recipient=c.email))
        }
        _mark_reported(failures, queued.values())
    return {
        "phase": phase,
        "alert": label,
        "late": [u.unit_code for u in state.laggards],
        "mail": dict(deliver(rt, campaign, queued, now)),
    }


def due_coordinator_notices(campaign: Campaign, now: datetime) -> list[tuple[str, str]]:
    """(phase, before) of the coordinators' notices before a deadline (``Campaign.alert_moments``, default 08:00
    three days and one day before the due day) that are due at ``now``: for each deadline not yet passed, the latest
    whose moment has come. An earlier one that no run sent in time is not sent late ("còn 3 ngày" with one day
    left); the notice at the deadline itself is the deadlines DAG's (:mod:`par_index.airflow.deadlines`)."""
    latest: dict[str, tuple[datetime, str]] = {}
    for phase, before, moment in campaign.alert_moments():
        due = before is not None and moment <= now < campaign.deadline_at(phase)
        if due and (phase not in latest or moment > latest[phase][0]):
            latest[phase] = (moment, cast(str, before))  # `due` holds only when it is not None
    return [(phase, before) for phase, (_, before) in latest.items()]


def deadline_check(
    campaign: Campaign, rt: Runtime, phase: str, now: datetime | None = None, read_inbox: bool = True
) -> dict:
    """Has the directive's deadline ``phase`` been met as of ``now``: every unit complied (the report: delivered to
    the PPC)? With ``read_inbox``, the phase's new inbox files are read first (not its feed: the sensor reads
    that). The deadlines DAG's task asks this on a worker once its deadline has passed; until then its trigger asks
    :func:`par_index.phases.judge_deadline` (the store alone)."""
    now = now or datetime.now(UTC)
    recheck_at = None
    if read_inbox and phase in COLLECTED:
        with session_scope(rt.store_url) as s:
            recheck_at = ingest(s, campaign, phase).recheck_at
    result = phases.judge_deadline(campaign, rt.store_url, phase, now)
    return result | {"recheck_at": recheck_at.isoformat() if recheck_at else None}


def notify_council(campaign: Campaign, rt: Runtime, now: datetime | None = None) -> dict:
    """The start-of-campaign notice to each member of the appraisal council: the directive, their role in it (the
    campaign file's ``council.notice_vi``) and its deadlines; once per member and mailbox (ledger), never doubled
    by a rerun. Returns the outcome counts of this run's keys."""
    deadlines = [
        {"title": campaign.phase_title(phase), "at": campaign.deadline_at(phase).astimezone(campaign.tz)}
        for phase in PHASES
    ]
    with session_scope(rt.store_url) as s:
        queued = {
            key: enqueue(
                s,
                campaign,
                key=key,
                template="council_notice",
                recipients=[member.email],
                now=now,
                member=member,
                unit=campaign.unit_by_code.get(member.unit),
                deadlines=deadlines,
                **_unit_context(campaign),
            )
            for member in campaign.council.members
            if (key := ledger_key(campaign, "council_notice", recipient=member.email.lower()))
        }
    return dict(deliver(rt, campaign, queued, now))


def _unit_context(campaign: Campaign) -> dict:
    return {
        "unit_names": campaign.unit_names,
        "reason_titles": phases.REASON_TITLES,
        "ui_url": campaign.ui_link(),
    }


def send_notices(campaign: Campaign, rt: Runtime, now: datetime | None = None) -> dict:
    """One run of the reminder DAG: read the inbox, then put in the outbox every reminder, notice and escalation
    due now, and send the outbox (what this run queued, mail held while mail was not configured, failed sends);
    then the coordinators' notices before a deadline that are due (each once: :func:`due_coordinator_notices`,
    built by :func:`deadline_alert`)."""
    now = now or datetime.now(UTC)
    with session_scope(rt.store_url) as s:
        for phase in COLLECTED:  # new self-scores are announced from the store (reconcile.unreconciled_units)
            ingest(s, campaign, phase)
        queued = notify_quarantined(s, campaign, now)
        by_template: Counter[str] = Counter()
        for mail in reminders.plan(s, campaign, now):
            queued[mail.key] = enqueue(
                s,
                campaign,
                key=mail.key,
                template=mail.template,
                recipients=mail.recipients,
                phase=mail.phase,
                unit_code=mail.unit_code,
                rung=mail.rung,
                attachments=mail.attachments,
                now=now,
                **mail.context,
            )
            by_template[mail.template] += 1
        done = queries.ledger_keys(s, campaign)
    delivered: dict[str, str] = {}
    outcomes = deliver(rt, campaign, queued, now, delivered)
    retried = sum(outcome == "sent" for key, outcome in delivered.items() if key not in queued)
    with session_scope(rt.store_url) as s:
        mark_delivered(s, campaign)  # a delivery to the PPC held until mail was configured has now gone
    alerts = []
    for phase, before in due_coordinator_notices(campaign, now):
        if all(
            ledger_key(campaign, phase, "alert", before, recipient=c.email) in done
            for c in campaign.contacts.coordinators
        ):
            continue
        sent = deadline_alert(campaign, rt, phase, before, now)["mail"]
        outcomes.update(sent)
        by_template["deadline_alert"] += sum(sent.values())
        alerts.append(f"{phase}:{before}")
    return {
        "retried": retried,
        "mail": dict(outcomes),
        "by_template": dict(by_template),
        "alerts": alerts,
    }


def replay_notices(campaign: Campaign, rt: Runtime, until: datetime | None = None) -> dict:
    """Walk the campaign's calendar, one reminder run per scheduled day, as if the reminder DAG had run each
    morning (a past campaign, or the demo). The ledger keeps every mail to one send."""
    from croniter import croniter

    until = min(until or datetime.now(UTC), campaign.ends_at)
    schedule = croniter(campaign.reminders.schedule, campaign.starts_at - timedelta(seconds=1))
    totals: Counter = Counter()
    runs = 0
    while (moment := schedule.get_next(datetime)) <= until:
        totals.update(send_notices(campaign, rt, moment)["by_template"])
        runs += 1
    return {"runs": runs, "by_template": dict(totals)}


def reconcile_scores(
    campaign: Campaign,
    rt: Runtime,
    units: list[str] | None = None,
    areas: list[str] | None = None,
    tolerance: Decimal = DEFAULT_TOLERANCE,
    collect_first: bool = False,
    now: datetime | None = None,
) -> dict:
    """Mismatch detection between MoHA's software and the units' reports for a scope (the campaign, some units,
    some areas): store it (replacing that scope's previous result), write each unit's table of what to correct,
    and send it to the unit (once per distinct result)."""
    given = now
    now = now or datetime.now(UTC)
    if collect_first:
        collect(campaign, rt, "self_scores", now)
    scope = Scope(tuple(sorted(units or ())), tuple(sorted(areas or ())))
    queued: dict[str, str] = {}
    with session_scope(rt.store_url) as s:
        # finished after what it read: what collecting just stored is not left waiting for another run
        result = reconcile(s, campaign, scope, tolerance, given or datetime.now(UTC))
        nominees = reminders.nominee_emails(s, campaign)
        for unit_code, findings in result.findings.groupby("unit"):
            if unit_code not in campaign.unit_by_code:
                continue
            path = write_unit_notice(
                campaign, unit_code, findings, reports_dir(campaign.id) / "doi_chieu", now
            )
            digest = findings_digest(findings)
            unit = campaign.unit_by_code[unit_code]
            for recipient in [unit.email, *nominees.get(unit_code, [])]:
                key = ledger_key(campaign, "mismatch", unit_code, digest[:16], recipient=recipient)
                queued[key] = enqueue(
                    s,
                    campaign,
                    key=key,
                    template="mismatch_notice",
                    recipients=[recipient],
                    phase="self_scores",
                    unit_code=unit_code,
                    attachments=[path],
                    now=now,
                    unit=unit,
                    count=len(findings),
                    categories=dict(Counter(CATEGORY_TITLES[c] for c in findings["category"])),
                    deadline=campaign.deadline_at("self_scores"),
                )
        if not scope.areas:  # a unit told what to fix that now has nothing to fix hears that it is over
            scoped = set(scope.units) or set(campaign.assignment_of.values())
            for unit_code in sorted(scoped - set(result.findings["unit"])):
                queued |= _clear_mismatch_notice(s, campaign, unit_code, now)
    return {
        "scope": scope.label,
        "rows_compared": result.rows_compared,
        "equal": result.equal,
        "mismatches": len(result.findings),
        "by_category": result.counts,
        "largest": result.largest,
        "mail": dict(deliver(rt, campaign, queued, now)),
    }


def _clear_mismatch_notice(session, campaign: Campaign, unit_code: str, now: datetime) -> dict[str, str]:
    """Tell each recipient of the unit's last table of points to fix (if any) that it no longer applies: the data
    it came from has been superseded (a half-copied export, a corrected report) and nothing is left to fix."""
    last = queries.last_sent(session, campaign, "mismatch_notice", unit_code)
    if last is None:
        return {}
    digest = ledger_key_parts(last.key)[3]
    told = queries.ledger_entries(
        session,
        campaign,
        "mismatch_notice",
        ledger_key(campaign, "mismatch", unit_code, digest, recipient=""),
    )
    unit = campaign.unit_by_code[unit_code]
    return {
        key: enqueue(
            session,
            campaign,
            key=key,
            template="mismatch_cleared",
            recipients=[recipient],
            phase="self_scores",
            unit_code=unit_code,
            now=now,
            unit=unit,
            sent_at=cast(datetime, last.sent_at).astimezone(campaign.tz),
        )  # sent mail only
        for recipient in sorted({r for n in told for r in n.recipients})
        if (key := ledger_key(campaign, "mismatch-cleared", unit_code, digest, recipient=recipient))
    }


def assemble_report(
    campaign: Campaign, rt: Runtime, now: datetime | None = None, run_id: str | None = None
) -> dict:
    """Build the consolidated workbook and the Word report from the store, as a new build awaiting approval."""
    now = now or datetime.now(UTC)
    with session_scope(rt.store_url) as s:
        build, figures, files = builds.assemble(s, campaign, now, run_id)
        return {
            "build": build.number,
            "workbook": str(files["workbook"]),
            "docx": str(files["docx"]),
            "self_total": float(figures.self_total),
            "self_max": float(figures.self_max),
            "open_mismatches": figures.open_mismatches,
            "warnings": figures.phase_warnings,
        }


def rebuild_report(campaign: Campaign, rt: Runtime, run_id: str, now: datetime | None = None) -> dict:
    """After the leader rejected the latest build: assemble a new build from the store, to be sent for approval
    again. Refused (REP006) when the latest build is not rejected (one awaiting the leader, approved or none);
    idempotent: a retry of the same run returns the build it made."""
    with session_scope(rt.store_url) as s:
        made = builds.latest(s, campaign)
        if made is not None and made.run_id == run_id and made.status == "awaiting":
            return {"build": made.number, "replaces": made.number - 1, "again": True}
        replaced = builds.check_rebuild(s, campaign).number
    return assemble_report(campaign, rt, now, run_id) | {"replaces": replaced, "again": False}


def request_report_approval(campaign: Campaign, rt: Runtime, link: str, now: datetime | None = None) -> dict:
    """Mail SNV's leader (copy to the coordinators) the build awaiting approval, with the link to decide in
    Airflow; once per build."""
    now = now or datetime.now(UTC)
    with session_scope(rt.store_url) as s:
        build = builds.latest(s, campaign)
        if build is None or build.status != "awaiting":
            raise ReportStateError("Không có bản báo cáo nào chờ phê duyệt.", code="REP001")
        files = builds.files_of(s, build)
        figures = report_figures(s, campaign, build.created_at)
        leader = campaign.contacts.snv_leader
        key = ledger_key(campaign, "report", build.number, "approval")
        queued = {
            key: enqueue(
                s,
                campaign,
                key=key,
                template="report_approval",
                phase="report",
                rung=f"build-{build.number}",
                now=now,
                recipients=[leader.email, *(c.email for c in campaign.contacts.coordinators)],
                attachments=[Path(v.path) for v in files.values()],
                recipient_name=leader.name,
                build=build,
                figures=figures,
                link=link,
                deadline=campaign.deadline_at("report"),
                ui_url=campaign.ui_link(),
            )
        }
        number = build.number
    [outcome] = deliver(rt, campaign, queued, now)
    return {"build": number, "mail": outcome}


def record_report_decision(
    campaign: Campaign, rt: Runtime, approved: bool, by: str, at: datetime, reason: str | None = None
) -> dict:
    """Record who approved or rejected the build awaiting a decision, when, and why; a rejection is mailed to the
    coordinators with what to do next."""
    with session_scope(rt.store_url) as s:
        build = builds.decide(s, campaign, approved, by, at, reason)
        queued = {}
        if not approved:
            key = ledger_key(campaign, "report", build.number, "rejected")
            queued[key] = enqueue(
                s,
                campaign,
                key=key,
                template="report_rejected",
                phase="report",
                rung=f"build-{build.number}",
                recipients=[c.email for c in campaign.contacts.coordinators],
                build=build,
                decided_at=at.astimezone(campaign.tz),
                approver=approver_shown(campaign, build.decided_by),
                ui_url=campaign.ui_link(),
                rebuild_url=campaign.ui_link(campaign.rebuild_dag_id),
            )
        result = {
            "build": build.number,
            "status": build.status,
            "by": by,
            "at": at.isoformat(),
            "reason": build.reason,
        }
    outcomes = deliver(rt, campaign, queued)
    return result | {"mail": next(iter(outcomes), None)}


def deliver_report(campaign: Campaign, rt: Runtime, now: datetime | None = None) -> dict:
    """Archive the approved build (SHA-256 in the store) and mail both files to the PPC office; the report
    deadline is met once the mail is sent. Idempotent: a delivered build is not sent again."""
    now = now or datetime.now(UTC)
    with session_scope(rt.store_url) as s:
        build = builds.latest(s, campaign)
        if build is None or build.status not in ("approved", "delivered"):
            raise ReportStateError("Chưa có bản báo cáo được phê duyệt để gửi.", code="REP002")
        copies = builds.archive(s, campaign, build, now)
        figures = report_figures(s, campaign, build.created_at)
        office = campaign.contacts.ppc_office
        key = ledger_key(campaign, "report", build.number, "delivery")
        queued = {
            key: enqueue(
                s,
                campaign,
                key=key,
                template="report_delivery",
                phase="report",
                rung=f"build-{build.number}",
                now=now,
                recipients=[office.email, campaign.contacts.snv_leader.email],
                attachments=list(copies.values()),
                recipient_name=office.name,
                build=build,
                figures=figures,
                deadline=campaign.deadline_at("report"),
                approver=approver_shown(campaign, build.decided_by),
            )
        }
        number, archive = build.number, {kind: str(p) for kind, p in copies.items()}
    [outcome] = deliver(rt, campaign, queued, now)
    with session_scope(rt.store_url) as s:
        delivered_at = mark_delivered(s, campaign)
    result = {
        "build": number,
        "delivered_at": delivered_at and delivered_at.isoformat(),
        "archive": archive,
        "mail": outcome,
    }
    if outcome not in ("sent", "already_sent"):  # kept in the outbox: the next delivery (any run) sends it
        raise ReportStateError(
            f"Chưa gửi được báo cáo cho {office.name} ({outcome}): thư nằm trong hộp thư đi "
            "và tự gửi ở lần gửi kế tiếp (khi đã cấu hình par_smtp); báo cáo được ghi là đã gửi "
            "lúc thư đi.",
            code="REP004",
        )
    return result


def mark_delivered(session, campaign: Campaign) -> datetime | None:
    """The approved build whose delivery mail has gone out is delivered, as of the mail's sending (also when it
    went out later, from the outbox, once mail was configured)."""
    build = builds.latest(session, campaign)
    if build is None or build.status not in ("approved", "delivered"):
        return None
    if build.status == "approved":
        sent = queries.sent_at(session, ledger_key(campaign, "report", build.number, "delivery"))
        if sent is None:
            return None
        build.status, build.delivered_at = "delivered", sent
    return build.delivered_at


def run_campaign(campaign: Campaign, rt: Runtime, now: datetime | None = None) -> dict:
    """Every phase in order, without a scheduler (tests, command line). The DAG runs the same functions."""
    out = {"prepare": prepare(campaign, rt)}
    for phase in COLLECTED:
        out[f"collect_{phase}"] = collect(campaign, rt, phase, now)
        out[f"close_{phase}"] = close_phase(campaign, rt, phase, now)
        out[f"notify_{phase}"] = notify_phase_closed(campaign, rt, phase, now)
    out["reconcile"] = reconcile_scores(campaign, rt)
    out["report"] = assemble_report(campaign, rt, now)
    return out
