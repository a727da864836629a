"""Does every time limit of a campaign's DAGs fit the campaign's own calendar?

A limit that is too short kills a task before the deadline it serves (a sensor's ``timeout``, an approval's
``response_timeout``, a run's ``dagrun_timeout``); a retry budget (retries × delay) that is too long keeps a failed
task retrying past the next deadline; a deadlines DAG paused at creation never starts its runs, so every deadline
reads "Missed". Each breach names the task, the limit and the date it would die, so a new
campaign file with a longer calendar, or a hard-coded limit, is caught before the campaign runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from par_index.campaign import Campaign
from par_index.phase_registry import COLLECTED, PHASES
from par_index.text import vn_datetime


@dataclass(frozen=True)
class Breach:
    """A time limit of a DAG or task that ends before the campaign's calendar needs it."""

    dag_id: str
    task_id: str | None
    limit: str  # e.g. "timeout 604800 s (7 days, 0:00:00)"
    dies_at: datetime | None  # None: never ends by itself
    needed_until: datetime

    def __str__(self) -> str:
        """The breach in Vietnamese: where, which limit, when it stops and until when it is needed."""
        where = f"{self.dag_id}.{self.task_id}" if self.task_id else self.dag_id
        dies = f"dừng lúc {vn_datetime(self.dies_at)}" if self.dies_at else "không tự dừng"
        return f"{where}: {self.limit} → {dies}, cần trong giới hạn {vn_datetime(self.needed_until)}"


def _span(delta: timedelta) -> str:
    return f"{delta.total_seconds():g} s ({delta})"


def served_phase(campaign: Campaign, task_id: str) -> str:
    """The directive deadline a campaign task serves: its phase for ``collect_*``/``close_*``, the first deadline
    for ``prepare``, the report for the rest (reconciliation, assembly, approval, delivery)."""
    for phase in COLLECTED:
        if task_id.endswith(f"_{phase}"):
            return phase
    return min(PHASES, key=campaign.deadline_at) if task_id == "prepare" else "report"


def retry_budget(task) -> timedelta:
    """Longest time a task may spend retrying: the sum of its retry delays (exponential backoff included)."""
    delay = (
        task.retry_delay if isinstance(task.retry_delay, timedelta) else timedelta(seconds=task.retry_delay)
    )
    cap = task.max_retry_delay
    if cap is not None and not isinstance(cap, timedelta):
        cap = timedelta(seconds=cap)
    total = timedelta(0)
    for attempt in range(task.retries or 0):
        step = delay * (2**attempt) if task.retry_exponential_backoff else delay
        total += min(step, cap) if cap else step
    return total


def _next_deadline(campaign: Campaign, moment: datetime) -> datetime:
    """The first directive deadline after ``moment``; after the last one, the end of the closing grace."""
    later = sorted(d for d in (campaign.deadline_at(p) for p in PHASES) if d > moment)
    return later[0] if later else campaign.deadline_at("report") + campaign.close_grace


def check_campaign_dag(dag, campaign: Campaign) -> list[Breach]:
    """Breaches of the campaign DAG: sensors that time out before their deadline (from the campaign's start, the
    earliest a sensor can start), retry budgets that run past the next deadline, an approval or a run that
    expires before the campaign ends."""
    from airflow.sdk import BaseSensorOperator

    breaches = []
    start = campaign.starts_at
    if dag.dagrun_timeout is not None and start + dag.dagrun_timeout < campaign.ends_at:
        breaches.append(
            Breach(
                dag.dag_id,
                None,
                f"dagrun_timeout {_span(dag.dagrun_timeout)}",
                start + dag.dagrun_timeout,
                campaign.ends_at,
            )
        )
    for task in dag.tasks:
        phase = served_phase(campaign, task.task_id)
        deadline = campaign.deadline_at(phase)
        if isinstance(task, BaseSensorOperator):
            needed = deadline + timedelta(
                seconds=task.poke_interval
            )  # the check that sees the deadline passed
            lifetime = timedelta(seconds=task.timeout)
            if start + lifetime < needed:
                breaches.append(
                    Breach(dag.dag_id, task.task_id, f"timeout {_span(lifetime)}", start + lifetime, needed)
                )
        response = getattr(task, "response_timeout", None)
        if response is not None and start + response < deadline + campaign.close_grace:
            breaches.append(
                Breach(
                    dag.dag_id,
                    task.task_id,
                    f"response_timeout {_span(response)}",
                    start + response,
                    deadline + campaign.close_grace,
                )
            )
        budget = retry_budget(task)
        limit = _next_deadline(campaign, deadline)
        if deadline + budget > limit:
            breaches.append(
                Breach(
                    dag.dag_id,
                    task.task_id,
                    f"retries {task.retries} × retry_delay {task.retry_delay} = {_span(budget)}",
                    deadline + budget,
                    limit,
                )
            )
    return breaches


