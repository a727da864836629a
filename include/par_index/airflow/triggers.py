"""The triggers that wait in the triggerer: :class:`InboxTrigger` wakes a phase sensor when a file arrives or its
deadline passes; :class:`ComplianceTrigger` watches one directive deadline (DAG ``<campaign>_deadlines``).

**ComplianceTrigger.**

An Airflow Deadline row reads "Missed" unless its run has *succeeded* by the deadline, and a met row is deleted
(``Deadline.prune_deadlines``). So the deadline run's single task ends

- **success** as soon as every unit has complied (the report: delivered to the PPC), before the deadline: the
  run succeeds, its Deadline row is deleted and the run's header says *Met*;
- **skipped** once the deadline has passed without that: the run still succeeds (no failed task), but after its
  deadline, so its row stays *Missed* and the Deadline Alert's callback mails the coordinators "đã đến hạn".

**Where the work runs.** The triggerer is for light waits: this trigger only judges from the campaign store
(``phases.judge_deadline``: SQL, in a thread, every ``check_every`` seconds) and waits for the deadline. It reads
no inbox file, calls no feed, sends no mail, and imports none of that code: the phase sensors keep the store fresh
(their own trigger lists the inbox, the sensor reads the files on a worker). Complete before the deadline, it ends
the task itself (``TaskSuccessEvent``); at the deadline it hands the task back to a worker
(``AwaitComplianceOperator.execute_complete``), which reads whatever arrived until then and ends it skipped. A
file that arrives within the last few seconds before the deadline may be read after it: the panel then says
Missed, while the late list and the "đã đến hạn" mail, judged by the file's arrival time, say it was on time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent


@lru_cache(maxsize=16)
def _load(campaign_file: str, modified_ns: int):  # noqa: ARG001 - the cache key: a changed file is read anew
    from par_index.campaign import load_campaign

    return load_campaign(campaign_file)


def _campaign(campaign_file: str):
    """The campaign file, read again only when it changed."""
    return _load(campaign_file, Path(campaign_file).stat().st_mtime_ns)


def _judge(campaign_file: str, phase: str, now: datetime) -> dict:
    from par_index.airflow.runtime import store_url
    from par_index.phases import judge_deadline

    return judge_deadline(_campaign(campaign_file), store_url(), phase, now)


def _fingerprint(campaign_file: str) -> list[str]:
    from par_index.intake.inbox import inbox_fingerprint

    return inbox_fingerprint(_campaign(campaign_file))


class InboxTrigger(BaseTrigger):
    """Wake a phase sensor (:class:`~par_index.airflow.sensors.PhaseSensor`) as soon as a file it has not seen has
    settled in the inbox (the same listing two steps in a row: not still being copied), or at ``wake_at`` (its
    deadline, or its next read of MoHA's feed). Listing the inbox (names, times, sizes) is all it does; the sensor
    reads the files on a worker. ``seen`` holds the sensor's fingerprint of the inbox before its last check;
    ``wake_for`` says why ``wake_at`` was chosen ("deadline", "recheck" of an unfinished file, "feed")."""

    def __init__(
        self,
        campaign_file: str,
        seen: list[str],
        wake_at: str,
        check_every: float = 2.0,
        wake_for: str = "deadline",
    ):
        """Watch the campaign's inbox until ``wake_at``, knowing the files in ``seen``."""
        super().__init__()
        self.campaign_file, self.seen, self.wake_at, self.check_every = (
            campaign_file,
            seen,
            wake_at,
            check_every,
        )
        self.wake_for = wake_for

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The trigger's class path and arguments, for the triggerer to rebuild it."""
        return (
            "par_index.airflow.triggers.InboxTrigger",
            {
                "campaign_file": self.campaign_file,
                "seen": self.seen,
                "wake_at": self.wake_at,
                "check_every": self.check_every,
                "wake_for": self.wake_for,
            },
        )

    async def run(self):
        """Yield an event once a new file has settled in the inbox, or at ``wake_at``."""
        wake_at, seen, listed = datetime.fromisoformat(self.wake_at), set(self.seen), None
        while (now := datetime.now(UTC)) < wake_at:
            try:
                current = await asyncio.to_thread(_fingerprint, self.campaign_file)
            except Exception:  # noqa: BLE001 - an inbox that cannot be listed now is listed again at the next step
                self.log.exception("Không liệt kê được hộp thư; thử lại sau %s giây.", self.check_every)
                current = None
            if current is not None and current == listed and not set(current) <= seen:
                new = len(set(current) - seen)
                self.log.info("%s tệp mới hoặc đã đổi trong hộp thư: đánh thức tác vụ thu nhận.", new)
                yield TriggerEvent({"woken_by": "inbox", "new_files": new})
                return
            listed = current
            await asyncio.sleep(max(0.05, min(self.check_every, (wake_at - now).total_seconds())))
        yield TriggerEvent({"woken_by": self.wake_for, "at": self.wake_at})


class ComplianceTrigger(BaseTrigger):
    """Wait until the store says every unit has complied with ``phase`` (success) or ``deadline`` has passed (an
    event that resumes the task on a worker). ``evaluate_every``: read from triggers serialized by earlier
    versions, unused."""

    def __init__(
        self,
        campaign_file: str,
        phase: str,
        deadline: str,
        check_every: float = 5.0,
        evaluate_every: float | None = None,  # noqa: ARG002 - see the docstring
    ):
        """Judge ``phase`` from the store every ``check_every`` seconds until ``deadline``."""
        super().__init__()
        self.campaign_file, self.phase, self.deadline, self.check_every = (
            campaign_file,
            phase,
            deadline,
            check_every,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The trigger's class path and arguments, for the triggerer to rebuild it."""
        return (
            "par_index.airflow.triggers.ComplianceTrigger",
            {
                "campaign_file": self.campaign_file,
                "phase": self.phase,
                "deadline": self.deadline,
                "check_every": self.check_every,
            },
        )

    async def run(self):
        """Succeed once every unit has complied; at the deadline, hand the task back to a worker."""
        deadline = datetime.fromisoformat(self.deadline)
        waiting = None
        while (now := datetime.now(UTC)) < deadline:
            try:
                result = await asyncio.to_thread(_judge, self.campaign_file, self.phase, now)
                if result["complete"] and datetime.now(UTC) < deadline:
                    self.log.info(
                        "Hạn %s: mọi đơn vị đã hoàn thành lúc %s, trước hạn %s.",
                        self.phase,
                        result["as_of"],
                        self.deadline,
                    )
                    yield TaskSuccessEvent(xcoms={"return_value": result})
                    return
                if result["waiting_for"] != waiting:  # said once per change, not every step of a month
                    waiting = result["waiting_for"]
                    self.log.info("Hạn %s (%s): còn chờ %s.", self.phase, self.deadline, ", ".join(waiting))
            except Exception:  # noqa: BLE001 - a failed check is tried again at the next step, never ends the watch
                self.log.exception("Hạn %s: kiểm tra lỗi; thử lại sau %s giây.", self.phase, self.check_every)
            left = (deadline - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(max(0.05, min(self.check_every, left)))
        self.log.info(
            "Hạn %s đã qua (%s): tác vụ trở lại worker để đọc hộp thư lần cuối.", self.phase, self.deadline
        )
        yield TriggerEvent({"phase": self.phase, "deadline": self.deadline})
