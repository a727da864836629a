"""The whole campaign over the sample inbox, without a scheduler: phases, lateness, mismatches, the workbook.

Expected values are derived from the planted faults of ``par_index_dev.sample_data`` and from the generated files
themselves, never typed in."""

from collections import Counter
from decimal import Decimal

from openpyxl import load_workbook
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.runtime import Runtime
from par_index.service import run_campaign
from par_index.store import session_scope
from par_index.store.models import IntakeIssue, LateUnit, Mismatch, ReceivedFile
from par_index.text import vn_number
from par_index_dev import sample_data as sd
from par_index_dev.sample_data import generate_inbox
from sqlalchemy import select
from support.databases import fresh_database


def _rows(ws, first_row=2):
    return [r for r in ws.iter_rows(min_row=first_row, values_only=True) if any(v is not None for v in r)]


def _late(sample_run):
    with session_scope(sample_run.runtime.store_url) as s:
        return {(lu.phase, lu.unit_code): lu.reason for lu in s.scalars(select(LateUnit))}


def test_late_and_incomplete_units_match_the_planted_faults(sample_run):
    late = _late(sample_run)
    assert late[("nominees", sd.NOMINEES_NEVER_SENT)] == "missing"
    assert late[("nominees", sd.NOMINEES_TOO_MANY[0])] == "invalid"
    assert late[("nominees", sd.NOMINEES_LATE)] == "late"
    for unit in sd.SURVEY_INCOMPLETE:
        assert late[("survey", unit)] == "incomplete"
    assert late[("survey", sd.SURVEY_LATE_UNIT)] == "late"
    # the late unit also left ONLY_IN_REPORT off the software; the others' planted faults keep them from done
    assert sd.ONLY_IN_REPORT[0] == sd.SELF_SCORES_LATE
    self_scores_faulty = {sd.SELF_SCORES_LATE, sd.MISSING_EVIDENCE[0], *(u for u, _ in sd.SCORE_MISMATCHES)}
    for unit in self_scores_faulty:
        assert late[("self_scores", unit)] == "incomplete"
    planted = {
        ("nominees", sd.NOMINEES_NEVER_SENT),
        ("nominees", sd.NOMINEES_TOO_MANY[0]),
        ("nominees", sd.NOMINEES_LATE),
        ("survey", sd.SURVEY_LATE_UNIT),
    } | {("survey", u) for u in sd.SURVEY_INCOMPLETE}
    planted |= {("self_scores", u) for u in self_scores_faulty}
    assert set(late) == planted


def test_the_self_score_criticism_names_each_planted_fault(sample_run, campaign):
    with session_scope(sample_run.runtime.store_url) as s:
        detail = {
            lu.unit_code: lu.detail
            for lu in s.scalars(select(LateUnit).where(LateUnit.phase == "self_scores"))
        }
    owned = Counter(campaign.assignment_of.values())
    unit, code = sd.ONLY_IN_REPORT
    assert detail[unit] == (
        f"Phần mềm còn thiếu 1/{owned[unit]} tiêu chí: {code}; nộp báo cáo ngày 18/01/2024 (sau hạn)."
    )
    unit, code = sd.MISSING_EVIDENCE
    assert detail[unit] == f"1 tiêu chí trên phần mềm chưa có tài liệu kiểm chứng hay giải trình: {code}."
    for (unit, code), (report, portal) in sd.SCORE_MISMATCHES.items():
        assert detail[unit] == (
            f"Điểm trên phần mềm khác báo cáo ở 1 tiêu chí: {code} (báo cáo {vn_number(report)}, "
            f"phần mềm {vn_number(portal)})."
        )


def test_mismatches_match_the_planted_faults(sample_run):
    with session_scope(sample_run.runtime.store_url) as s:
        found = {(m.unit_code, m.criterion_code, m.category): m for m in s.scalars(select(Mismatch))}
    for (unit, code), (report, portal) in sd.SCORE_MISMATCHES.items():
        m = found[(unit, code, "value_differs")]
        assert (m.report_score, m.portal_score, m.difference) == (report, portal, portal - report)
    assert (*sd.ONLY_IN_REPORT, "only_report") in found
    assert (*sd.MISSING_EVIDENCE, "no_evidence") in found
    assert len(found) == len(sd.SCORE_MISMATCHES) + 2


def test_unreadable_file_is_set_aside_and_superseded_version_kept(sample_run):
    with session_scope(sample_run.runtime.store_url) as s:
        files = {f.original_name: f for f in s.scalars(select(ReceivedFile))}
    assert files[sd.UNREADABLE_FILE].status == "rejected"
    assert files[f"PL2_{sd.SUPERSEDED_REPORT_UNIT}_ban_dau.xlsx"].status == "superseded"
    assert files[f"PL2_{sd.SUPERSEDED_REPORT_UNIT}.xlsx"].status == "accepted"
    # every file sent is recorded: those still in the inbox, and the one moved out for its passwords
    assert sorted(files) == sorted(
        [p.name for p in (sample_run.data_dir / "inbox").rglob("*.*")] + [sd.PASSWORD_FILE]
    )
    assert len(list((sample_run.data_dir / "quarantine").rglob("*.xlsx"))) == 1


