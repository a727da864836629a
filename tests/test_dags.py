"""DAG integrity: every campaign file yields a DAG that imports cleanly, documents itself, and stays light."""

import json
import subprocess
import sys
import time
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from support.campaigns import CAMPAIGN_DAG_SUFFIXES, HA_TINH_2023

PHASES_COLLECTED = ("nominees", "survey", "self_scores")

ROOT = Path(__file__).resolve().parents[1]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors_and_one_dag_per_campaign_file(dagbag):
    assert dagbag.import_errors == {}
    campaign_ids = {
        f"par_{yaml.safe_load(p.read_text())['campaign']['province']['slug']}_"
        f"{yaml.safe_load(p.read_text())['campaign']['year']}"
        for p in (ROOT / "include" / "campaigns").glob("*.yaml")
    }
    # each campaign's DAG, its deadlines, feedback, import, rebuild, reminders, request and setup DAGs, and the on-demand reconciliation
    assert sorted(dagbag.dag_ids) == sorted(
        [f"{c}{suffix}" for c in campaign_ids for suffix in CAMPAIGN_DAG_SUFFIXES] + ["par_reconcile"]
    )


# Every DAG's and task's display name, in Vietnamese: the titles and dates of include/campaigns/ha_tinh_2023.yaml
# (its directive's deadline titles, its phases' titles).
DISPLAY_NAMES = {
    ("par_reconcile", None): "Đối chiếu phần mềm chấm điểm với báo cáo",
    ("par_reconcile", "reconcile"): "Đối chiếu và gửi bảng cần sửa",
    ("par_ha_tinh_2023", "announce_council"): "Thông báo nhiệm vụ cho thành viên Hội đồng thẩm định",
    ("par_ha_tinh_2023_rebuild_report", None): "Lập lại báo cáo — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_rebuild_report", "rebuild_report"): "Lập lại báo cáo từ kho dữ liệu",
    ("par_ha_tinh_2023_rebuild_report", "approve_report"): "Lãnh đạo Sở phê duyệt báo cáo",
    ("par_ha_tinh_2023_rebuild_report", "deliver_report"): "Gửi UBND tỉnh (hạn 20/01/2024)",
    ("par_ha_tinh_2023_import_catalogue", None): "Nạp Bảng 2 chính thức — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_import_catalogue", "import_catalogue"): "Nạp Bảng 2: xem thay đổi / áp dụng / xuất",
    ("par_ha_tinh_2023_setup", None): "Sổ thiết lập chiến dịch — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_setup", "setup_workbook"): "Sổ thiết lập: xuất, kiểm tra hoặc áp dụng",
    ("par_ha_tinh_2023_request", None): "Gửi yêu cầu — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_request", "store_request"): "Kiểm tra và lưu yêu cầu",
    ("par_ha_tinh_2023_request", "mail_request"): "Gửi thư yêu cầu đến đơn vị",
    ("par_ha_tinh_2023_feedback", None): "Trả lời người gửi tệp — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_feedback", "answer_senders"): "Đọc tệp mới và trả lời người gửi",
    ("par_ha_tinh_2023_reminders", None): "Nhắc việc — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_reminders", "send_notices"): "Gửi nhắc việc và thông báo đến hạn",
    ("par_ha_tinh_2023_reminders", "announce"): "Báo có điểm tự chấm mới (đối chiếu tự chạy)",
    ("par_ha_tinh_2023_deadlines", None): "Hạn của văn bản chỉ đạo — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023_deadlines", "await_compliance"): "Chờ mọi đơn vị hoàn thành trước hạn",
    ("par_ha_tinh_2023", None): "Chiến dịch Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    ("par_ha_tinh_2023", "prepare"): "Chuẩn bị: cơ sở dữ liệu, đơn vị, phân công",
    ("par_ha_tinh_2023", "deadline_nominees"): "Hạn: Cử công chức đầu mối (Phụ lục IV) (30/12/2023)",
    ("par_ha_tinh_2023", "deadline_survey"): (
        "Hạn: 100% lãnh đạo trả lời phiếu khảo sát xã hội học (31/12/2023)"
    ),
    ("par_ha_tinh_2023", "deadline_self_scores"): (
        "Hạn: Tự chấm điểm, tài liệu kiểm chứng và báo cáo (Phụ lục II) (16/01/2024)"
    ),
    ("par_ha_tinh_2023", "deadline_report"): (
        "Hạn: Sở Nội vụ trình UBND tỉnh báo cáo tự đánh giá (20/01/2024)"
    ),
    ("par_ha_tinh_2023", "collect_nominees"): "Thu nhận: Cử công chức đầu mối (Phụ lục IV) (hạn 30/12/2023)",
    ("par_ha_tinh_2023", "close_nominees"): "Khép lại: Cử công chức đầu mối (Phụ lục IV)",
    ("par_ha_tinh_2023", "collect_survey"): "Thu nhận: Trả lời phiếu khảo sát xã hội học (hạn 31/12/2023)",
    ("par_ha_tinh_2023", "close_survey"): "Khép lại: Trả lời phiếu khảo sát xã hội học",
    ("par_ha_tinh_2023", "collect_self_scores"): (
        "Thu nhận: Tự chấm điểm và báo cáo (Phụ lục II) (hạn 16/01/2024)"
    ),
    ("par_ha_tinh_2023", "close_self_scores"): "Khép lại: Tự chấm điểm và báo cáo (Phụ lục II)",
    ("par_ha_tinh_2023", "reconcile"): "Đối chiếu phần mềm với báo cáo",
    ("par_ha_tinh_2023", "assemble_report"): "Tổng hợp báo cáo tự đánh giá",
    ("par_ha_tinh_2023", "approve_report"): "Lãnh đạo Sở phê duyệt báo cáo",
    ("par_ha_tinh_2023", "deliver_report"): "Gửi UBND tỉnh (hạn 20/01/2024)",
}


