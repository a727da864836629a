"""Every path that stores self-scores leads to the campaign's self-scores asset event (campaign and units), emitted
by the campaign DAG's, the reminder DAG's and ``par_reconcile``'s own tasks, run here as Airflow runs them (their
callables, with Airflow's outlet-event accessors); a second announcement with nothing new emits nothing."""

import json
import os
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.sdk.execution_time.context import OutletEventAccessors
from par_index.airflow.assets import self_scores_asset
from par_index.airflow.dag_factory import build_campaign_dags
from par_index.intake.inbox import ingest_feed
from par_index.paths import inbox_dir
from par_index.service import deadline_check, prepare
from par_index.store import session_scope
from par_index_dev.writer import write_xlsx

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CLOSING = datetime(2024, 1, 17, 0, 4, tzinfo=HANOI)  # just past the self-scores deadline (16/01/2024)
PORTAL_COLUMNS = [
    "Mã đơn vị",
    "Mã tiêu chí",
    "Điểm tự đánh giá",
    "Số tài liệu kiểm chứng",
    "Trạng thái",
    "Cập nhật lúc",
]


@pytest.fixture
def dags(campaign, runtime, monkeypatch):
    """The project's DAGs by id, their tasks reading the test's store through the Airflow connection."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": runtime.store_url}}),
    )
    monkeypatch.delenv("AIRFLOW_CONN_PAR_PORTAL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_PAR_SMTP", raising=False)
    prepare(campaign, runtime)
    return {d.dag_id: d for d in build_campaign_dags()}


def _report(campaign, unit: str, code: str, score: str) -> None:
    """``unit``'s Appendix II in the inbox, scoring ``code``, sent an hour before the check."""
    path = write_xlsx(
        inbox_dir(campaign.id) / f"PL2_{unit}.xlsx",
        "PHỤ LỤC II",
        [("Đơn vị", unit), ("Ngày", "10/01/2024")],
        ["Mã tiêu chí", "Điểm tự chấm", "Tài liệu kiểm chứng"],
        [[code, score, "Số 1"]],
    )
    sent = (CLOSING - timedelta(hours=1)).timestamp()
    os.utime(path, (sent, sent))


def _emitted(events: OutletEventAccessors) -> list[tuple[str, dict]]:
    """(asset URI, extra) of each event a task emitted through the self-scores alias."""
    return [(e.dest_asset_key.uri, e.extra) for a in events._dict.values() for e in a.asset_alias_events]


def _announce(campaign, task, **kwargs) -> list[tuple[str, dict]]:
    events = OutletEventAccessors()
    with time_machine.travel(CLOSING, tick=False):
        task.python_callable(outlet_events=events, **kwargs)
    return _emitted(events)


def test_the_self_scores_sensor_announces_what_its_checks_stored(dags, campaign):
    _report(campaign, "STP", "2.p1.1", "0,5")
    sensor = dags[campaign.dag_id].get_task("collect_self_scores")
    events = OutletEventAccessors()
    with time_machine.travel(CLOSING, tick=False):
        result = sensor.check({"outlet_events": events}, first_check=CLOSING.isoformat())
    uri = f"par://{campaign.id}/self_scores"
    assert (result["done"], result["announced"]) == (True, ["STP"])
    assert _emitted(events) == [(uri, {"campaign": campaign.id, "units": ["STP"]})]


def test_closing_after_a_failed_collection_announces_what_it_read(dags, campaign):
    _report(campaign, "STC", "6.p1.2", "1")
    close = dags[campaign.dag_id].get_task("close_self_scores")  # ti None: the sensor left no result
    assert _announce(campaign, close, ti=None) == [
        (f"par://{campaign.id}/self_scores", {"campaign": campaign.id, "units": ["STC"]})
    ]


def test_what_the_deadlines_dag_stored_is_announced_by_the_next_task(dags, campaign, runtime):
    _report(campaign, "STTTT", "7.p1.1", "1,5")
    with time_machine.travel(
        CLOSING, tick=False
    ):  # the deadlines DAG's last check reads the inbox (then skips)
        deadline_check(campaign, runtime, "self_scores", CLOSING)
    collected = SimpleNamespace(
        xcom_pull=lambda task_ids: {"done": True, "task": task_ids}
    )  # the sensor found nothing new
    close = dags[campaign.dag_id].get_task("close_self_scores")
    assert _announce(campaign, close, ti=collected) == [
        (f"par://{campaign.id}/self_scores", {"campaign": campaign.id, "units": ["STTTT"]})
    ]


def test_the_reminder_run_announces_a_feed_snapshot_and_then_nothing(dags, campaign, runtime):
    rows = [
        ["STC", "6.p1.2", "1", 1, "Đã nộp", "09/01/2024 10:00"],
        ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "09/01/2024 10:00"],
    ]
    with time_machine.travel(CLOSING, tick=False), session_scope(runtime.store_url) as s:
        ingest_feed(s, campaign, "Phần mềm chấm điểm CCHC", PORTAL_COLUMNS, rows, CLOSING)
    announce = dags[f"{campaign.dag_id}_reminders"].get_task("announce")
    uri = f"par://{campaign.id}/self_scores"
    assert _announce(campaign, announce, result={}) == [
        (uri, {"campaign": campaign.id, "units": ["STC", "STP"]})
    ]
    reconcile = dags[campaign.dag_id].get_task("reconcile")  # the campaign DAG's reconciliation: all of them
    assert _announce(campaign, reconcile) == []
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException, match="Không có điểm tự chấm mới chưa đối chiếu"):
        _announce(campaign, announce, result={})  # nothing new since: skipped, no event


def _triggered_by(campaign, *units: list[str]) -> dict:
    """``par_reconcile``'s triggering events: one self-scores event of ``campaign`` per list of units."""
    asset = self_scores_asset(campaign)
    return {asset: [SimpleNamespace(extra={"campaign": campaign.id, "units": u}) for u in units]}


def test_par_reconcile_merges_its_events_and_announces_what_its_scope_left(dags, campaign, runtime):
    _report(campaign, "STC", "6.p1.2", "1")
    _report(campaign, "STP", "2.p1.1", "0,5")
    reconcile = dags["par_reconcile"].get_task("reconcile")
    params = {"campaign": campaign.id, "units": [], "areas": [], "tolerance": 0.01}
    events = OutletEventAccessors()
    with time_machine.travel(CLOSING, tick=False):  # STC's event twice: it reads both files, reconciles STC
        first = reconcile.python_callable(
            params=params,
            triggering_asset_events=_triggered_by(campaign, ["STC"], ["STC"]),
            outlet_events=events,
        )
    assert (first[campaign.id]["scope"], first[campaign.id]["announced"]) == ("đơn vị STC", ["STP"])
    assert _emitted(events) == [
        (f"par://{campaign.id}/self_scores", {"campaign": campaign.id, "units": ["STP"]})
    ]
    events = OutletEventAccessors()
    with time_machine.travel(CLOSING, tick=False):  # the rerun it started: STP with every unit wins
        second = reconcile.python_callable(
            params=params, triggering_asset_events=_triggered_by(campaign, ["STP"], []), outlet_events=events
        )
    assert (second[campaign.id]["scope"], second[campaign.id]["announced"], _emitted(events)) == (
        "toàn chiến dịch",
        [],
        [],
    )
