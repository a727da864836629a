"""The campaign DAG runs end to end under Airflow (``dag.test()`` on a fresh SQLite metadata DB)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

RUN = """
import json, sys
sys.path.insert(0, {include!r})
from par_index.campaign import load_campaign
from par_index.sample_data import generate_inbox
from airflow.dag_processing.dagbag import DagBag
campaign = load_campaign({campaign!r})
generate_inbox(campaign)
dag = DagBag(dag_folder={dags!r}).dags[campaign.dag_id]
run = dag.test(logical_date=campaign.starts_at)
print(json.dumps({{"state": str(run.state), "tasks": {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}}}))
"""


@pytest.mark.slow
def test_campaign_dag_runs_end_to_end_with_dag_test(tmp_path, campaign):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "PAR_DATA_DIR": str(tmp_path / "data"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}"}
    env.pop("AIRFLOW_CONN_PAR_SMTP", None)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    script = RUN.format(include=str(ROOT / "include"), campaign=str(ROOT / "include/campaigns/ha_tinh_2023.yaml"),
                        dags=str(ROOT / "dags"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["state"].endswith("success"), result
    assert len(result["tasks"]) == 9
    assert {state.rsplit(".", 1)[-1].lower() for state in result["tasks"].values()} == {"success"}, result
    workbook = tmp_path / "data" / "reports" / campaign.id / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx"
    assert "Bảng điểm" in load_workbook(workbook).sheetnames