def test_every_dag_and_task_is_documented_owned_and_retried(dagbag):
    names = {}
    for dag in dagbag.dags.values():
        assert dag.doc_md and dag.tags, dag.dag_id
        names[(dag.dag_id, None)] = dag.dag_display_name
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", task.task_id
            assert task.doc_md or task.doc, f"{task.task_id} has no docstring"
            names[(dag.dag_id, task.task_id)] = task.task_display_name
    assert names == DISPLAY_NAMES
    assert all(unicodedata.is_normalized("NFC", name) for name in names.values())
    # every task is retried (dag_factory's default_args): the on-demand reconciliation once, the phase sensors
    # three times (SENSOR_RETRIES: a failing check retried after one poke), every other task twice
    retries = {(dag.dag_id, task.task_id): task.retries for dag in dagbag.dags.values() for task in dag.tasks}
    sensors = {("par_ha_tinh_2023", f"collect_{phase}") for phase in ("nominees", "survey", "self_scores")}
    assert retries == {key: 3 if key in sensors else 1 if key[0] == "par_reconcile" else 2 for key in retries}


def test_campaign_dag_shape(dagbag, campaign):
    dag = dagbag.dags[campaign.dag_id]
    assert dag.start_date == campaign.starts_at
    for phase in ("nominees", "survey", "self_scores"):
        sensor = dag.get_task(f"collect_{phase}")
        assert (sensor.check_every, sensor.poke_interval) == (2.0, 300)  # lists the inbox; reads MoHA's feed
        assert dag.get_task(f"close_{phase}").upstream_task_ids == {f"collect_{phase}"}
    assert dag.get_task("reconcile").upstream_task_ids == {"close_self_scores"}
    assert dag.get_task("assemble_report").upstream_task_ids == {
        "close_nominees",
        "close_survey",
        "reconcile",
    }
    approve = dag.get_task("approve_report")
    assert approve.upstream_task_ids == {"assemble_report"} and approve.options == ["Phê duyệt", "Từ chối"]
    assert dag.get_task("deliver_report").upstream_task_ids == {"approve_report"}


