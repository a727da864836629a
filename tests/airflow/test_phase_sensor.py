"""The phase sensor's own execute logic at simulated moments of the 2023 campaign: it keeps waiting until its
deadline whatever happened since its first check, a failing feed of MoHA's software leaves it waiting, and after
the deadline it ends with the late list."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.exceptions import AirflowRescheduleException, AirflowSensorTimeout
from moha_server import TOKEN, FakeMoha
from par_index.airflow.dag_factory import build_campaign_dags
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import CollectionFailure
from sqlalchemy import select

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_CHECK = datetime(2023, 12, 20, 8, 0, tzinfo=HANOI)  # the campaign DAG's first try


class FirstCheck:
    """What a reschedule sensor asks its task instance: when its first check of this try ran."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def get_first_reschedule_date(self, context):
        return self.moment.astimezone(UTC)


@pytest.fixture
def sensors(campaign, runtime, monkeypatch):
    """The campaign DAG's sensors, reading the test's store through the Airflow connection."""
    monkeypatch.setenv("AIRFLOW_CONN_PAR_CAMPAIGN_DB", json.dumps(
        {"conn_type": "generic", "extra": {"sqlalchemy_url": runtime.store_url}}))
    monkeypatch.delenv("AIRFLOW_CONN_PAR_PORTAL", raising=False)
    prepare(campaign, runtime)
    dag = next(d for d in build_campaign_dags() if d.dag_id == campaign.dag_id)
    return {t.task_id.removeprefix("collect_"): t for t in dag.tasks if t.task_id.startswith("collect_")}


def _check(sensor, now: datetime):
    """One check of ``sensor`` at ``now``: the reschedule moment, or what it returned when done."""
    with time_machine.travel(now, tick=False):
        try:
            return sensor.execute({"ti": FirstCheck(FIRST_CHECK)})
        except AirflowRescheduleException as reschedule:
            return reschedule.reschedule_date


@pytest.mark.parametrize(("phase", "now"), [
    ("nominees", datetime(2023, 12, 28, 9, 0, tzinfo=HANOI)),
    ("survey", datetime(2023, 12, 28, 9, 0, tzinfo=HANOI)),
    ("self_scores", datetime(2023, 12, 28, 9, 0, tzinfo=HANOI)),
    ("self_scores", datetime(2024, 1, 16, 23, 0, tzinfo=HANOI)),  # 27 days after its first check
])
def test_a_sensor_is_still_waiting_before_its_deadline(sensors, phase, now):
    assert _check(sensors[phase], now) == now.astimezone(UTC) + timedelta(minutes=5)


def test_with_airflow_s_default_timeout_it_would_have_died_on_the_eighth_day(sensors):
    sensor = sensors["self_scores"]
    sensor.timeout = 604800  # what the sensors had before: Airflow's default
    with pytest.raises(AirflowSensorTimeout):
        _check(sensor, datetime(2023, 12, 28, 9, 0, tzinfo=HANOI))


def test_a_failing_feed_is_recorded_and_the_sensor_keeps_waiting(sensors, runtime, monkeypatch):
    moha = FakeMoha()
    moha.behaviour = "500"
    monkeypatch.setenv("AIRFLOW_CONN_PAR_PORTAL", json.dumps(
        {"conn_type": "http", "host": moha.url, "password": TOKEN, "extra": {"retries": 1, "backoff": 0.01}}))
    now = datetime(2024, 1, 10, 9, 0, tzinfo=HANOI)
    try:
        assert _check(sensors["self_scores"], now) == now.astimezone(UTC) + timedelta(minutes=5)
    finally:
        moha.server.shutdown()
    assert moha.hits == 2  # the first request and its one retry
    with session_scope(runtime.store_url) as s:
        failures = [(f.phase, f.source, f.code, f.occurred_at) for f in s.scalars(select(CollectionFailure))]
    assert failures == [("self_scores", "Phần mềm chấm điểm CCHC", "INT060", now.astimezone(UTC))]


def test_after_its_deadline_the_sensor_ends_with_every_unit_still_missing(sensors, campaign):
    result = _check(sensors["nominees"], datetime(2023, 12, 31, 0, 4, tzinfo=HANOI))
    assert (result["done"], result["deadline_passed"], result["complete"]) == (True, True, False)
    assert result["waiting_for"] == sorted(campaign.area_owners)
