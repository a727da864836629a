"""The Deadline reference of the deadlines DAG: each run's deadline is the directive deadline named in its conf.

A run created by the campaign DAG's ``deadline_<phase>`` task carries ``conf = {"phase": …, "deadline": ISO 8601}``;
when Airflow creates the run it asks this reference for the run's Deadline row time (in the process that creates
the run: the API server). The reference is registered by the plugin ``plugins/par_deadlines.py``, which every
Airflow component loads; it imports nothing heavy.

Why not ``DeadlineReference.DAGRUN_LOGICAL_DATE`` with the deadline as logical date: Airflow 3.3.2's scheduler
schedules no task of a run whose logical date is in the future ("Logical date is in future"), so the run could
not watch its deadline before it. A fixed date-time per DAG would need four DAGs (four panels).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from airflow.sdk.definitions.deadline import BaseDeadlineReference, deadline_reference

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@deadline_reference
class DirectiveDeadline(BaseDeadlineReference):
    """The deadline in the run's conf (``deadline``, ISO 8601 with its offset); a run without one gets no row."""

    required_kwargs = {"dag_id", "run_id"}

    @property
    def reference_name(self) -> str:  # what the UI prints: "Must complete within … of <this>"
        """What the UI prints after “Must complete within … of”."""
        return "hạn của văn bản chỉ đạo"

    def _evaluate_with(self, *, session: Session, dag_id: str, run_id: str, **kwargs) -> datetime | None:  # noqa: ARG002 - Airflow's
        from airflow.models import DagRun
        from sqlalchemy import select

        conf = session.scalar(select(DagRun.conf).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        deadline = (conf or {}).get("deadline")
        return datetime.fromisoformat(deadline) if deadline else None