def test_rebuild_dag_asks_the_leader_again_once_at_a_time(dagbag, campaign):
    """One Trigger after a rejection: a new build, the same approval and delivery as the campaign DAG's."""
    dag = dagbag.dags["par_ha_tinh_2023_rebuild_report"]
    assert (dag.schedule, dag.max_active_runs, dag.dag_display_name) == (
        None,
        1,
        "Lập lại báo cáo — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
    )
    assert {t.task_id: t.upstream_task_ids for t in dag.tasks} == {
        "rebuild_report": set(),
        "approve_report": {"rebuild_report"},
        "deliver_report": {"approve_report"},
    }
    approve = dag.get_task("approve_report")
    assert approve.options == ["Phê duyệt", "Từ chối"]
    assert approve.subject == dagbag.dags[campaign.dag_id].get_task("approve_report").subject


def test_a_second_campaign_file_yields_a_second_dag_without_code_change(tmp_path):
    from par_index.airflow.dag_factory import build_campaign_dags

    data = yaml.safe_load(HA_TINH_2023.read_text(encoding="utf-8"))
    data["campaign"].update(id="ha_tinh_2024", year=2024)
    data["directive"]["issued_on"] = "2024-12-20"
    for key, due in {
        "nominees": "2024-12-30",
        "survey": "2024-12-31",
        "self_scores": "2025-01-16",
        "report": "2025-01-20",
    }.items():
        data["deadlines"][key]["due"] = due
    (tmp_path / "ha_tinh_2023.yaml").write_text(HA_TINH_2023.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "ha_tinh_2024.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    dags = {d.dag_id: d for d in build_campaign_dags(tmp_path)}
    assert set(dags) == {
        "par_ha_tinh_2023",
        "par_ha_tinh_2024",
        "par_ha_tinh_2023_reminders",
        "par_ha_tinh_2024_reminders",
        "par_ha_tinh_2023_deadlines",
        "par_ha_tinh_2024_deadlines",
        "par_ha_tinh_2023_feedback",
        "par_ha_tinh_2023_rebuild_report",
        "par_ha_tinh_2023_import_catalogue",
        "par_ha_tinh_2024_feedback",
        "par_ha_tinh_2024_rebuild_report",
        "par_ha_tinh_2024_import_catalogue",
        "par_ha_tinh_2023_setup",
        "par_ha_tinh_2024_setup",
        "par_ha_tinh_2023_request",
        "par_ha_tinh_2024_request",
        "par_reconcile",
    }
    assert dags["par_ha_tinh_2024"].start_date.year == 2024
    assert dags["par_reconcile"].params.get_param("campaign").schema["enum"] == [
        "ha_tinh_2023",
        "ha_tinh_2024",
    ]


def test_reconcile_form_is_validated_and_runs_on_new_self_scores(dagbag, campaign):
    import copy

    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["par_reconcile"]
    assert dag.params.get_param("units").schema["items"]["enum"] == sorted(
        u.code for u in campaign.active_units
    )
    form = copy.deepcopy(dag.params)
    for key, value in {"units": ["STC"], "areas": ["6"], "tolerance": 0.05}.items():
        form[key] = value  # validated on assignment, as the trigger form does
    for key, value in {"units": ["XYZ"], "areas": ["9"], "tolerance": -1, "campaign": "ha_noi_2023"}.items():
        with pytest.raises(ParamValidationError):
            copy.deepcopy(dag.params)[key] = value
    # every task that announces new self-scores emits through one alias, onto the asset par_reconcile runs on
    from par_index.airflow.assets import SELF_SCORES, self_scores_asset

    announcing = {
        (d.dag_id, t.task_id) for d in dagbag.dags.values() for t in d.tasks if SELF_SCORES in t.outlets
    }
    assert announcing == {
        (f"{campaign.dag_id}_reminders", "announce"),
        (f"{campaign.dag_id}_feedback", "answer_senders"),
        (campaign.dag_id, "reconcile"),
        *(
            (campaign.dag_id, f"{step}_{phase}")
            for step in ("collect", "close")
            for phase in PHASES_COLLECTED
        ),
        ("par_reconcile", "reconcile"),
    }
    assert self_scores_asset(campaign).uri in {a.uri for a in dag.timetable.asset_condition.objects}


def test_feedback_dag_runs_on_the_inbox_watchers_events(dagbag, campaign):
    from par_index.airflow.feedback import InboxWatchTrigger

    dag = dagbag.dags[f"{campaign.dag_id}_feedback"]
    [asset] = dag.timetable.asset_condition.objects
    [watcher] = asset.watchers
    assert (asset.uri, watcher.name) == (f"par://{campaign.id}/inbox", f"{campaign.id}_inbox_watch")
    assert isinstance(watcher.trigger, InboxWatchTrigger)
    assert watcher.trigger.serialize() == (
        "par_index.airflow.feedback.InboxWatchTrigger",
        {"campaign_file": str(HA_TINH_2023), "check_every": 2.0, "refire_after": 60.0},
    )
    assert [t.task_id for t in dag.tasks] == ["answer_senders"] and dag.max_active_runs == 1


# Modules the scheduler's parse of a DAG file must not load (data frames, workbooks, Word, the store's models, the
# tasks' own code), and the one it does (the factory: a probe that loaded nothing would prove nothing).
HEAVY = (
    "pandas",
    "numpy",
    "openpyxl",
    "python_calamine",
    "docx",
    "docxtpl",
    "matplotlib",
    "par_index.store.models",
    "par_index.reconcile",
    "par_index.report",
    "par_index.intake",
    "par_index.service",
)
DAG_FILE_DAGS = {
    "par_campaigns.py": [
        "par_ha_tinh_2023",
        "par_ha_tinh_2023_deadlines",
        "par_ha_tinh_2023_feedback",
        "par_ha_tinh_2023_import_catalogue",
        "par_ha_tinh_2023_rebuild_report",
        "par_ha_tinh_2023_reminders",
        "par_ha_tinh_2023_request",
        "par_ha_tinh_2023_setup",
        "par_reconcile",
    ],
    "par_campaign_files.py": [],  # it only checks the campaign files (Import Errors); no DAG
}


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_fast_without_heavy_imports(dag_file, tmp_path):
    """Parsed in a fresh interpreter, as the dag-processor does: the DAG file defines exactly its DAGs, loads the
    factory and none of the heavy modules."""
    probe = f"""
import json, runpy, sys, time
import airflow.sdk
start = time.perf_counter()
namespace = runpy.run_path({str(dag_file)!r})
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds,
                  "dags": sorted(k for k, v in namespace.items() if isinstance(v, airflow.sdk.DAG) and k == v.dag_id),
                  "loaded": {{m: m in sys.modules for m in {HEAVY + ("par_index.airflow.dag_factory",)!r}}}}}))
"""
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(ROOT / "include"),
    }  # this checkout's library, whichever the environment points to
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\nparse time of {dag_file.name}: {result['seconds']:.3f} s (process {time.perf_counter() - started:.1f} s)"
    )
    assert result["dags"] == DAG_FILE_DAGS[dag_file.name]
    assert result["loaded"] == {**dict.fromkeys(HEAVY, False), "par_index.airflow.dag_factory": True}


