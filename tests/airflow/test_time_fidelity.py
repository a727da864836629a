"""Every time limit of every campaign's DAGs fits the campaign's own calendar (sensor timeouts, retry budgets,
run timeouts, the approval's response timeout), and a limit that does not is named with the date it would die."""

from datetime import date, timedelta

import pytest
import yaml
from par_index.airflow.dag_factory import build_campaign_dags
from par_index.airflow.time_fidelity import (
    Breach,
    check,
    check_campaign_dag,
    check_deadline_dag,
    check_reminder_dag,
)
from par_index.campaign import campaign_files, load_campaign
from par_index.paths import CAMPAIGNS_DIR
from par_index.phase_registry import COLLECTED
from support.campaigns import CAMPAIGN_DAG_SUFFIXES


def _dags(folder=None):
    dags = {d.dag_id: d for d in build_campaign_dags(folder)}
    campaigns = [load_campaign(p) for p in campaign_files(folder or CAMPAIGNS_DIR)]
    return dags, campaigns


def test_every_campaign_file_fits_its_calendar():
    dags, campaigns = _dags()
    assert [str(b) for b in check(list(dags.values()), campaigns)] == []
    assert len(campaigns) == len(list(CAMPAIGNS_DIR.glob("*.yaml")))  # every file was checked
    # the deadlines and reminders DAGs are checked too
    assert sorted(dags) == sorted(
        [f"{c.dag_id}{suffix}" for c in campaigns for suffix in CAMPAIGN_DAG_SUFFIXES] + ["par_reconcile"]
    )


def test_a_deadlines_dag_that_would_wait_paused_or_stop_early_is_named(campaign):
    """A paused deadlines DAG never starts its runs: every deadline would read Missed; a run timeout shorter than
    the calendar would end the last deadline's run before it."""
    dag = _dags()[0][f"{campaign.dag_id}_deadlines"]
    saved = dag.is_paused_upon_creation, dag.dagrun_timeout
    dag.is_paused_upon_creation, dag.dagrun_timeout = True, timedelta(days=7)
    try:
        breaches = check_deadline_dag(dag, campaign)
    finally:
        dag.is_paused_upon_creation, dag.dagrun_timeout = saved
    assert [(b.limit, b.dies_at, b.needed_until) for b in breaches] == [
        ("is_paused_upon_creation True", campaign.deadline_at("nominees"), campaign.deadline_at("report")),
        (
            "dagrun_timeout 604800 s (7 days, 0:00:00)",
            campaign.starts_at + timedelta(days=7),
            campaign.deadline_at("report"),
        ),
    ]


def test_sensors_live_from_the_campaign_start_to_their_deadline_plus_the_grace(campaign):
    dag = _dags()[0][campaign.dag_id]
    lifetimes = {p: dag.get_task(f"collect_{p}").timeout for p in COLLECTED}
    # 20/12/2023 00:00 → 30/12, 31/12/2023 and 16/01/2024 23:59:59, plus one day to close
    assert lifetimes == {
        "nominees": (11 * 86400 - 1) + 86400,
        "survey": (12 * 86400 - 1) + 86400,
        "self_scores": (28 * 86400 - 1) + 86400,
    }
    assert {dag.get_task(f"close_{p}").trigger_rule for p in COLLECTED} == {"all_done"}


def test_a_campaign_longer_than_today_s_still_fits(tmp_path, campaign):
    """A new campaign file whose calendar is longer (self-scoring over three months) gets limits that grow
    with it: nothing in the DAGs is a fixed number of days."""
    data = yaml.safe_load((CAMPAIGNS_DIR / "ha_tinh_2023.yaml").read_text(encoding="utf-8"))
    data["campaign"]["id"] = "ha_tinh_2030"
    data["campaign"]["year"] = 2030
    data["directive"]["issued_on"] = date(2030, 10, 1)
    data["deadlines"]["nominees"]["due"] = date(2030, 10, 20)
    data["deadlines"]["survey"]["due"] = date(2030, 10, 31)
    data["deadlines"]["self_scores"]["due"] = date(2031, 1, 16)
    data["deadlines"]["report"]["due"] = date(2031, 1, 31)
    (tmp_path / "ha_tinh_2030.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    dags, campaigns = _dags(tmp_path)
    assert check(list(dags.values()), campaigns) == []
    sensor = dags["par_ha_tinh_2030"].get_task("collect_self_scores")
    assert sensor.timeout == (date(2031, 1, 17) - date(2030, 10, 1)).total_seconds() - 1 + 86400
    approval = dags["par_ha_tinh_2030"].get_task("approve_report")
    assert approval.response_timeout == campaigns[0].lifetime


def test_a_hard_coded_default_is_named_with_the_day_it_would_die(campaign):
    dag = _dags()[0][campaign.dag_id]
    sensor = dag.get_task("collect_self_scores")
    original = sensor.timeout
    sensor.timeout = 604800.0  # Airflow's default sensor timeout: 7 days
    try:
        breaches = check_campaign_dag(dag, campaign)
    finally:
        sensor.timeout = original
    assert breaches == [
        Breach(
            campaign.dag_id,
            "collect_self_scores",
            "timeout 604800 s (7 days, 0:00:00)",
            campaign.starts_at + timedelta(days=7),
            campaign.deadline_at("self_scores") + timedelta(minutes=5),
        )
    ]
    assert str(breaches[0]) == (
        "par_ha_tinh_2023.collect_self_scores: timeout 604800 s (7 days, 0:00:00) → dừng "
        "lúc 27/12/2023 00:00, cần trong giới hạn 17/01/2024 00:04"
    )


def test_a_retry_budget_past_the_next_deadline_is_named(campaign):
    dag = _dags()[0][campaign.dag_id]
    closer = dag.get_task("close_nominees")
    saved = closer.retries, closer.retry_delay
    closer.retries, closer.retry_delay = (
        30,
        timedelta(hours=1),
    )  # 30 h of retries; the survey is due 24 h later
    try:
        breaches = check_campaign_dag(dag, campaign)
    finally:
        closer.retries, closer.retry_delay = saved
    assert [(b.task_id, b.dies_at, b.needed_until) for b in breaches] == [
        (
            "close_nominees",
            campaign.deadline_at("nominees") + timedelta(hours=30),
            campaign.deadline_at("survey"),
        )
    ]


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(None, "dagrun_timeout not set"), (timedelta(days=2), "dagrun_timeout 172800 s (2 days, 0:00:00)")],
)
def test_a_reminder_run_that_can_outlast_the_next_morning_is_named(campaign, timeout, expected):
    dag = _dags()[0][f"{campaign.dag_id}_reminders"]
    saved, dag.dagrun_timeout = dag.dagrun_timeout, timeout
    try:
        breaches = check_reminder_dag(dag, campaign)
    finally:
        dag.dagrun_timeout = saved
    assert [(b.limit, b.needed_until) for b in breaches] == [
        (expected, campaign.starts_at + timedelta(days=1))
    ]