def test_workbook_total_equals_the_sum_of_the_accepted_reports(sample_run, campaign):
    expected = Decimal(0)
    for path in sorted((sample_run.data_dir / "inbox" / campaign.id).glob("PL2_*.xlsx")):
        if path.name.endswith("_ban_dau.xlsx"):
            continue
        expected += sum(r.score for r in parse_form(read_sheets(path), campaign).records)
    ws = load_workbook(sample_run.workbook)["Bảng điểm"]
    totals = {
        row[1]: row[4]
        for row in ws.iter_rows(values_only=True)
        if row[1] and str(row[1]).startswith("Tổng điểm")
    }
    [(label, value)] = totals.items()
    assert "68" in label
    assert Decimal(str(value)) == expected
    areas = {
        row[0]: row[4]
        for row in ws.iter_rows(min_row=6, values_only=True)
        if row[0] and "." not in str(row[0])
    }
    assert sum(Decimal(str(v)) for v in areas.values()) == expected


def test_workbook_shows_a_known_mismatch_late_unit_and_survey_rate(sample_run, campaign):
    wb = load_workbook(sample_run.workbook)
    (unit, code), (report, portal) = next(iter(sd.SCORE_MISMATCHES.items()))
    mismatch_rows = _rows(wb["Sai lệch"])
    assert (unit, code, "Điểm khác nhau", float(report), float(portal), float(portal - report)) in [
        r[:6] for r in mismatch_rows
    ]
    score_row = next(r for r in wb["Bảng điểm"].iter_rows(values_only=True) if r[0] == code)
    assert score_row[6] == "Không"
    late_rows = _rows(wb["Đơn vị chậm"])
    never_sent = sd.NOMINEES_NEVER_SENT
    assert [r[:5] for r in late_rows if r[2] == never_sent and r[0] == campaign.phase_title("nominees")] == [
        (
            campaign.phase_title("nominees"),
            "30/12/2023",
            never_sent,
            campaign.unit_by_code[never_sent].name_vi,
            "Không nộp",
        )
    ]
    survey = {r[0]: r for r in _rows(wb["Khảo sát"])}
    unit_code = "443"
    expected_people = survey[unit_code][2]
    missing = sd.SURVEY_INCOMPLETE[unit_code]
    assert survey[unit_code][3] == expected_people - missing
    assert survey[unit_code][4] == round(100 * (expected_people - missing) / expected_people, 1)
    assert survey["SNV"][4] == 100.0
    nominees = _rows(wb["Đầu mối"])
    assert (
        sum(1 for r in nominees if r[0] == sd.NOMINEES_TOO_MANY[0] and r[4] == sd.NOMINEES_TOO_MANY[1]) == 3
    )


def test_workbook_marks_provisional_entries(sample_run):
    ws = load_workbook(sample_run.workbook)["Bảng điểm"]
    assert "TẠM TÍNH" in ws["A3"].value
    provenance = {r[0]: r[10] for r in ws.iter_rows(min_row=6, values_only=True) if r[0]}
    assert provenance["2.p1"] == "Tạm tính" and provenance["2"] == "Đã xác nhận"


def test_rerun_is_idempotent(tmp_path, campaign, monkeypatch):
    """On its own data folder and store: the session's sample run, which the other tests read, stays untouched."""
    monkeypatch.setenv("PAR_DATA_DIR", str(tmp_path / "data"))
    generate_inbox(campaign)
    runtime = Runtime(fresh_database(tmp_path / "data", "store"))
    run_campaign(campaign, runtime)
    with session_scope(runtime.store_url) as s:
        before = (
            len(s.scalars(select(ReceivedFile)).all()),
            len(s.scalars(select(Mismatch)).all()),
            sorted((lu.phase, lu.unit_code) for lu in s.scalars(select(LateUnit))),
        )
    result = run_campaign(campaign, runtime)
    assert [result[f"collect_{p}"]["new_files"] for p in ("nominees", "survey", "self_scores")] == [0, 0, 0]
    with session_scope(runtime.store_url) as s:
        after = (
            len(s.scalars(select(ReceivedFile)).all()),
            len(s.scalars(select(Mismatch)).all()),
            sorted((lu.phase, lu.unit_code) for lu in s.scalars(select(LateUnit))),
        )
    assert after == before


def test_planted_intake_faults_are_reported_where_they_are(sample_run):
    with session_scope(sample_run.runtime.store_url) as s:
        files = {f.original_name: f for f in s.scalars(select(ReceivedFile))}
        issues = {
            (f.original_name, i.code, i.severity)
            for f, i in s.execute(
                select(ReceivedFile, IntakeIssue).join(IntakeIssue, IntakeIssue.file_id == ReceivedFile.id)
            )
        }
    password = files[sd.PASSWORD_FILE]
    assert (password.status, password.archived_as) == ("rejected", "")
    assert (sd.PASSWORD_FILE, "INT010", "error") in issues
    legacy = files[f"PL2_{sd.LEGACY_FONT_UNIT}.xlsx"]
    assert (legacy.status, legacy.unit_code) == ("accepted", sd.LEGACY_FONT_UNIT)
    assert (legacy.original_name, "INT015", "warning") in issues
    assert (f"PL4_{sd.NOMINEE_NOT_ON_COUNCIL}.xlsx", "INT045", "warning") in issues
    assert (f"PL2_{sd.MISSING_EVIDENCE[0]}.xlsx", "INT028", "warning") in issues
