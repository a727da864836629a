"""The deadlines DAG's own logic at simulated moments of the 2023 campaign: its task defers with the run's phase and
deadline; its trigger, judging from the store alone, ends the task as success within seconds of the phase sensor
reading the last file, and at the deadline hands the task back to a worker, which reads the inbox a last time and
ends it skipped; the missed deadline's callback (on a worker) mails the coordinators "đã đến hạn", judged as of
the deadline. Running the trigger imports no intake, HTTP or mail code."""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.triggers.base import TaskSuccessEvent, TriggerEvent
from par_index.airflow.triggers import ComplianceTrigger
from par_index.paths import CAMPAIGNS_DIR, inbox_dir
from par_index.service import collect, prepare
from par_index.store import session_scope
from par_index.store.models import Notification, ReceivedFile
from par_index_dev import sample_data as sd
from par_index_dev.writer import write_xlsx
from sqlalchemy import select
from support.received_mail import read_mails
from support.trigger_events import first_event

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGN_FILE = str(CAMPAIGNS_DIR / "ha_tinh_2023.yaml")
INCLUDE = CAMPAIGNS_DIR.parent


class _TaskInstance:
    """What a worker's task instance offers ``execute_complete``: the XCom it pushes."""

    def __init__(self):
        self.xcoms = {}

    def xcom_push(self, key, value):
        self.xcoms[key] = value


def _resume_on_a_worker(event):
    """The deadlines task resumed by the trigger's event, as a worker runs it: its XCom and why it was skipped."""
    from airflow.sdk.exceptions import AirflowSkipException
    from par_index.airflow.deadlines import AwaitComplianceOperator

    task, ti = (
        AwaitComplianceOperator(task_id="await_compliance", campaign_file=CAMPAIGN_FILE),
        _TaskInstance(),
    )
    with pytest.raises(AirflowSkipException) as skipped:
        task.execute_complete({"ti": ti}, event=event.payload)
    return ti.xcoms, str(skipped.value)


@pytest.fixture
def store(campaign, runtime, monkeypatch):
    """The campaign prepared in the test's store, which the trigger reads through the Airflow connection."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": runtime.store_url}}),
    )
    monkeypatch.delenv("AIRFLOW_CONN_PAR_PORTAL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_PAR_SMTP", raising=False)
    prepare(campaign, runtime)
    inbox_dir(campaign.id).mkdir(parents=True, exist_ok=True)
    return runtime


def _valid_nominees(campaign, folder) -> list:
    """A valid Appendix IV of every unit owning an area: one person per area (one in all for a unit that names
    exactly one), each file's arrival time now."""
    paths = []
    for code, areas in campaign.area_owners.items():
        unit = campaign.unit_by_code[code]
        plan = [",".join(areas)] if code in campaign.nominee_rules.exactly_one else areas
        rows = [
            [
                i,
                f"Nguyễn Văn {code} {i}",
                "Chuyên viên",
                "Văn phòng",
                covered,
                "0912345678",
                f"dau.moi{i}.{code.lower()}@hatinh.example",
                "",
                None,
            ]
            for i, covered in enumerate(plan, 1)
        ]
        path = write_xlsx(
            folder / f"PL4_{code}.xlsx",
            "PHỤ LỤC IV — DANH SÁCH CÔNG CHỨC ĐẦU MỐI",
            [("Đơn vị", f"{unit.name_vi} ({unit.code})")],
            sd.IV_COLUMNS,
            rows,
        )
        os.utime(path, (time.time(), time.time()))  # the simulated now
        paths.append(path)
    return paths


def test_a_deadline_passed_without_every_unit_hands_the_task_to_a_worker_which_ends_it_skipped(
    campaign, store
):
    sd.generate_inbox(campaign)  # STTTT never sends its list, STP's names three people for an area
    planted = [
        p.name for p in inbox_dir(campaign.id).rglob("PL[34]_*")
    ]  # the phase's files: Appendix IV and III
    deadline = campaign.deadline_at("nominees")
    with time_machine.travel(deadline - timedelta(seconds=4), tick=True):
        event = first_event(
            ComplianceTrigger(CAMPAIGN_FILE, "nominees", deadline.isoformat(), check_every=0.5)
        )
        assert type(event) is TriggerEvent
        assert event.payload == {"phase": "nominees", "deadline": deadline.isoformat()}
        with session_scope(store.store_url) as s:  # the trigger read no file
            assert s.scalars(select(ReceivedFile)).all() == []
        xcoms, reason = _resume_on_a_worker(event)
    result = xcoms["return_value"]
    assert result["complete"] is False and result["as_of"] == deadline.isoformat()
    # at the deadline: the unit that never sends, the one whose list names three people, the one whose list arrives
    # on 03/01/2024 (the worker judges as of the deadline)
    assert result["waiting_for"] == sorted(
        [sd.NOMINEES_NEVER_SENT, sd.NOMINEES_TOO_MANY[0], sd.NOMINEES_LATE]
    )
    assert reason == (
        f"Hạn nominees ({deadline.isoformat()}) đã qua: bảng Deadlines ghi Missed (vẫn còn đơn vị chưa "
        "hoàn thành)."
    )
    with session_scope(store.store_url) as s:  # the worker read the phase's files as of the deadline
        assert sorted(s.scalars(select(ReceivedFile.original_name))) == sorted(planted)


