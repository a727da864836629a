"""The campaign DAG runs end to end under Airflow (``dag.test()`` on a fresh SQLite metadata DB)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from par_index.store import session_scope
from par_index.store.models import Notification, PhaseOutcome
from par_index_dev import mail_sink
from sqlalchemy import select
from support.databases import fresh_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The campaign DAG has no ``deadline=`` (its deadlines are runs of the deadlines DAG, which a replay of 2023 does not
# create: every deadline_* task is skipped), so dag.test() no longer meets Airflow 3.3.2's crash at the end of a
# successful run of a DAG with Deadline Alerts (apache/airflow#73428). The test judges the run by its task instances
# as stored in the metadata DB.
RUN = """
import json, sys, threading, time
sys.path.insert(0, {include!r})
sys.path.insert(0, {dev!r})
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from airflow.dag_processing.dagbag import DagBag
from airflow.models import TaskInstance
from airflow.utils.session import create_session
from par_index.campaign import load_campaign
from par_index_dev.sample_data import generate_inbox
campaign = load_campaign({campaign!r})
generate_inbox(campaign)
dag = DagBag(dag_folder={dags!r}).dags[campaign.dag_id]


# Every model imported and mapped before the leader's thread queries: a thread that configures the mappers while
# dag.test() still imports models deadlocks on the import lock.
import airflow.api.common.trigger_dag  # noqa: F401
from airflow.models import import_all_models
from airflow.models.hitl import HITLDetail
from airflow.models.trigger import handle_event_submit
from airflow.triggers.base import TriggerEvent
from airflow.utils import timezone
from sqlalchemy.orm import configure_mappers
import_all_models()
configure_mappers()


def leader():
    # SNV's leader approves the report. dag.test() has no api-server: this records the answer the way the REST
    # API's PATCH .../hitlDetails does (response on the HITL row, then the task resumes).
    while True:
        try:
            with create_session() as session:
                detail = session.scalar(select(HITLDetail).where(~HITLDetail.response_received))
                if detail is not None and str(detail.task_instance.state).endswith("awaiting_input"):
                    detail.responded_by = {{"id": "leader", "name": "Giám đốc Sở"}}
                    detail.responded_at = timezone.utcnow()
                    detail.chosen_options, detail.params_input = ["Phê duyệt"], {{"reason": ""}}
                    handle_event_submit(TriggerEvent(detail.as_resume_event_payload()),
                                        task_instance=detail.task_instance, session=session)
                    return
        except OperationalError:  # SQLite busy while dag.test() writes: ask again
            pass
        time.sleep(1)


threading.Thread(target=leader, daemon=True).start()
run = dag.test(logical_date=campaign.starts_at)
with create_session() as session:
    tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id)).all()
    print(json.dumps({{"run": str(run.state), "tasks": {{ti.task_id: str(ti.state) for ti in tis}}}}))
"""


@pytest.mark.slow
def test_campaign_dag_runs_end_to_end_with_dag_test(tmp_path, campaign):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "PAR_DATA_DIR": str(tmp_path / "data"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": fresh_database(tmp_path / "airflow", "airflow_meta"),
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB": json.dumps(
            {
                "conn_type": "generic",
                "extra": {"sqlalchemy_url": fresh_database(tmp_path / "data", "par_store")},
            }
        ),
    }
    sink = mail_sink.start(
        tmp_path / "mail"
    )  # the report is delivered by mail: a real SMTP server on loopback
    env["AIRFLOW_CONN_PAR_SMTP"] = json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": sink.port})
    subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300
    )
    script = RUN.format(
        include=str(ROOT / "include"),
        dev=str(ROOT / "dev"),
        campaign=str(ROOT / "include/campaigns/ha_tinh_2023.yaml"),
        dags=str(ROOT / "dags"),
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        sink.stop()
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    states = {task: state.rsplit(".", 1)[-1].lower() for task, state in result["tasks"].items()}
    assert len(states) == 16 and result["run"].rsplit(".", 1)[-1].lower() == "success", result
    deadlines = {f"deadline_{p}" for p in ("nominees", "survey", "self_scores", "report")}
    assert {states[t] for t in deadlines} == {"skipped"}, result  # 2023's deadlines have passed: no run made
    assert {s for t, s in states.items() if t not in deadlines} == {"success"}, result
    with session_scope(json.loads(env["AIRFLOW_CONN_PAR_CAMPAIGN_DB"])["extra"]["sqlalchemy_url"]) as s:
        closed = {o.phase: o.collection_failed for o in s.scalars(select(PhaseOutcome))}
        council = s.scalars(select(Notification).where(Notification.template == "council_notice")).all()
    # announce_council: each member of the appraisal council mailed once, at the campaign's start
    assert sorted((n.recipients[0], n.outcome) for n in council) == sorted(
        (m.email, "sent") for m in campaign.council.members
    )
    assert closed == {
        "nominees": False,
        "survey": False,
        "self_scores": False,
    }  # each close saw its sensor's result
    archive = tmp_path / "data" / "reports" / campaign.id / "luu_tru" / "lan_01"
    assert "Bảng điểm" in load_workbook(archive / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx").sheetnames
