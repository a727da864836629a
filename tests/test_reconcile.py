"""Reconciliation: a planted case for every category, scopes that replace only their own results, reruns."""

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook
from par_index import reconcile as reconcile_module
from par_index.notify import SmtpSettings
from par_index.paths import reports_dir
from par_index.reconcile import FRAME_COLUMNS, Rules, Scope, find_mismatches, reconcile
from par_index.runtime import Runtime
from par_index.service import prepare, reconcile_scores
from par_index.store import session_scope
from par_index.store.models import Mismatch, Notification, ReceivedFile, Reconciliation, Score
from par_index_dev import mail_sink
from sqlalchemy import select

SIGNED = datetime(2024, 1, 15, 16, 59, 59, tzinfo=UTC)


def _frame(rows):
    """rows: (unit, criterion, score, evidence, explanation, updated_at, duplicates) with defaults."""
    full = [(u, c, s, *rest, *(True, False, SIGNED, 1)[len(rest) :]) for u, c, s, *rest in rows]
    frame = pd.DataFrame(full, columns=FRAME_COLUMNS)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    return frame


PLANTED = {  # category → (report rows, portal rows, the key that must be found)
    "value_differs": ([("STC", "6.p1.2", 1.0)], [("STC", "6.p1.2", 0.75)], ("STC", "6.p1.2")),
    "only_portal": ([], [("STP", "2.p1.1", 0.5)], ("STP", "2.p1.1")),
    "only_report": ([("SKHDT", "8.p2.1", 3.0)], [], ("SKHDT", "8.p2.1")),
    "above_maximum": ([("STP", "2.p1.2", 1.0)], [("STP", "2.p1.2", 1.0)], ("STP", "2.p1.2")),
    "survey_self_scored": ([("STP", "2.p5.1", 1.5)], [], ("STP", "2.p5.1")),
    "not_assigned": ([], [("STP", "3.p1.1", 1.0)], ("STP", "3.p1.1")),
    "evidence_one_side": ([("SNV", "4.p1.1", 0.5, True)], [("SNV", "4.p1.1", 0.5, False)], ("SNV", "4.p1.1")),
    "no_evidence": (
        [("SNV", "5.p2.2", 0.5, False, False)],
        [("SNV", "5.p2.2", 0.5, False)],
        ("SNV", "5.p2.2"),
    ),
    "stale_report": (
        [("VPUBND", "3.p2.1", 0.5)],
        [("VPUBND", "3.p2.1", 0.5, True, False, SIGNED + timedelta(hours=20))],
        ("VPUBND", "3.p2.1"),
    ),
    "subtotal_inconsistent": (
        [("STTTT", "7.p1", 3.0), ("STTTT", "7.p1.1", 1.5), ("STTTT", "7.p1.2", 1.0)],
        [("STTTT", "7.p1.1", 1.5), ("STTTT", "7.p1.2", 1.0)],
        ("STTTT", "7.p1"),
    ),
    "duplicate_rows": (
        [("CTHUE", "8.p2.3", 3.0)],
        [("CTHUE", "8.p2.3", 3.0, True, False, SIGNED, 2)],
        ("CTHUE", "8.p2.3"),
    ),
}

# What each planted case tells the unit: its figures (Vietnamese decimal commas), the catalogue's maximum (0,75
# for 2.p1.2), the sum of 7.p1's parts (1,5 + 1 = 2,5), the portal's edit 20 h after the signature (19:59 local).
MESSAGES = {
    "above_maximum": "2.p1.2: điểm vượt tối đa 0,75 (báo cáo 1, phần mềm 1).",
    "duplicate_rows": "8.p2.3 có 2 dòng cho cùng đơn vị trên phần mềm: chỉ giữ một dòng.",
    "evidence_one_side": "4.p1.1: tài liệu kiểm chứng chỉ có trong báo cáo: bổ sung bên còn thiếu.",
    "no_evidence": "5.p2.2: không có tài liệu kiểm chứng và không có giải trình trong báo cáo.",
    "not_assigned": "3.p1.1 không giao cho STP: xóa điểm này khỏi báo cáo và phần mềm.",
    "only_portal": "2.p1.1: phần mềm có 0,5 điểm nhưng báo cáo không có: bổ sung vào báo cáo hoặc xóa trên phần mềm.",
    "only_report": "8.p2.1: báo cáo có 3 điểm nhưng phần mềm chưa có: cập nhật phần mềm.",
    "stale_report": "3.p2.1: phần mềm được sửa lúc 16/01/2024 19:59, sau khi ký báo cáo (15/01/2024): gửi lại báo cáo "
    "cho khớp.",
    "subtotal_inconsistent": "7.p1: tổng ghi 3 điểm trên báo cáo, cộng các mục con được 2,5.",
    "survey_self_scored": "2.p5.1 do Bộ Nội vụ chấm qua điều tra xã hội học: xóa điểm tự chấm (báo cáo 1,5).",
    "value_differs": "6.p1.2: báo cáo 1 điểm, phần mềm 0,75 điểm (chênh -0,25): sửa cho trùng khớp.",
}