def test_the_store_completed_by_the_phase_sensor_while_it_watches_meets_the_deadline_within_seconds(
    campaign, store
):
    deadline = campaign.deadline_at("nominees")
    read = {}

    async def units_send_their_lists_and_the_sensor_reads_them():
        await asyncio.sleep(1.5)
        _valid_nominees(campaign, inbox_dir(campaign.id))
        while True:  # the phase sensor on a worker, woken again while a file is not finished yet
            await asyncio.sleep(0.5)
            if (await asyncio.to_thread(collect, campaign, store, "nominees"))["complete"]:
                break
        read["at"] = time.monotonic()

    with time_machine.travel(datetime(2023, 12, 27, 10, 0, tzinfo=HANOI), tick=True):
        event = first_event(
            ComplianceTrigger(CAMPAIGN_FILE, "nominees", deadline.isoformat(), check_every=0.5),
            during=units_send_their_lists_and_the_sensor_reads_them,
        )
    assert isinstance(event, TaskSuccessEvent)
    assert time.monotonic() - read["at"] < 15  # within seconds of the store saying so (check_every: 0.5 s)
    result = event.xcoms["return_value"]
    assert result["complete"] is True and result["waiting_for"] == []
    assert result["expected"] == len(campaign.area_owners)


def test_running_the_trigger_imports_no_intake_http_or_mail_code(campaign, store, tmp_path):
    """The triggerer's process, played by a fresh interpreter: the trigger judges the store until its deadline."""
    probe = """
import asyncio, json, sys
from datetime import UTC, datetime, timedelta
from par_index.airflow.triggers import ComplianceTrigger

async def first():
    deadline = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    async for event in ComplianceTrigger(sys.argv[1], "nominees", deadline, check_every=0.2).run():
        return sorted(event.payload)

payload = asyncio.run(first())
watched = ("par_index.intake", "par_index.service", "par_index.notify", "par_index.report", "requests", "smtplib",
           "openpyxl", "par_index.phases", "par_index.store.models")
print(json.dumps({"payload": payload, "imported": [m for m in watched if m in sys.modules]}))
"""
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(INCLUDE),
        "PAR_DATA_DIR": os.environ["PAR_DATA_DIR"],
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB": os.environ["AIRFLOW_CONN_PAR_CAMPAIGN_DB"],
    }
    out = subprocess.run(
        [sys.executable, "-c", probe, CAMPAIGN_FILE],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "payload": ["deadline", "phase"],
        "imported": ["par_index.phases", "par_index.store.models"],
    }


def test_the_task_defers_with_the_run_s_phase_and_deadline(campaign):
    from airflow.sdk.exceptions import TaskDeferred
    from par_index.airflow.dag_factory import build_campaign_dags

    dag = next(d for d in build_campaign_dags() if d.dag_id == f"{campaign.dag_id}_deadlines")
    task = dag.get_task("await_compliance")
    deadline = campaign.deadline_at("survey")
    run = SimpleNamespace(conf={"phase": "survey", "deadline": deadline.isoformat()}, run_id="survey")
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({"dag_run": run})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ComplianceTrigger)
    assert trigger.serialize() == (
        "par_index.airflow.triggers.ComplianceTrigger",
        {
            "campaign_file": CAMPAIGN_FILE,
            "phase": "survey",
            "deadline": deadline.isoformat(),
            "check_every": 5.0,
        },
    )
    with pytest.raises(TaskDeferred) as deferred:  # made by hand, without a deadline: the campaign file's
        task.execute({"dag_run": SimpleNamespace(conf=None, run_id="report")})
    assert deferred.value.trigger.deadline == campaign.deadline_at("report").isoformat()
    with pytest.raises(ValueError, match="không phải hạn"):
        task.execute({"dag_run": SimpleNamespace(conf={}, run_id="manual__2024")})


def test_a_missed_deadline_s_callback_mails_the_coordinators_as_of_the_deadline(
    campaign, store, sink, monkeypatch
):
    from par_index.airflow.callbacks import deadline_alert

    controller, folder = sink
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAR_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": controller.port}),
    )
    sd.generate_inbox(campaign)
    deadline = campaign.deadline_at("nominees")
    context = {
        "dag_run": {"run_id": "nominees", "conf": {"phase": "nominees"}},  # what the scheduler sends
        "deadline": {"id": "x", "deadline_time": deadline.astimezone(UTC).isoformat()},
    }
    result = json.loads(deadline_alert(CAMPAIGN_FILE, context=context))  # called by a worker, as is
    assert result["phase"] == "nominees" and result["alert"] == "due" and result["mail"] == {"sent": 1}
    assert (
        sd.NOMINEES_NEVER_SENT in result["late"] and sd.NOMINEES_LATE in result["late"]
    )  # CTHUE: 03/01/2024
    # reading the inbox first, it met the file with passwords: the coordinators hear of that too
    assert sorted(str(m["Subject"]).split("]")[0] for m in read_mails(folder)) == sorted(
        ["[Cảnh báo hạn — đã đến hạn", f"[{campaign.title_vi}"]
    )
    with session_scope(store.store_url) as s:
        [entry] = s.scalars(select(Notification).where(Notification.template == "deadline_alert")).all()
    coordinator = campaign.contacts.coordinators[0].email
    assert (entry.key, entry.rung) == (f"{campaign.id}:nominees:alert:due:{coordinator}", "alert-due")