def check_reminder_dag(dag, campaign: Campaign) -> list[Breach]:
    """Breaches of the reminder DAG: a run (or a task's retries) that can outlast the gap to the next cron tick,
    so that one stuck morning would hold back the next (the DAG allows one active run)."""
    breaches = []
    gap = campaign.reminder_interval
    first = campaign.starts_at
    if dag.dagrun_timeout is None:
        breaches.append(Breach(dag.dag_id, None, "dagrun_timeout not set", None, first + gap))
    elif dag.dagrun_timeout > gap:
        breaches.append(
            Breach(
                dag.dag_id,
                None,
                f"dagrun_timeout {_span(dag.dagrun_timeout)}",
                first + dag.dagrun_timeout,
                first + gap,
            )
        )
    for task in dag.tasks:
        budget = retry_budget(task)
        if budget > gap:
            breaches.append(
                Breach(
                    dag.dag_id,
                    task.task_id,
                    f"retries {task.retries} × retry_delay {task.retry_delay} = {_span(budget)}",
                    first + budget,
                    first + gap,
                )
            )
    return breaches


def check_deadline_dag(dag, campaign: Campaign) -> list[Breach]:
    """Breaches of the deadlines DAG: each run waits from the campaign's start to its deadline, so nothing may end
    it sooner (a run timeout, a task's execution timeout), and the DAG must not be paused at creation (a paused
    DAG's run waits queued and its deadline is marked missed whatever the units did)."""
    breaches = []
    start = campaign.starts_at
    deadlines = sorted(campaign.deadline_at(p) for p in PHASES)
    if dag.is_paused_upon_creation is not False:
        breaches.append(
            Breach(
                dag.dag_id,
                None,
                f"is_paused_upon_creation {dag.is_paused_upon_creation}",
                deadlines[0],
                deadlines[-1],
            )
        )
    if dag.dagrun_timeout is not None and start + dag.dagrun_timeout < deadlines[-1]:
        breaches.append(
            Breach(
                dag.dag_id,
                None,
                f"dagrun_timeout {_span(dag.dagrun_timeout)}",
                start + dag.dagrun_timeout,
                deadlines[-1],
            )
        )
    for task in dag.tasks:
        if task.execution_timeout is not None and start + task.execution_timeout < deadlines[-1]:
            breaches.append(
                Breach(
                    dag.dag_id,
                    task.task_id,
                    f"execution_timeout {_span(task.execution_timeout)}",
                    start + task.execution_timeout,
                    deadlines[-1],
                )
            )
    return breaches


def check(dags: list, campaigns: list[Campaign]) -> list[Breach]:
    """Every breach of every campaign's DAGs (the campaign DAG, its deadlines DAG and its reminder DAG)."""
    checkers = {"": check_campaign_dag, "_reminders": check_reminder_dag, "_deadlines": check_deadline_dag}
    by_dag = {f"{c.dag_id}{suffix}": (c, checker) for c in campaigns for suffix, checker in checkers.items()}
    breaches = []
    for dag in dags:
        if dag.dag_id in by_dag:
            campaign, checker = by_dag[dag.dag_id]
            breaches += checker(dag, campaign)
    return breaches
