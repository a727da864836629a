"""The deadlines DAG's own logic at simulated moments of the 2023 campaign: its task defers with the run's phase and
deadline; its trigger ends the task as success as soon as every unit has complied (a file dropped while it
watches is read within seconds) and as skipped once the deadline has passed without that; the missed deadline's
callback mails the coordinators "đã đến hạn", judged as of the deadline."""

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.triggers.base import TaskSkippedEvent, TaskSuccessEvent
from par_index import sample_data as sd
from par_index.airflow.triggers import ComplianceTrigger
from par_index.intake.writer import write_xlsx
from par_index.paths import CAMPAIGNS_DIR, inbox_dir
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import Notification
from sqlalchemy import select
from support.received_mail import read_mails
from support.trigger_events import first_event

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGN_FILE = str(CAMPAIGNS_DIR / "ha_tinh_2023.yaml")


@pytest.fixture
def store(campaign, runtime, monkeypatch):
    """The campaign prepared in the test's store, which the trigger reads through the Airflow connection."""
    monkeypatch.setenv("AIRFLOW_CONN_PAR_CAMPAIGN_DB", json.dumps(
        {"conn_type": "generic", "extra": {"sqlalchemy_url": runtime.store_url}}))
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
        rows = [[i, f"Nguyễn Văn {code} {i}", "Chuyên viên", "Văn phòng", covered, "0912345678",
                 f"dau.moi{i}.{code.lower()}@hatinh.example", "", None] for i, covered in enumerate(plan, 1)]
        path = write_xlsx(folder / f"PL4_{code}.xlsx", "PHỤ LỤC IV — DANH SÁCH CÔNG CHỨC ĐẦU MỐI",
                          [("Đơn vị", f"{unit.name_vi} ({unit.code})")],
                          ["STT", "Họ và tên", "Chức vụ", "Phòng/Ban", "Lĩnh vực phụ trách", "Điện thoại", "Email",
                           "Thành viên Hội đồng thẩm định", "Ghi chú"], rows)
        os.utime(path, (time.time(), time.time()))  # the simulated now
        paths.append(path)
    return paths


def test_a_deadline_passed_without_every_unit_ends_the_task_skipped(campaign, store):
    sd.generate_inbox(campaign)  # STTTT never sends its list, STP's names three people for an area
    deadline = campaign.deadline_at("nominees")
    with time_machine.travel(deadline - timedelta(seconds=4), tick=True):
        event = first_event(ComplianceTrigger(CAMPAIGN_FILE, "nominees", deadline.isoformat(), check_every=0.5))
    assert isinstance(event, TaskSkippedEvent)
    result = event.xcoms["return_value"]
    assert result["complete"] is False and result["as_of"] == deadline.isoformat()
    assert {sd.NOMINEES_NEVER_SENT, sd.NOMINEES_TOO_MANY[0]} <= set(result["waiting_for"])


def test_a_file_dropped_while_it_watches_is_read_within_seconds_and_the_deadline_is_met(campaign, store):
    deadline = campaign.deadline_at("nominees")
    dropped = {}

    async def units_send_their_lists():
        await asyncio.sleep(1.5)
        dropped["at"] = time.monotonic()
        _valid_nominees(campaign, inbox_dir(campaign.id))

    with time_machine.travel(datetime(2023, 12, 27, 10, 0, tzinfo=HANOI), tick=True):
        event = first_event(ComplianceTrigger(CAMPAIGN_FILE, "nominees", deadline.isoformat(), check_every=0.5),
                             during=units_send_their_lists)
    assert isinstance(event, TaskSuccessEvent)
    assert time.monotonic() - dropped["at"] < 15
    result = event.xcoms["return_value"]
    assert result["complete"] is True and result["waiting_for"] == []
    assert result["expected"] == len(campaign.area_owners)


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
    assert trigger.serialize() == ("par_index.airflow.triggers.ComplianceTrigger", {
        "campaign_file": CAMPAIGN_FILE, "phase": "survey", "deadline": deadline.isoformat(), "check_every": 2.0,
        "evaluate_every": 30.0})
    with pytest.raises(TaskDeferred) as deferred:  # made by hand, without a deadline: the campaign file's
        task.execute({"dag_run": SimpleNamespace(conf=None, run_id="report")})
    assert deferred.value.trigger.deadline == campaign.deadline_at("report").isoformat()
    with pytest.raises(ValueError, match="không phải hạn"):
        task.execute({"dag_run": SimpleNamespace(conf={}, run_id="manual__2024")})


def test_a_missed_deadline_s_callback_mails_the_coordinators_as_of_the_deadline(campaign, store, sink,
                                                                                monkeypatch):
    from par_index.airflow.callbacks import deadline_alert

    controller, folder = sink
    monkeypatch.setenv("AIRFLOW_CONN_PAR_SMTP", json.dumps({"conn_type": "smtp", "host": "127.0.0.1",
                                                            "port": controller.port}))
    sd.generate_inbox(campaign)
    deadline = campaign.deadline_at("nominees")
    context = {"dag_run": {"run_id": "nominees", "conf": {"phase": "nominees"}},  # what the scheduler sends
               "deadline": {"id": "x", "deadline_time": deadline.astimezone(UTC).isoformat()}}
    result = json.loads(asyncio.run(deadline_alert(CAMPAIGN_FILE, context=context)))
    assert result["phase"] == "nominees" and result["alert"] == "due" and result["mail"] == {"sent": 1}
    assert sd.NOMINEES_NEVER_SENT in result["late"] and sd.NOMINEES_LATE in result["late"]  # CTHUE: 03/01/2024
    # reading the inbox first, it met the file with passwords: the coordinators hear of that too
    assert sorted(str(m["Subject"]).split("]")[0] for m in read_mails(folder)) == sorted([
        "[Cảnh báo hạn — đã đến hạn", f"[{campaign.title_vi}"])
    with session_scope(store.store_url) as s:
        [entry] = s.scalars(select(Notification).where(Notification.template == "deadline_alert")).all()
    coordinator = campaign.contacts.coordinators[0].email
    assert (entry.key, entry.rung) == (f"{campaign.id}:nominees:alert:due:{coordinator}", "alert-due")
