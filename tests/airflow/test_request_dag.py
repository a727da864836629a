"""The request DAG under Airflow (``dag.test()`` on a fresh SQLite metadata DB): a valid form is stored and mailed;
an invalid one fails the run, its log listing every problem in Vietnamese, and nothing is stored."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from par_index.store import session_scope
from par_index.store.models import Notification, RequestRow
from par_index.trial import write_trial
from par_index_dev import mail_sink
from sqlalchemy import select
from support.campaigns import HA_TINH_2023
from support.databases import fresh_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

RUN = """
import json, sys
sys.path.insert(0, {include!r})
sys.path.insert(0, {dev!r})
from sqlalchemy import select
from airflow.dag_processing.dagbag import DagBag
from airflow.models import TaskInstance
from airflow.utils.session import create_session
dag = DagBag(dag_folder={dags!r}).dags["par_ha_tinh_thu_nghiem_request"]
run = dag.test(run_conf={conf!r})
with create_session() as session:
    tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id)).all()
    print(json.dumps({{"run": str(run.state), "tasks": {{ti.task_id: str(ti.state) for ti in tis}}}}))
"""


def _state(value: str) -> str:
    return value.rsplit(".", 1)[-1].lower()


@pytest.mark.slow
def test_the_request_form_runs_under_airflow(tmp_path):
    """On the trial campaign dated from today (a request is due between today and the campaign's last deadline)."""
    trial = write_trial(HA_TINH_2023, tmp_path / "campaigns", date.today())
    store = fresh_database(tmp_path / "data", "par_store")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "PAR_DATA_DIR": str(tmp_path / "data"),
        "PAR_EXTRA_CAMPAIGNS_DIR": str(trial.parent),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": fresh_database(tmp_path / "airflow", "airflow_meta"),
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB": json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": store}}
        ),
    }
    sink = mail_sink.start(tmp_path / "mail")
    env["AIRFLOW_CONN_PAR_SMTP"] = json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": sink.port})
    subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300
    )
    due = (date.today() + timedelta(days=14)).isoformat()  # the trial's last deadline: today + 31 days
    good = {
        "requester": "cchc.snv@hatinh.example",
        "recipients": ["STC"],
        "kind": "budget",
        "criteria": "",
        "text": "Đề nghị Sở Tài chính phối hợp lập dự toán kinh phí.",
        "due": due,
        "attachment": None,
    }
    bad = good | {"requester": "ai.do@hatinh.example", "recipients": [], "due": "2020-01-02"}
    results = []
    try:
        for conf in (bad, good):
            script = RUN.format(
                include=str(ROOT / "include"), dev=str(ROOT / "dev"), dags=str(ROOT / "dags"), conf=conf
            )
            out = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
            )
            assert out.returncode == 0, out.stderr[-3000:]
            results.append((json.loads(out.stdout.strip().splitlines()[-1]), out.stdout + out.stderr))
    finally:
        sink.stop()
    (failed, log), (passed, _) = results
    assert _state(failed["run"]) == "failed"
    assert {t: _state(s) for t, s in failed["tasks"].items()} == {
        "store_request": "failed",
        "mail_request": "upstream_failed",
    }
    for line in (
        "[REQ001] Người yêu cầu: “ai.do@hatinh.example” không phải điều phối viên của chiến dịch",
        "[REQ002] Đơn vị nhận: chưa chọn đơn vị nhận.",
        "[REQ006] Hạn trả lời: ngày 02/01/2020 đã qua",
    ):
        assert line in log
    assert _state(passed["run"]) == "success"
    with session_scope(store) as s:
        rows = s.scalars(select(RequestRow)).all()
        mails = s.scalars(select(Notification).where(Notification.template == "request")).all()
    assert [(r.number, r.kind, r.requester_unit) for r in rows] == [
        (1, "budget", "SNV")
    ]  # the bad form stored nothing
    assert [(m.key, m.recipients, m.outcome) for m in mails] == [
        ("ha_tinh_thu_nghiem:request:YC-01:STC", ["stc@hatinh.example", "cchc.snv@hatinh.example"], "sent")
    ]
