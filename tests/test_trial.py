"""The trial campaign of ``make up``: generated from a bundled campaign file, dated from a given day, every deadline
at its distance from the directive, marked "thử nghiệm" in titles, DAGs, mail and report, read by the DAG
factory from the extra campaign folder, and forgotten cleanly when a new trial replaces it."""

import os
import shutil
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from par_index.campaign import PHASES, load_campaign
from par_index.trial import current_trial, forget_trial, trial_data, trial_id_for, write_trial
from support.campaigns import HA_TINH_2023
from support.databases import fresh_database

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 3, 9)  # a Monday; the 2023 directive was dated 20/12/2023


def test_trial_file_is_dated_from_today_and_keeps_every_deadline_offset(tmp_path, campaign):
    before = HA_TINH_2023.read_bytes()
    path = write_trial(HA_TINH_2023, tmp_path, TODAY, ui_base_url="http://localhost:18080")
    trial = load_campaign(path)
    assert HA_TINH_2023.read_bytes() == before  # the bundled file stays as it is
    assert path == tmp_path / "ha_tinh_thu_nghiem.yaml"
    assert (trial.id, trial.dag_id, trial.campaign.trial) == (
        "ha_tinh_thu_nghiem",
        "par_ha_tinh_thu_nghiem",
        True,
    )
    assert trial.directive.issued_on == TODAY
    assert trial.starts_at == datetime(2026, 3, 9, tzinfo=HCM)
    assert {p: trial.deadline_at(p) for p in PHASES} == {
        "nominees": datetime(2026, 3, 19, 23, 59, 59, tzinfo=HCM),  # 30/12/2023: 10 days after the directive
        "survey": datetime(2026, 3, 20, 23, 59, 59, tzinfo=HCM),  # 31/12/2023: 11 days
        "self_scores": datetime(2026, 4, 5, 23, 59, 59, tzinfo=HCM),  # 16/01/2024: 27 days
        "report": datetime(2026, 4, 9, 23, 59, 59, tzinfo=HCM),  # 20/01/2024: 31 days
    }
    assert {p: trial.deadline_at(p) - trial.starts_at for p in PHASES} == {
        p: campaign.deadline_at(p) - campaign.starts_at for p in PHASES
    }
    assert trial.ends_at - trial.starts_at == campaign.ends_at - campaign.starts_at
    assert trial.title_vi == "Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh (thử nghiệm)"
    assert campaign.title_vi == "Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh"
    assert trial.directive.title_vi == f"{campaign.directive.title_vi} (thử nghiệm)"
    assert trial.reminders.sensor_poke == "30s"
    assert trial.campaign.ui_base_url == "http://localhost:18080"
    # the same units stay active (their validity dates moved with the calendar): 448 ended 31/12/2024 in the source
    assert [u.code for u in trial.active_units] == [u.code for u in campaign.active_units]
    assert len(trial.active_units) == 41
    assert trial.units[-2].code == "448"
    assert (
        trial.units[-2].valid_until == date(2024, 12, 31) + (TODAY - date(2023, 12, 20)) == date(2027, 3, 21)
    )
    assert trial.assignment_of == campaign.assignment_of


def test_a_date_time_deadline_keeps_its_time_of_day(tmp_path):
    data = yaml.safe_load(HA_TINH_2023.read_text(encoding="utf-8"))
    data["deadlines"]["nominees"]["due"] = datetime(2023, 12, 30, 17, 0, tzinfo=HCM)
    source = tmp_path / "ha_tinh_2023.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shifted = trial_data(source, TODAY)
    assert shifted["deadlines"]["nominees"]["due"] == datetime(2026, 3, 19, 17, 0, tzinfo=HCM)
    assert shifted["deadlines"]["report"]["due"] == date(2026, 4, 9)


def test_a_trial_lives_until_its_last_reminder(tmp_path, campaign):
    path = write_trial(HA_TINH_2023, tmp_path, TODAY)
    trial = load_campaign(path)
    assert trial.ends_at == datetime(2026, 4, 13, 23, 59, 59, tzinfo=HCM)  # report due + 3 overdue days + 1
    assert path.name == "ha_tinh_thu_nghiem.yaml"  # named after the source's province (slug ha_tinh)
    assert current_trial(path, trial.starts_at).id == "ha_tinh_thu_nghiem"
    assert current_trial(path, trial.ends_at - timedelta(seconds=1)).id == "ha_tinh_thu_nghiem"
    assert current_trial(path, trial.ends_at) is None  # ended: make up writes a new one
    assert current_trial(tmp_path / "none.yaml", trial.starts_at) is None
    shutil.copy(HA_TINH_2023, tmp_path / "real.yaml")
    assert (
        current_trial(tmp_path / "real.yaml", campaign.starts_at) is None
    )  # a real campaign is never a trial