def test_the_campaign_dag_carries_no_deadline_alert_and_creates_one_deadline_run_per_directive_deadline(
    dagbag, campaign
):
    """The campaign run lasts until the report: a Deadline Alert on it would read "Missed" at every moment. Each
    directive deadline is a run of the deadlines DAG instead, created right after ``prepare``, with the deadline in
    its conf and no logical date (a run with a future logical date is never scheduled); closing a phase never waits
    for it."""
    from par_index.airflow.deadlines import DeadlineRunOperator

    dag = dagbag.dags[campaign.dag_id]
    assert dag.deadline is None
    assert f"/dags/{campaign.dag_id}_deadlines" in dag.doc_md  # the coordinator's way to the panel
    made = {t.task_id: t for t in dag.tasks if isinstance(t, DeadlineRunOperator)}
    assert sorted(made) == sorted(f"deadline_{p}" for p in ("nominees", "survey", "self_scores", "report"))
    for phase in ("nominees", "survey", "self_scores", "report"):
        task = made[f"deadline_{phase}"]
        assert task.upstream_task_ids == {"prepare"} and task.downstream_task_ids == set()
        assert (task.trigger_dag_id, task.trigger_run_id, task.conf) == (
            f"{campaign.dag_id}_deadlines",
            phase,
            {"phase": phase, "deadline": campaign.deadline_at(phase).isoformat()},
        )
        assert (
            task.logical_date is None and task.wait_for_completion is False and task.skip_when_already_exists
        )
        assert task.fail_when_dag_is_paused  # a paused deadlines DAG would mark every deadline missed: say so
    for phase in ("nominees", "survey", "self_scores"):
        assert dag.get_task(f"close_{phase}").upstream_task_ids == {f"collect_{phase}"}


