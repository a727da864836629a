"""Deadline-alert callbacks, called with the DAG run's context when a deadline is missed: a run of the deadlines
DAG (``par_index.airflow.deadlines``) that had not succeeded by its deadline, i.e. some unit had not complied. The
phase is the run's (its conf, else its run id). A ``SyncCallback``: the scheduler hands it to the executor, and a
worker imports this module (never the DAG files) and calls it; not the triggerer, since the alert reads the inbox
and MoHA's feed and sends mail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta


def _alert(campaign_file: str, phase: str, before: str | None, context: dict | None) -> str:
    from par_index.airflow.runtime import runtime
    from par_index.campaign import load_campaign
    from par_index.service import deadline_alert

    deadline = (context or {}).get("deadline", {}).get("deadline_time")
    moment = datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    now = datetime.now(UTC)
    # a replayed past campaign: judge the alert as of its own moment (one second after it, so that "at the
    # deadline" means "once the deadline has passed")
    as_of = min(now, moment.astimezone(UTC) + timedelta(seconds=1)) if moment else now
    result = deadline_alert(load_campaign(campaign_file), runtime(), phase, before, as_of)
    # kept as text, as Airflow stores a callback's output
    return json.dumps(result, ensure_ascii=False)


def _phase_of(context: dict | None) -> str:
    run = (context or {}).get("dag_run") or {}
    phase = (run.get("conf") or {}).get("phase") or run.get("run_id")
    if not phase:
        raise ValueError("Cảnh báo hạn không rõ nội dung: lần chạy không có conf.phase hay run_id.")
    return phase


def deadline_alert(
    campaign_file: str, phase: str | None = None, before: str | None = None, context: dict | None = None
) -> str:
    """Mail the coordinators what is still missing for ``phase`` (default: the missed run's phase) — at the
    deadline ("đã đến hạn"), or ``before`` it ('3d', '1d'; those notices now come from the reminder DAG)."""
    return _alert(campaign_file, phase or _phase_of(context), before, context)