def test_dag_factory_builds_the_trial_dags_from_the_extra_folder(tmp_path, monkeypatch):
    from par_index.airflow.dag_factory import build_campaign_dags
    from par_index.campaign import campaign_files

    bundled = {d.dag_id for d in build_campaign_dags()}
    extra = tmp_path / "campaigns"
    path = write_trial(HA_TINH_2023, extra, TODAY)
    monkeypatch.setenv("PAR_EXTRA_CAMPAIGNS_DIR", str(extra))
    assert campaign_files()[-1] == path
    dags = {d.dag_id: d for d in build_campaign_dags()}
    assert set(dags) == bundled | {
        "par_ha_tinh_thu_nghiem",
        "par_ha_tinh_thu_nghiem_reminders",
        "par_ha_tinh_thu_nghiem_deadlines",
        "par_ha_tinh_thu_nghiem_feedback",
        "par_ha_tinh_thu_nghiem_rebuild_report",
        "par_ha_tinh_thu_nghiem_import_catalogue",
        "par_ha_tinh_thu_nghiem_setup",
        "par_ha_tinh_thu_nghiem_request",
    }
    dag = dags["par_ha_tinh_thu_nghiem"]
    assert dag.dag_display_name == "Chiến dịch Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh (thử nghiệm)"
    assert (
        dags["par_ha_tinh_thu_nghiem_reminders"].dag_display_name
        == "Nhắc việc — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh (thử nghiệm)"
    )
    assert "thử nghiệm" in dag.tags and "thử nghiệm" in dags["par_ha_tinh_thu_nghiem_reminders"].tags
    assert (
        dags["par_ha_tinh_thu_nghiem_deadlines"].dag_display_name
        == "Hạn của văn bản chỉ đạo — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh (thử nghiệm)"
    )
    assert "thử nghiệm" in dags["par_ha_tinh_thu_nghiem_deadlines"].tags
    assert dag.start_date == datetime(2026, 3, 9, tzinfo=HCM)
    assert dags["par_ha_tinh_thu_nghiem_reminders"].end_date == datetime(2026, 4, 13, 23, 59, 59, tzinfo=HCM)
    for phase in ("nominees", "survey", "self_scores"):
        sensor = dag.get_task(f"collect_{phase}")
        assert (sensor.campaign_file, sensor.poke_interval, sensor.check_every) == (str(path), 30, 2.0)
    assert "(thử nghiệm)" in dag.doc_md and "inbox/ha_tinh_thu_nghiem/" in dag.doc_md
    assert "ha_tinh_thu_nghiem" in dags["par_reconcile"].params.get_param("campaign").schema["enum"]
    monkeypatch.delenv("PAR_EXTRA_CAMPAIGNS_DIR")
    assert {d.dag_id for d in build_campaign_dags()} == bundled


def test_every_mail_subject_says_thu_nghiem(tmp_path, data_dir, campaign):
    """The start notices of the trial are those of the real campaign, each subject marked, with its dates moved."""
    from par_index.runtime import Runtime
    from par_index.service import prepare, send_notices
    from par_index.store import session_scope
    from par_index.store.models import Notification
    from par_index.text import vn_date
    from sqlalchemy import select

    trial = load_campaign(write_trial(HA_TINH_2023, tmp_path / "campaigns", TODAY))
    subjects = {}
    for c in (campaign, trial):
        rt = Runtime(fresh_database(data_dir, f"store_{c.id}"))
        prepare(c, rt)
        send_notices(c, rt, c.starts_at + timedelta(hours=8))  # the first morning: the start notices
        with session_scope(rt.store_url) as s:
            subjects[c.id] = sorted(s.scalars(select(Notification.subject)).all())
    moved = []
    for subject in subjects[campaign.id]:
        for phase in PHASES:
            subject = subject.replace(vn_date(campaign.deadline_at(phase)), vn_date(trial.deadline_at(phase)))
        moved.append(f"[Thử nghiệm] {subject}")
    assert len(subjects[campaign.id]) == 2 * len(
        campaign.area_owners
    )  # Appendix IV and II, to each area owner
    assert subjects[trial.id] == sorted(moved)