@pytest.mark.parametrize("category", sorted(PLANTED))
def test_each_category_is_found_alone(campaign, category):
    report, portal, key = PLANTED[category]
    found = find_mismatches(_frame(report), _frame(portal), Rules.of(campaign))
    assert set(zip(found["unit"], found["criterion"], found["category"], strict=True)) == {(*key, category)}
    assert list(found["message"]) == [MESSAGES[category]]


@pytest.mark.parametrize("slots", ["every key", "sorted keys"])
def test_all_planted_cases_together_with_values(campaign, monkeypatch, slots):
    if slots == "sorted keys":  # the path taken when units × codes is too large to give every key a slot
        monkeypatch.setattr(reconcile_module, "DENSE_KEY_LIMIT", 0)
    report = _frame([r for rep, _, _ in PLANTED.values() for r in rep])
    portal = _frame([p for _, por, _ in PLANTED.values() for p in por])
    found = find_mismatches(report, portal, Rules.of(campaign))
    assert sorted(zip(found["unit"], found["criterion"], found["category"], strict=True)) == sorted(
        (*key, category) for category, (_, _, key) in PLANTED.items()
    )
    row = found[found["category"] == "value_differs"].iloc[0]
    assert (row.report_score, row.portal_score, row.difference) == (1.0, 0.75, -0.25)
    assert "chênh -0,25" in row.message


def test_tolerance_is_configurable(campaign):
    report, portal = _frame([("STC", "6.p1.2", 1.0)]), _frame([("STC", "6.p1.2", 0.75)])
    assert find_mismatches(report, portal, Rules.of(campaign), tolerance=0.3).empty
    assert len(find_mismatches(report, portal, Rules.of(campaign), tolerance=0.1)) == 1


def _store_scores(rt, campaign, rows, source, kind="test"):
    with session_scope(rt.store_url) as s:
        file = ReceivedFile(
            campaign_id=campaign.id,
            sha256=f"{source}{len(rows)}{datetime.now().timestamp()}",
            original_name="test",
            archived_as="",
            size_bytes=0,
            arrived_at=SIGNED,
            registered_at=SIGNED,
            form_kind=kind,
            status="accepted",
        )
        s.add(file)
        s.flush()
        for unit, code, score in rows:
            s.merge(
                Score(
                    campaign_id=campaign.id,
                    source=source,
                    unit_code=unit,
                    criterion_code=code,
                    score=Decimal(str(score)),
                    evidence="Số 1",
                    evidence_count=1,
                    updated_at=SIGNED,
                    file_id=file.id,
                )
            )


@pytest.fixture
def two_units(runtime, campaign):
    prepare(campaign, runtime)
    _store_scores(runtime, campaign, [("STC", "6.p1.2", 1.0), ("STP", "2.p1.1", 0.5)], "report")
    _store_scores(runtime, campaign, [("STC", "6.p1.2", 0.75), ("STP", "2.p1.1", 0.25)], "portal")
    with session_scope(runtime.store_url) as s:
        reconcile(s, campaign)
    return runtime


def _mismatches(rt):
    with session_scope(rt.store_url) as s:
        return {
            (m.unit_code, m.criterion_code, m.category): (m.id, m.portal_score)
            for m in s.scalars(select(Mismatch))
        }


