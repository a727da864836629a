"""The sender told at once, on Airflow: an Asset per campaign inbox, watched by :class:`InboxWatchTrigger` in the
triggerer, schedules the campaign's small feedback DAG (``<campaign>_feedback``), whose one task reads the inbox
and answers each refused or warned file (:func:`par_index.feedback.run`).

**Why a watcher, not a sensor.** Between files nothing runs on a worker: the watcher is a coroutine in the
triggerer that lists the inbox folder (names, times, sizes: ``inbox_signature``; no file is opened) every
``check_every`` seconds. A file is *settled* when two listings in a row show it unchanged; the first time a settled
file is seen, the watcher fires an asset event and the scheduler starts a run. So a file is answered within about
two listings, the scheduler's reaction and one run (figures: ``docs/benchmarks.md``). A file the run left for later
(still being written, or cut off and young) is not recorded in the store: every ``refire_after`` seconds the
watcher asks the store (one SQL read) whether a settled file is still unrecorded, and fires again if so.

After a restart of the triggerer the watcher starts from what the store has recorded: a file that came meanwhile
fires at once; a file registered by another path (a phase sensor) is answered by the next run, which answers every
file due from the store.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from par_index.airflow.assets import SELF_SCORES, announce_self_scores
from par_index.airflow.triggers import _campaign
from par_index.campaign import Campaign, load_campaign

CHECK_EVERY = 2.0  # seconds between two listings of the inbox
REFIRE_AFTER = 60.0  # seconds before a settled file still unrecorded in the store fires again
Entry = tuple[str, int, int]  # (path key, modification time in ns, size)


def feedback_dag_id(campaign: Campaign) -> str:
    """The campaign's feedback DAG."""
    return f"{campaign.dag_id}_feedback"


def _listing(campaign_file: str) -> set[Entry]:
    from par_index.intake.inbox import inbox_signature

    return set(inbox_signature(_campaign(campaign_file)))


def _recorded(campaign_file: str) -> set[Entry]:
    from par_index.airflow.runtime import store_url
    from par_index.store import session_scope
    from par_index.store.queries import inbox_recorded

    try:
        with session_scope(store_url()) as s:
            return inbox_recorded(s, _campaign(campaign_file))
    except Exception:  # noqa: BLE001 - a store not made yet (campaign not prepared): nothing recorded
        return set()


class InboxWatchTrigger(BaseEventTrigger):
    """Fire when a settled file the watcher has not fired for appears in the campaign's inbox (the module's
    rules). Listing only: no file is opened, nothing is written."""

    def __init__(
        self, campaign_file: str, check_every: float = CHECK_EVERY, refire_after: float = REFIRE_AFTER
    ):
        """Watch the inbox of the campaign in ``campaign_file``, listing it every ``check_every`` seconds."""
        super().__init__()
        self.campaign_file, self.check_every, self.refire_after = campaign_file, check_every, refire_after

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The trigger's class path and arguments, as the triggerer rebuilds it."""
        return (
            "par_index.airflow.feedback.InboxWatchTrigger",
            {
                "campaign_file": self.campaign_file,
                "check_every": self.check_every,
                "refire_after": self.refire_after,
            },
        )

    async def run(self):
        """List the inbox until a new settled file appears (or a settled one stays unrecorded), then fire."""
        fired = await asyncio.to_thread(_recorded, self.campaign_file)
        listed: set[Entry] | None = None
        last_fire = time.monotonic()
        while True:
            try:
                current: set[Entry] | None = await asyncio.to_thread(_listing, self.campaign_file)
            except Exception:  # noqa: BLE001 - an inbox that cannot be listed now is listed again at the next step
                self.log.exception("Không liệt kê được hộp thư; thử lại sau %s giây.", self.check_every)
                current = None
            settled = current & listed if current is not None and listed is not None else set()
            new = settled - fired
            if not new and settled and time.monotonic() - last_fire >= self.refire_after:
                new = settled - await asyncio.to_thread(
                    _recorded, self.campaign_file
                )  # left for later: again
                last_fire = time.monotonic()
            if new:
                self.log.info("%s tệp mới hoặc đã đổi trong hộp thư: chạy trả lời người gửi.", len(new))
                yield TriggerEvent({"new_files": len(new), "listed_at": datetime.now(UTC).isoformat()})
                fired |= settled
                last_fire = time.monotonic()
            listed = current
            await asyncio.sleep(self.check_every)


def inbox_asset(campaign: Campaign, campaign_file: str, check_every: float = CHECK_EVERY) -> Asset:
    """The campaign's inbox as an asset, watched by :class:`InboxWatchTrigger`."""
    return Asset(
        name=f"{campaign.id}_inbox",
        uri=f"par://{campaign.id}/inbox",
        watchers=[
            AssetWatcher(
                name=f"{campaign.id}_inbox_watch", trigger=InboxWatchTrigger(campaign_file, check_every)
            )
        ],
    )


def build_feedback_dag(campaign: Campaign, path: Path) -> DAG:
    """``<campaign>_feedback``: one run per watcher event, reading the inbox and answering each sender."""
    from par_index.airflow.dag_factory import (  # the factory builds this DAG: imported once it is loaded
        OWNER,
        campaign_tags,
    )

    campaign_file = str(path)
    with DAG(
        dag_id=feedback_dag_id(campaign),
        auto_register=False,  # registered by the DAG file; one that failed half-built is dropped
        dag_display_name=f"Trả lời người gửi tệp — {campaign.title_vi}",
        description="Khi có tệp mới trong hộp thư đến: đọc tệp, báo ngay cho đơn vị tệp bị từ chối hoặc cần kiểm tra",
        doc_md=(
            f"# Trả lời người gửi tệp — {campaign.title_vi}\n"
            "Tiến trình triggerer liệt kê hộp thư đến vài giây một lần (chỉ tên, thời điểm, kích thước; không mở tệp). "
            "Khi có tệp mới đã ghi xong, DAG này chạy: đọc tệp như các bước thu nhận, rồi gửi cho đơn vị và công "
            "chức đầu mối của đơn vị thư nêu từng lỗi (trang, ô) và việc cần làm; tệp gửi lại đúng thì đơn vị nhận "
            "thư xác nhận. Mỗi phiên bản tệp chỉ được trả lời một lần; tệp không đọc được đơn vị thì thư gửi đầu "
            "mối chiến dịch."
        ),
        schedule=[inbox_asset(campaign, campaign_file)],
        start_date=campaign.starts_at,
        catchup=False,
        max_active_runs=1,
        tags=campaign_tags(campaign, "feedback"),
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(seconds=30)},
    ) as dag:

        @task(task_display_name="Đọc tệp mới và trả lời người gửi", outlets=[SELF_SCORES])
        def answer_senders(outlet_events=None):
            """Read the inbox and answer every file due (:func:`par_index.feedback.run`); new self-scores it
            stored are announced at once, so ``par_reconcile`` reruns for their units."""
            from par_index import feedback
            from par_index.airflow.runtime import runtime

            loaded = load_campaign(campaign_file)
            result = feedback.run(loaded, runtime())
            return {**result, "announced": announce_self_scores(loaded, outlet_events)}

        answer_senders()
    return dag
