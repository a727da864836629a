"""The phase sensor's own execute logic at simulated moments of the 2023 campaign: it keeps waiting until its
deadline whatever happened since its first check, a failing feed of MoHA's software leaves it waiting, and after
the deadline it ends with the late list."""

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferred
from par_index.airflow.dag_factory import build_campaign_dags
from par_index.paths import inbox_dir
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import CollectionFailure
from sqlalchemy import select
from support.moha_server import TOKEN, FakeMoha
from support.trigger_events import first_event

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_CHECK = datetime(2023, 12, 20, 8, 0, tzinfo=HANOI)  # the campaign DAG's first try


@pytest.fixture
def sensors(campaign, runtime, monkeypatch):
    """The campaign DAG's sensors, reading the test's store through the Airflow connection."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": runtime.store_url}}),
    )
    monkeypatch.delenv("AIRFLOW_CONN_PAR_PORTAL", raising=False)
    prepare(campaign, runtime)
    dag = next(d for d in build_campaign_dags() if d.dag_id == campaign.dag_id)
    return {t.task_id.removeprefix("collect_"): t for t in dag.tasks if t.task_id.startswith("collect_")}


def _check(sensor, now: datetime, first_check: datetime = FIRST_CHECK):
    """One check of ``sensor`` at ``now``, resumed from a wait that began with the try's first check: the deferral
    (trigger, timeout) while it waits, or what it returned when done."""
    with time_machine.travel(now, tick=False):
        try:
            return sensor.check({}, first_check=first_check.isoformat())
        except TaskDeferred as deferred:
            return deferred.trigger, deferred.timeout


@pytest.mark.parametrize(
    ("phase", "now"),
    [
        ("nominees", datetime(2023, 12, 28, 9, 0, tzinfo=HANOI)),
        ("survey", datetime(2023, 12, 28, 9, 0, tzinfo=HANOI)),
        ("self_scores", datetime(2023, 12, 28, 9, 0, tzinfo=HANOI)),
        ("self_scores", datetime(2024, 1, 16, 23, 0, tzinfo=HANOI)),  # 27 days after its first check
    ],
)
def test_a_sensor_is_still_waiting_before_its_deadline(sensors, campaign, phase, now):
    trigger, timeout = _check(sensors[phase], now)
    # it waits for a new file or its deadline, and lives until its deadline plus the closing grace
    assert (trigger.wake_at, trigger.campaign_file) == (
        campaign.deadline_at(phase).isoformat(),
        sensors[phase].campaign_file,
    )
    assert now + timeout == FIRST_CHECK + campaign.collection_lifetime(phase)


def test_with_airflow_s_default_timeout_it_would_have_died_on_the_eighth_day(sensors):
    sensor = sensors["self_scores"]
    sensor.timeout = 604800  # what the sensors had before: Airflow's default
    with pytest.raises(AirflowSensorTimeout):
        _check(sensor, datetime(2023, 12, 28, 9, 0, tzinfo=HANOI))


def test_the_wait_ends_when_a_new_file_has_settled_in_the_inbox(sensors, campaign, runtime):
    folder = inbox_dir(campaign.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cu.xlsx").write_bytes(b"old")
    trigger, _ = _check(sensors["nominees"], datetime(2023, 12, 28, 9, 0, tzinfo=HANOI))
    trigger.wake_at, trigger.check_every = _real_time_in(30), 0.05  # the trigger runs on the real clock here
    assert len(trigger.seen) == 1  # what the check saw: the old file

    async def drop():
        await asyncio.sleep(0.2)
        (folder / "PL4_STP.xlsx").write_bytes(b"new")
        await asyncio.sleep(60)

    assert first_event(trigger, drop).payload == {"woken_by": "inbox", "new_files": 1}


def test_the_wait_ends_at_the_deadline_when_no_file_comes(sensors, campaign):
    trigger, _ = _check(sensors["survey"], datetime(2023, 12, 28, 9, 0, tzinfo=HANOI))
    trigger.wake_at, trigger.check_every = _real_time_in(0.3), 0.05  # the deadline, brought near
    assert first_event(trigger).payload == {"woken_by": "deadline", "at": trigger.wake_at}


def test_a_file_the_check_saw_does_not_wake_it_again(sensors, campaign):
    folder = inbox_dir(campaign.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PL4_STP.xlsx").write_bytes(b"seen")
    trigger, _ = _check(sensors["nominees"], datetime(2023, 12, 28, 9, 0, tzinfo=HANOI))
    trigger.wake_at, trigger.check_every = _real_time_in(3), 0.05
    assert first_event(trigger).payload == {
        "woken_by": "deadline",
        "at": trigger.wake_at,
    }  # nothing new: slept until then
    trigger.wake_at = _real_time_in(30)
    os.utime(folder / "PL4_STP.xlsx", (1e9, 1e9))  # the same name written again: a changed file wakes it
    assert first_event(trigger).payload == {"woken_by": "inbox", "new_files": 1}


def _real_time_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def test_a_failing_feed_is_recorded_and_the_sensor_keeps_waiting(sensors, runtime, monkeypatch):
    moha = FakeMoha()
    moha.behaviour = "500"
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAR_PORTAL",
        json.dumps(
            {
                "conn_type": "http",
                "host": moha.url,
                "password": TOKEN,
                "extra": {"retries": 1, "backoff": 0.01},
            }
        ),
    )
    now = datetime(2024, 1, 10, 9, 0, tzinfo=HANOI)
    try:
        trigger, _ = _check(sensors["self_scores"], now)
        assert (
            trigger.wake_at == (now + timedelta(minutes=5)).astimezone(UTC).isoformat()
        )  # the feed's next read
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


def test_a_file_still_being_written_when_the_deadline_passes_is_read_before_the_phase_closes(
    sensors, campaign
):
    closing = datetime(2023, 12, 31, 0, 4, tzinfo=HANOI)
    folder = inbox_dir(campaign.id)
    folder.mkdir(parents=True, exist_ok=True)
    arriving = folder / "PL4_STP.xlsx"
    arriving.write_bytes(b"the first bytes of a workbook")
    arrived = closing - timedelta(seconds=1)
    os.utime(arriving, (arrived.timestamp(), arrived.timestamp()))  # written to a second ago
    trigger, _ = _check(sensors["nominees"], closing)
    assert (trigger.wake_for, trigger.wake_at) == (
        "recheck",
        (arrived + timedelta(seconds=2)).astimezone(UTC).isoformat(),
    )
    # settled, and cut off: before the deadline it would get ten minutes to arrive whole; past it, it is judged now
    # (refused, and superseded should the rest of it come) and the phase closes
    result = _check(sensors["nominees"], closing + timedelta(seconds=3))
    assert (result["done"], result["new_files"], result["rejected"]) == (True, 1, ["PL4_STP.xlsx"])


def test_the_log_says_what_the_store_holds_whoever_registered_it(sensors, campaign, runtime, monkeypatch):
    from par_index.service import collect
    from par_index_dev import sample_data as sd
    from par_index_dev.sample_data import generate_inbox

    generate_inbox(campaign)
    now = datetime(2024, 1, 18, 10, 0, tzinfo=HANOI)
    with time_machine.travel(
        now, tick=False
    ):  # another path (a reminder run, a closing task) read the inbox first
        assert collect(campaign, runtime, "nominees", now)["rejected"] == [
            sd.PASSWORD_FILE,
            sd.UNREADABLE_FILE,
        ]
    lines: list[str] = []

    class Log:
        def info(self, message, *args):
            lines.append(message % args)

        warning = info

    monkeypatch.setattr(type(sensors["nominees"]), "log", property(lambda _sensor: Log()))
    result = _check(sensors["nominees"], now)
    assert result["new_files"] == 0
    # the sample's planted faults: STP names three people for area 2, STTTT sends nothing, CTHUE is late
    assert lines == [
        "Phase nominees: this check read 0 new file(s), of which refused: none; waiting for ['CTHUE', 'STP', 'STTTT']",
        "Kho dữ liệu, Cử công chức đầu mối (Phụ lục IV): 9 tệp: 7 đã nhận, 2 bị từ chối.",
        f"Bị từ chối: {sd.PASSWORD_FILE} — Chưa rõ đơn vị gửi, nhận lúc 21/12/2023 09:00: trang Biểu mẫu, ô E3, "
        "cột “Mật khẩu”: Tệp có cột mật khẩu: không bao giờ gửi mật khẩu. Tệp bị từ chối và không được lưu; xóa "
        "cột này rồi gửi lại.",
        f"Bị từ chối: {sd.UNREADABLE_FILE} — Chưa rõ đơn vị gửi, nhận lúc 12/01/2024 09:00: cả tệp: Tệp không mở "
        "được: không phải tệp Excel .xlsx hợp lệ (có thể bị hỏng hoặc đổi đuôi). Mở lại bằng Excel, lưu .xlsx và "
        "gửi lại.",
    ]