def test_rerun_for_one_unit_changes_only_that_unit(two_units, campaign):
    before = _mismatches(two_units)
    with session_scope(two_units.store_url) as s:  # STC corrects the software
        s.scalar(select(Score).where(Score.source == "portal", Score.unit_code == "STC")).score = Decimal(
            "1.0"
        )
    with session_scope(two_units.store_url) as s:
        result = reconcile(s, campaign, Scope(units=("STC",)))
    after = _mismatches(two_units)
    assert result.rows_compared == 1 and result.equal == 1 and result.findings.empty
    assert after == {k: v for k, v in before.items() if k[0] == "STP"}  # STP's rows untouched, same ids


def test_rerun_of_the_same_scope_is_idempotent(two_units, campaign):
    before = {k: v[1] for k, v in _mismatches(two_units).items()}
    for _ in range(2):
        with session_scope(two_units.store_url) as s:
            reconcile(s, campaign)
    assert {k: v[1] for k, v in _mismatches(two_units).items()} == before
    with session_scope(two_units.store_url) as s:
        runs = s.scalars(select(Reconciliation)).all()
    assert len(runs) == 3 and runs[-1].counts == {"value_differs": 2} and runs[-1].rows_compared == 2


def test_area_scope_replaces_only_that_area(two_units, campaign):
    with session_scope(two_units.store_url) as s:
        reconcile(s, campaign, Scope(areas=("2",)), tolerance=Decimal("0.5"))
    assert set(_mismatches(two_units)) == {("STC", "6.p1.2", "value_differs")}


def test_units_receive_their_table_once_per_distinct_result(two_units, campaign, tmp_path):
    sink = mail_sink.start(tmp_path / "mail")
    try:
        rt = Runtime(two_units.store_url, SmtpSettings("127.0.0.1", sink.port))
        first = reconcile_scores(campaign, rt)
        again = reconcile_scores(campaign, rt)
        with session_scope(rt.store_url) as s:
            s.scalar(select(Score).where(Score.source == "portal", Score.unit_code == "STP")).score = Decimal(
                "0"
            )
        changed = reconcile_scores(campaign, rt, units=["STP"])
    finally:
        sink.stop()
    assert (
        first["mail"] == {"sent": 2}
        and again["mail"] == {"already_sent": 2}
        and changed["mail"] == {"sent": 1}
    )
    assert first["by_category"] == {"value_differs": 2} and first["largest"][0]["difference"] == -0.25
    book = load_workbook(reports_dir(campaign.id) / "doi_chieu" / "doi_chieu_STP.xlsx")["Cần sửa"]
    assert book["A5"].value == "2.p1.1" and book["C5"].value == "Điểm khác nhau" and book["E5"].value == 0.0
    with session_scope(rt.store_url) as s:
        notices = s.scalars(select(Notification).where(Notification.template == "mismatch_notice")).all()
    assert {n.recipients[0] for n in notices} == {
        campaign.unit_by_code["STC"].email,
        campaign.unit_by_code["STP"].email,
    }


def test_duplicates_and_stale_reports_come_through_intake(runtime, campaign):
    from par_index.intake.inbox import ingest
    from par_index.paths import inbox_dir
    from par_index_dev.writer import write_csv, write_xlsx

    prepare(campaign, runtime)
    write_xlsx(
        inbox_dir(campaign.id) / "pl2.xlsx",
        "PHỤ LỤC II",
        [("Đơn vị", "STP"), ("Ngày", "10/01/2024")],
        ["Mã tiêu chí", "Điểm tự chấm", "Tài liệu kiểm chứng"],
        [["2.p1.1", "0,5", "Số 1"]],
    )
    write_csv(
        inbox_dir(campaign.id) / "export.csv",
        [
            "Mã đơn vị",
            "Mã tiêu chí",
            "Điểm tự đánh giá",
            "Số tài liệu kiểm chứng",
            "Trạng thái",
            "Cập nhật lúc",
        ],
        [
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "09/01/2024 10:00"],
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 10:00"],
        ],
    )
    for path in inbox_dir(campaign.id).iterdir():  # sent a while ago: finished files
        os.utime(path, (path.stat().st_mtime - 60, path.stat().st_mtime - 60))
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
        found = reconcile(s, campaign).findings
    assert set(found["category"]) == {"duplicate_rows", "stale_report"}
    assert "12/01/2024 10:00" in found[found["category"] == "stale_report"].iloc[0]["message"]


