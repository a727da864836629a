"""The coordinator's "Nạp Bảng 2 chính thức" DAG: its form, and its task run as Airflow runs it (its callable,
reading the test's store through the Airflow connection): export, dry run, apply, a bad workbook."""

import json

import pytest
from airflow.sdk.exceptions import AirflowFailException
from openpyxl import load_workbook
from par_index.airflow.dag_factory import build_import_catalogue_dag
from par_index.catalogue import load_catalogue
from par_index.paths import setup_dir
from support.campaigns import HA_TINH_2023

CATALOGUE = "par_province_2022"


@pytest.fixture
def task(campaign, runtime, monkeypatch):
    """The DAG's only task, reading the test's store."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PAR_CAMPAIGN_DB",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": runtime.store_url}}),
    )
    dag = build_import_catalogue_dag(campaign, HA_TINH_2023)
    return dag.get_task("import_catalogue")


def test_dag_identity_and_form(campaign):
    dag = build_import_catalogue_dag(campaign, HA_TINH_2023)
    assert dag.dag_id == "par_ha_tinh_2023_import_catalogue"
    assert dag.dag_display_name == "Nạp Bảng 2 chính thức — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh"
    assert [t.task_display_name for t in dag.tasks] == ["Nạp Bảng 2: xem thay đổi / áp dụng / xuất"]
    assert dag.tags == {"par-index", "catalogue", "ha_tinh", "2023"}
    assert {k: dag.params[k] for k in dag.params} == {"file_name": "", "apply": False}
    assert type(dag.timetable).__name__ == "NullTimetable"  # manual only (schedule=None)


def test_export_then_dry_run_then_apply(task, campaign, data_dir):
    exported = task.python_callable(params={"file_name": "", "apply": False})
    path = setup_dir(campaign.id) / f"Bang2_hien_hanh_{CATALOGUE}.xlsx"
    assert exported["exported"] == str(path)
    book = load_workbook(path)
    ws = book["Bảng 2"]
    for row in ws.iter_rows(min_row=4):
        if row[0].value.startswith("6."):
            row[0].value = row[0].value.replace(".p", ".")  # area 6's official codes typed in
    book.save(setup_dir(campaign.id) / "Bang2_BNV.xlsx")

    dry = task.python_callable(params={"file_name": "Bang2_BNV.xlsx", "apply": False})
    assert (dry["applied"], dry["lines"][1]) == (False, "Đổi mã 6.p1 → 6.1.")
    assert "6.p1" in load_catalogue(CATALOGUE)

    applied = task.python_callable(params={"file_name": "Bang2_BNV.xlsx", "apply": True})
    assert applied["applied"] is True
    cat = load_catalogue(CATALOGUE)
    assert ("6.1" in cat, "6.p1" in cat, cat.official("6.p1.1")) == (True, False, "6.1.1")


def test_bad_workbook_fails_the_run_with_every_error(task, campaign, data_dir):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Bảng 2"
    book.active.append(["Mã", "Tên"])
    setup_dir(campaign.id).mkdir(parents=True)
    book.save(setup_dir(campaign.id) / "thieu_cot.xlsx")
    with pytest.raises(AirflowFailException) as caught:
        task.python_callable(params={"file_name": "thieu_cot.xlsx", "apply": True})
    assert str(caught.value) == (
        "[CAT021] Không nạp được Bảng 2 từ tệp thieu_cot.xlsx: 1 lỗi.\n"
        "[CAT021] trang 'Bảng 2': không tìm thấy dòng tiêu đề có các cột 'Mã', 'Tên', 'Điểm tối đa' (trong 20 dòng "
        "đầu)."
    )