def test_forgetting_a_trial_deletes_its_rows_only(tmp_path, runtime, campaign):
    from par_index.paths import inbox_dir
    from par_index.service import collect, prepare
    from par_index.store import session_scope
    from par_index.store.models import Base, ReceivedFile, UnitRow
    from par_index_dev.sample_data import generate_inbox
    from sqlalchemy import func, select

    trial = load_campaign(write_trial(HA_TINH_2023, tmp_path / "campaigns", TODAY))
    prepare(campaign, runtime)
    prepare(trial, runtime)
    staging = generate_inbox(trial, tmp_path / "staging")
    inbox_dir(trial.id).mkdir(parents=True)
    arrived = shutil.copyfile(staging / "PL4_SNV.xlsx", inbox_dir(trial.id) / "PL4_SNV.xlsx")
    os.utime(arrived, (time.time() - 60, time.time() - 60))  # arrived a minute ago, whole
    result = collect(trial, runtime, "nominees", now=trial.starts_at + timedelta(days=1))
    assert result["new_files"] == 1
    with session_scope(runtime.store_url) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ReceivedFile)
                .where(ReceivedFile.campaign_id == trial.id, ReceivedFile.status == "accepted")
            )
            == 1
        )
    with session_scope(runtime.store_url) as s:
        files = select(ReceivedFile.id).where(ReceivedFile.campaign_id == trial.id).scalar_subquery()
        rows = {
            t.name: s.scalar(
                select(func.count())
                .select_from(t)
                .where(  # every row naming it or its files
                    t.c.campaign_id == trial.id if "campaign_id" in t.c else t.c.file_id.in_(files)
                )
            )
            for t in Base.metadata.sorted_tables
            if "campaign_id" in t.c or "file_id" in t.c
        }
    planted = 1 + sum(rows.values())  # and the campaign's own row
    assert {name: rows[name] for name in ("units", "assignments", "received_files")} == {
        "units": len(trial.active_units),
        "assignments": len(trial.assignment_of),
        "received_files": 1,
    }
    deleted = forget_trial(trial.id, runtime.store_url)
    assert deleted == planted
    with session_scope(runtime.store_url) as s:
        left = {
            t.name: s.scalar(select(func.count()).select_from(t).where(t.c.campaign_id == trial.id))
            for t in Base.metadata.sorted_tables
            if "campaign_id" in t.c
        }
        assert set(left.values()) == {0}
        assert s.scalar(
            select(func.count()).select_from(UnitRow).where(UnitRow.campaign_id == campaign.id)
        ) == len(campaign.active_units)
    assert forget_trial(trial.id, runtime.store_url) == 0


def test_the_report_says_thu_nghiem(tmp_path, runtime):
    from docx import Document
    from openpyxl import load_workbook
    from par_index.report.document import build_document, context
    from par_index.report.figures import compute
    from par_index.report.workbook import build_workbook
    from par_index.service import prepare
    from par_index.store import session_scope

    trial = load_campaign(write_trial(HA_TINH_2023, tmp_path / "campaigns", TODAY))
    prepare(trial, runtime)
    with session_scope(runtime.store_url) as s:
        figures = compute(s, trial, trial.deadline_at("report"))
        workbook = load_workbook(build_workbook(s, figures, tmp_path / "bao_cao.xlsx"))
    assert workbook.properties.title == "Báo cáo tự đánh giá Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh (thử nghiệm)"
    assert (
        workbook.worksheets[0]["A1"].value
        == "TỔNG HỢP KẾT QUẢ TỰ ĐÁNH GIÁ — CHỈ SỐ CCHC NĂM 2023 — TỈNH HÀ TĨNH (THỬ NGHIỆM)"
    )
    assert (
        workbook["Bảng điểm"]["A1"].value
        == "BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM — CHỈ SỐ CCHC NĂM 2023 — TỈNH HÀ TĨNH (THỬ NGHIỆM)"
    )
    opening = context(figures)["opening"]
    assert opening.startswith(
        "(Bản thử nghiệm, không có giá trị ban hành.) Thực hiện Văn bản số …/UBND-NC1 ngày 09/03/2026"
    )
    text = "\n".join(
        p.text for p in Document(str(build_document(figures, tmp_path / "bao_cao.docx"))).paragraphs
    )
    assert opening in text


def test_a_trial_is_named_after_its_source_s_province(tmp_path):
    data = yaml.safe_load(HA_TINH_2023.read_text(encoding="utf-8"))
    data["campaign"]["province"]["slug"] = "nghe_an"
    source = tmp_path / "nghe_an_2023.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert trial_data(source, TODAY)["campaign"]["id"] == trial_id_for("nghe_an") == "nghe_an_thu_nghiem"
    assert trial_data(source, TODAY, trial_id="thu_rieng")["campaign"]["id"] == "thu_rieng"
