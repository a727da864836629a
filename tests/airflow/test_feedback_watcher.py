"""The inbox watcher of the feedback DAG, run as the triggerer runs it: it fires once a new file has settled in
the inbox (listing only), not for files the store has recorded, and once per file."""

import asyncio
import os
from datetime import UTC, datetime, timedelta

from par_index.airflow.feedback import InboxWatchTrigger
from par_index.intake.inbox import ingest
from par_index.paths import CAMPAIGNS_DIR, inbox_dir
from par_index.service import prepare
from par_index.store import session_scope
from par_index_dev.sample_data import IV_MINIMAL_COLUMNS as IV
from par_index_dev.writer import write_xlsx


def _drop(campaign, name: str):
    path = write_xlsx(
        inbox_dir(campaign.id) / name,
        "PHỤ LỤC IV",
        [("Đơn vị", "STP")],
        IV,
        [[1, "Lê Văn A", "", "2", "a@hatinh.example"]],
    )
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    os.utime(path, (hour_ago, hour_ago))
    return path


def test_the_watcher_fires_once_per_new_settled_file_and_not_for_recorded_ones(
    runtime, campaign, monkeypatch
):
    monkeypatch.setattr("par_index.airflow.runtime.store_url", lambda: runtime.store_url)
    prepare(campaign, runtime)
    _drop(campaign, "da_doc.xlsx")
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)  # recorded by the store before the watcher starts: no event for it
    _drop(campaign, "moi_1.xlsx")
    _drop(campaign, "moi_2.xlsx")
    trigger = InboxWatchTrigger(str(CAMPAIGNS_DIR / "ha_tinh_2023.yaml"), check_every=0.05, refire_after=3600)
    events = []

    async def watch():
        stream = trigger.run()

        async def next_event():
            return await asyncio.wait_for(stream.__anext__(), 5)

        events.append((await next_event()).payload["new_files"])  # the two files dropped before it started
        _drop(campaign, "moi_3.xlsx")
        events.append((await next_event()).payload["new_files"])
        try:  # nothing new: no third event
            await asyncio.wait_for(stream.__anext__(), 1)
        except TimeoutError:
            events.append("none")
        await stream.aclose()

    asyncio.run(watch())
    assert events == [2, 1, "none"]