def test_a_unit_whose_points_to_fix_are_gone_gets_a_correction_once(two_units, campaign, tmp_path):
    from support.received_mail import read_mails

    sink = mail_sink.start(tmp_path / "mail")
    try:
        rt = Runtime(two_units.store_url, SmtpSettings("127.0.0.1", sink.port))
        reconcile_scores(campaign, rt)  # both units told what to fix
        with session_scope(rt.store_url) as s:  # the whole export arrives: STC's software score was right
            s.scalar(select(Score).where(Score.source == "portal", Score.unit_code == "STC")).score = Decimal(
                "1.0"
            )
        cleared = reconcile_scores(campaign, rt)
        again = reconcile_scores(campaign, rt)
    finally:
        sink.stop()
    # STC's notice went to the unit's address only (no nominees here): one correction; STP's table still holds
    assert (cleared["mail"], again["mail"]) == ({"already_sent": 1, "sent": 1}, {"already_sent": 2})
    corrections = [m for m in read_mails(tmp_path / "mail") if str(m["Subject"]).startswith("[Đính chính")]
    with session_scope(rt.store_url) as s:
        first_notice = s.scalar(
            select(Notification.sent_at).where(
                Notification.template == "mismatch_notice", Notification.unit_code == "STC"
            )
        )
    stc = campaign.unit_by_code["STC"]
    assert [(str(m["To"]), str(m["Subject"])) for m in corrections] == [
        (
            stc.email,
            f"[Đính chính đối chiếu CCHC] {stc.name_vi}: bảng cần sửa gửi ngày "
            f"{first_notice.astimezone(campaign.tz):%d/%m/%Y %H:%M} không còn áp dụng",
        )
    ]


@pytest.mark.parametrize(
    ("requests", "scopes"),
    [
        ([("X", []), ("X", ["STC"])], {"X": ()}),  # every unit wins, in either order
        ([("X", ["STC"]), ("X", [])], {"X": ()}),
        ([("X", ["STC"]), ("Y", ["STP"])], {"X": ("STC",), "Y": ("STP",)}),  # one reconciliation per campaign
        ([("X", ["STP", "STC"]), ("X", ["STC", "SNV"])], {"X": ("SNV", "STC", "STP")}),  # the union
        ([("Y", ["STP"]), ("X", []), ("Y", ["STC"])], {"X": (), "Y": ("STC", "STP")}),
    ],
)
def test_merged_events_give_one_scope_per_campaign(requests, scopes):
    from par_index.reconcile import merge_requests

    assert merge_requests(requests) == scopes


def test_events_name_their_campaign_or_their_asset_s():
    from types import SimpleNamespace

    from airflow.sdk import Asset
    from par_index.airflow.dag_factory import self_scores_requests

    x, y = (
        Asset(name="x_self_scores", uri="par://x/self_scores"),
        Asset(name="y_self_scores", uri="par://y/self_scores"),
    )
    events = {
        x: [SimpleNamespace(extra={"campaign": "x", "units": ["STC"]}), SimpleNamespace(extra={})],
        y: [SimpleNamespace(extra={"units": ["STP"]})],
    }
    assert self_scores_requests(events) == [("x", ["STC"]), ("x", []), ("y", ["STP"])]


def test_units_stored_since_their_last_reconciliation(runtime, campaign):
    from par_index.reconcile import unreconciled_units

    prepare(campaign, runtime)
    # a software export naming no unit: its rows name them
    _store_scores(
        runtime, campaign, [("STC", "6.p1.2", 1.0), ("STP", "2.p1.1", 0.5)], "portal", "portal_export"
    )
    with session_scope(runtime.store_url) as s:
        assert unreconciled_units(s, campaign) == {"STC", "STP"}
        reconcile(s, campaign, Scope(units=("STP",)))
        assert unreconciled_units(s, campaign) == {"STC"}
        reconcile(s, campaign, Scope(areas=("6",)))  # an area's reconciliation does not cover the unit
        assert unreconciled_units(s, campaign) == {"STC"}
        reconcile(s, campaign, Scope(units=("STC",)))
        assert unreconciled_units(s, campaign) == frozenset()
