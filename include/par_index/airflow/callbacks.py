"""Deadline-alert callbacks. The triggerer imports this module (never the DAG files) and awaits the callback with
the DAG run's context when a deadline of the campaign file passes."""

from __future__ import annotations

import asyncio
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
    # Airflow stores the callback's output as text: a dict would break the triggerer's database write
    return json.dumps(result, ensure_ascii=False)


async def deadline_alert(campaign_file: str, phase: str, before: str | None = None,
                         context: dict | None = None) -> str:
    """Mail the coordinators what is still missing for ``phase`` (``before`` = '3d', '1d', or None at the
    deadline). The work is blocking (files, database, SMTP): it runs in a thread."""
    return await asyncio.to_thread(_alert, campaign_file, phase, before, context)

