"""DAG integrity: every campaign file yields a DAG that imports cleanly, documents itself, and stays light."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import HA_TINH_2023

ROOT = Path(__file__).resolve().parents[1]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors_and_one_dag_per_campaign_file(dagbag):
    assert dagbag.import_errors == {}
    campaign_ids = {f"par_{yaml.safe_load(p.read_text())['campaign']['province']['slug']}_"
                    f"{yaml.safe_load(p.read_text())['campaign']['year']}"
                    for p in (ROOT / "include" / "campaigns").glob("*.yaml")}
    assert campaign_ids <= set(dagbag.dag_ids)


def test_every_dag_and_task_is_documented_owned_and_retried(dagbag):
    for dag in dagbag.dags.values():
        assert dag.doc_md and dag.tags, dag.dag_id
        assert any(ord(c) > 127 for c in dag.dag_display_name), "display name must be Vietnamese"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", task.task_id
            assert task.retries >= 1, task.task_id
            assert task.doc_md or task.doc, f"{task.task_id} has no docstring"
            assert any(ord(c) > 127 for c in task.task_display_name), task.task_id


def test_campaign_dag_shape(dagbag, campaign):
    dag = dagbag.dags[campaign.dag_id]
    assert dag.start_date == campaign.starts_at
    for phase in ("nominees", "survey", "self_scores"):
        sensor = dag.get_task(f"collect_{phase}")
        assert sensor.mode == "reschedule"
        assert dag.get_task(f"close_{phase}").upstream_task_ids == {f"collect_{phase}"}
    assert dag.get_task("reconcile").upstream_task_ids == {"close_self_scores"}
    assert dag.get_task("assemble_report").upstream_task_ids == {"close_nominees", "close_survey", "reconcile"}
    approve = dag.get_task("approve_report")
    assert approve.upstream_task_ids == {"assemble_report"} and approve.options == ["Phê duyệt", "Từ chối"]
    assert dag.get_task("deliver_report").upstream_task_ids == {"approve_report"}


def test_a_second_campaign_file_yields_a_second_dag_without_code_change(tmp_path):
    from par_index.airflow.dag_factory import build_campaign_dags

    data = yaml.safe_load(HA_TINH_2023.read_text(encoding="utf-8"))
    data["campaign"].update(id="ha_tinh_2024", year=2024)
    data["directive"]["issued_on"] = "2024-12-20"
    for key, due in {"nominees": "2024-12-30", "survey": "2024-12-31", "self_scores": "2025-01-16",
                     "report": "2025-01-20"}.items():
        data["deadlines"][key]["due"] = due
    (tmp_path / "ha_tinh_2023.yaml").write_text(HA_TINH_2023.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "ha_tinh_2024.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    dags = {d.dag_id: d for d in build_campaign_dags(tmp_path)}
    assert set(dags) == {"par_ha_tinh_2023", "par_ha_tinh_2024", "par_ha_tinh_2023_reminders",
                         "par_ha_tinh_2024_reminders", "par_reconcile"}
    assert dags["par_ha_tinh_2024"].start_date.year == 2024
    assert dags["par_reconcile"].params.get_param("campaign").schema["enum"] == ["ha_tinh_2023", "ha_tinh_2024"]


def test_reconcile_form_is_validated_and_runs_on_new_self_scores(dagbag, campaign):
    import copy

    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["par_reconcile"]
    assert dag.params.get_param("units").schema["items"]["enum"] == sorted(u.code for u in campaign.active_units)
    form = copy.deepcopy(dag.params)
    for key, value in {"units": ["STC"], "areas": ["6"], "tolerance": 0.05}.items():
        form[key] = value  # validated on assignment, as the trigger form does
    for key, value in {"units": ["XYZ"], "areas": ["9"], "tolerance": -1, "campaign": "ha_noi_2023"}.items():
        with pytest.raises(ParamValidationError):
            copy.deepcopy(dag.params)[key] = value
    reminders = dagbag.dags[f"{campaign.dag_id}_reminders"]
    outlet = reminders.get_task("announce").outlets[0]
    assert outlet.uri == f"par://{campaign.id}/self_scores"
    assert outlet.uri in {a.uri for a in dag.timetable.asset_condition.objects}


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_fast_without_heavy_imports(dag_file, tmp_path):
    probe = f"""
import json, runpy, sys, time
import airflow.sdk
start = time.perf_counter()
runpy.run_path({str(dag_file)!r})
print(json.dumps({{"seconds": time.perf_counter() - start,
                  "heavy": sorted(m for m in ("pandas", "openpyxl", "python_calamine", "par_index.store.models")
                                  if m in sys.modules)}}))
"""
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nparse time of {dag_file.name}: {result['seconds']:.3f} s (process {time.perf_counter() - started:.1f} s)")
    assert result["heavy"] == []


def test_deadline_alerts_fire_at_the_campaign_s_alert_moments(dagbag, campaign):
    dag = dagbag.dags[campaign.dag_id]
    assert [(a.name, a.reference._datetime) for a in dag.deadline] == [
        (f"{phase}:{before or 'due'}", moment) for phase, before, moment in campaign.alert_moments()]