def test_the_deadlines_dag_has_one_alert_due_at_each_run_s_deadline(dagbag, campaign):
    from airflow.sdk import SyncCallback
    from par_index.airflow.deadline_reference import DirectiveDeadline
    from par_index.airflow.deadlines import AwaitComplianceOperator

    dag = dagbag.dags[f"{campaign.dag_id}_deadlines"]
    [alert] = dag.deadline
    assert isinstance(alert.reference, DirectiveDeadline) and alert.interval == timedelta(0)
    assert type(alert.callback) is SyncCallback  # run by a worker through the executor, not in the triggerer
    assert alert.callback.path == "par_index.airflow.callbacks.deadline_alert"
    assert alert.callback.kwargs == {"campaign_file": str(HA_TINH_2023)}
    assert dag.schedule is None and dag.is_paused_upon_creation is False
    assert (
        dag.max_active_runs == 4 and dag.dag_display_name == f"Hạn của văn bản chỉ đạo — {campaign.title_vi}"
    )
    [task] = dag.tasks
    assert isinstance(task, AwaitComplianceOperator) and task.campaign_file == str(HA_TINH_2023)
    assert f"/dags/{campaign.dag_id})" in dag.doc_md  # back to the campaign


def test_each_deadline_run_s_row_falls_due_at_the_deadline_in_its_conf(tmp_path):
    """What Airflow asks the reference when it creates a run (the API server, plugin par_deadlines)."""
    import importlib.util

    from airflow.serialization.encoders import encode_deadline_reference
    from par_index.airflow.deadline_reference import DirectiveDeadline
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    engine = create_engine(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE dag_run (id INTEGER PRIMARY KEY, dag_id TEXT, run_id TEXT, conf JSON)")
        )
        conn.execute(
            text(
                "INSERT INTO dag_run (dag_id, run_id, conf) VALUES ('d', 'survey', "
                '\'{"phase": "survey", "deadline": "2023-12-31T23:59:59+07:00"}\'), '
                "('d', 'manual', '{}')"
            )
        )
    with Session(engine) as session:
        due = DirectiveDeadline()._evaluate_with(session=session, dag_id="d", run_id="survey")
        assert due.isoformat() == "2023-12-31T23:59:59+07:00"
        assert DirectiveDeadline()._evaluate_with(session=session, dag_id="d", run_id="manual") is None
    encoded = encode_deadline_reference(DirectiveDeadline())
    assert encoded == {
        "reference_type": "hạn của văn bản chỉ đạo",  # the panel: "Must complete within … of" this
        "__class_path": "par_index.airflow.deadline_reference.DirectiveDeadline",
    }
    spec = importlib.util.spec_from_file_location(
        "par_deadlines_plugin", ROOT / "plugins" / "par_deadlines.py"
    )
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    assert plugin.ParDeadlinesPlugin.deadline_references == [DirectiveDeadline]  # what decodes __class_path


def test_a_deadline_already_passed_creates_no_run(dagbag, campaign):
    """Replaying 2023 today: each deadline_* task is skipped, saying why (a run created after its deadline would be
    marked missed at once)."""
    from airflow.sdk.exceptions import AirflowSkipException

    task = dagbag.dags[campaign.dag_id].get_task("deadline_nominees")
    with pytest.raises(AirflowSkipException, match="đã qua"):
        task.execute({})
