"""The scoring software's exports and feed snapshots replace only what they cover (the units they hold, the areas
they state; every unit for a full snapshot), keep each row's status and time as given, and turn a score that is
not a number into a refused row that stays a finding of its unit."""

import os
from datetime import UTC, datetime
from decimal import Decimal

from par_index.intake.inbox import ingest, ingest_feed
from par_index.paths import inbox_dir
from par_index.phase_registry import REGISTRY
from par_index.service import prepare
from par_index.store import queries, session_scope
from par_index.store.models import IntakeIssue, ReceivedFile, Score
from par_index_dev.writer import write_csv, write_xlsx
from sqlalchemy import select

COLS = [
    "Mã đơn vị",
    "Mã tiêu chí",
    "Điểm tự đánh giá",
    "Số tài liệu kiểm chứng",
    "Trạng thái",
    "Cập nhật lúc",
]
SHEET = "Biểu mẫu"  # the sheet write_xlsx writes
ALL = [("Phạm vi", "Tất cả đơn vị")]
FULL_ROWS = [
    ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 09:30"],
    ["STP", "2.p1.2", "0,75", 2, "Chưa nộp", "13/01/2024 10:00"],
    ["SNV", "1.p1.1", "1", 2, "Đã nộp", "12/01/2024 08:00"],
    ["SNV", "4.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 08:05"],
    ["STTTT", "7.p1.1", "0,25", 1, "Đã nộp", "11/01/2024 15:00"],
    ["STTTT", "7.p1.2", "0,5", 1, "Đã nộp", "11/01/2024 15:05"],
]


def _drop(campaign, name, rows, header=None, day=14):
    """An export as SNV drops it (xlsx with a header block when ``header`` is given, else CSV), arrived on
    ``day``/01/2024 at 09:00 local time, then one inbox check."""
    folder = inbox_dir(campaign.id)
    if header is None:
        path = write_csv(folder / f"{name}.csv", COLS, rows)
    else:
        path = write_xlsx(folder / f"{name}.xlsx", "DỮ LIỆU XUẤT TỪ PHẦN MỀM", header, COLS, rows)
    when = datetime(2024, 1, day, 9, tzinfo=campaign.tz).timestamp()
    os.utime(path, (when, when))
    return path


def _check(rt, campaign):
    with session_scope(rt.store_url) as s:
        return ingest(s, campaign).results


def _portal(rt) -> list[tuple]:
    with session_scope(rt.store_url) as s:
        names = {f.id: f.original_name for f in s.scalars(select(ReceivedFile))}
        return sorted(
            (x.unit_code, x.criterion_code, str(x.score), x.status, names[x.file_id])
            for x in s.scalars(select(Score).where(Score.source == "portal"))
        )


def _files(rt) -> list[tuple]:
    with session_scope(rt.store_url) as s:
        names = {f.id: f.original_name for f in s.scalars(select(ReceivedFile))}
        return [
            (f.original_name, f.status, names.get(f.superseded_by), f.header)
            for f in s.scalars(select(ReceivedFile).order_by(ReceivedFile.id))
        ]


def test_a_one_unit_export_replaces_only_that_units_rows(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=14)
    _check(runtime, campaign)
    # SNV downloads only STTTT's rows: 7.p1.1 rescored, 7.p1.2 gone from the software, 7.p1.3 entered
    _drop(
        campaign,
        "sttt",
        [
            ["STTTT", "7.p1.1", "0,5", 2, "Đã nộp", "15/01/2024 16:00"],
            ["STTTT", "7.p1.3", "0,25", 1, "Chưa nộp", "15/01/2024 16:10"],
        ],
        day=15,
    )
    assert [(r.name, r.status) for r in _check(runtime, campaign)] == [("sttt.csv", "accepted")]
    assert _portal(runtime) == [
        ("SNV", "1.p1.1", "1.00", "submitted", "tat_ca.xlsx"),
        ("SNV", "4.p1.1", "0.50", "submitted", "tat_ca.xlsx"),
        ("STP", "2.p1.1", "0.50", "submitted", "tat_ca.xlsx"),
        ("STP", "2.p1.2", "0.75", "draft", "tat_ca.xlsx"),
        ("STTTT", "7.p1.1", "0.50", "submitted", "sttt.csv"),
        ("STTTT", "7.p1.3", "0.25", "draft", "sttt.csv"),
    ]
    # the full export still stands for the other units: both files are current
    assert _files(runtime) == [
        ("tat_ca.xlsx", "accepted", None, {"units": "all"}),
        ("sttt.csv", "accepted", None, {"units": ["STTTT"]}),
    ]


def test_a_full_snapshot_removes_rows_no_longer_on_the_software(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=14)
    _check(runtime, campaign)
    _drop(campaign, "sttt", [["STTTT", "7.p1.1", "0,5", 2, "Đã nộp", "15/01/2024 16:00"]], day=15)
    _check(runtime, campaign)
    _drop(
        campaign,
        "tat_ca_moi",
        [["STP", "2.p1.1", "0,75", 1, "Đã nộp", "16/01/2024 09:00"]],
        header=ALL,
        day=16,
    )
    _check(runtime, campaign)
    assert _portal(runtime) == [("STP", "2.p1.1", "0.75", "submitted", "tat_ca_moi.xlsx")]
    assert [(name, status, by) for name, status, by, _ in _files(runtime)] == [
        ("tat_ca.xlsx", "superseded", "tat_ca_moi.xlsx"),
        ("sttt.csv", "superseded", "tat_ca_moi.xlsx"),
        ("tat_ca_moi.xlsx", "accepted", None),
    ]


def test_an_export_without_a_scope_line_never_removes_units_it_does_not_hold(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=14)
    _check(runtime, campaign)
    # every row of STP and SNV, but not a word of STTTT: STTTT's rows stay
    _drop(campaign, "hai_don_vi", FULL_ROWS[:4], day=15)
    _check(runtime, campaign)
    assert [(u, c, f) for u, c, _, _, f in _portal(runtime)] == [
        ("SNV", "1.p1.1", "hai_don_vi.csv"),
        ("SNV", "4.p1.1", "hai_don_vi.csv"),
        ("STP", "2.p1.1", "hai_don_vi.csv"),
        ("STP", "2.p1.2", "hai_don_vi.csv"),
        ("STTTT", "7.p1.1", "tat_ca.xlsx"),
        ("STTTT", "7.p1.2", "tat_ca.xlsx"),
    ]


def test_an_export_stating_units_and_areas_replaces_only_those(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=14)
    _check(runtime, campaign)
    # SNV's area 1 only (SNV also owns area 4): 1.p1.1 gone, 1.p1.2 entered; a row of area 4 is refused
    _drop(
        campaign,
        "snv_lv1",
        [
            ["SNV", "1.p1.2", "0,5", 1, "Đã nộp", "15/01/2024 10:00"],
            ["SNV", "4.p1.1", "0", 0, "Đã nộp", "15/01/2024 10:05"],
        ],
        header=[("Đơn vị", "Sở Nội vụ"), ("Lĩnh vực", "1")],
        day=15,
    )
    results = _check(runtime, campaign)
    # title, 2 header lines (rows 2-3), a blank, titles on row 5: the area-4 row is row 7
    assert [(i.code, i.sheet, i.row, i.cell, i.message) for r in results for i in r.issues] == [
        (
            "INT055",
            SHEET,
            7,
            "B7",
            "4.p1.1 thuộc lĩnh vực 4, ngoài các lĩnh vực tệp nêu ở dòng phạm vi (1): dòng không được dùng.",
        )
    ]
    assert [(u, c, s, f) for u, c, s, _, f in _portal(runtime)] == [
        ("SNV", "1.p1.2", "0.50", "snv_lv1.xlsx"),
        ("SNV", "4.p1.1", "0.50", "tat_ca.xlsx"),
        ("STP", "2.p1.1", "0.50", "tat_ca.xlsx"),
        ("STP", "2.p1.2", "0.75", "tat_ca.xlsx"),
        ("STTTT", "7.p1.1", "0.25", "tat_ca.xlsx"),
        ("STTTT", "7.p1.2", "0.50", "tat_ca.xlsx"),
    ]
    assert _files(runtime)[1][3] == {"units": ["SNV"], "areas": ["1"]}


def test_an_older_export_arriving_late_changes_nothing_a_newer_one_holds(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=15)
    _check(runtime, campaign)
    _drop(campaign, "sttt_cu", [["STTTT", "7.p1.1", "0", 0, "Chưa nộp", "10/01/2024 16:00"]], day=13)
    _check(runtime, campaign)
    assert ("STTTT", "7.p1.1", "0.25", "submitted", "tat_ca.xlsx") in _portal(runtime)
    assert [(name, status, by) for name, status, by, _ in _files(runtime)] == [
        ("tat_ca.xlsx", "accepted", None),
        ("sttt_cu.csv", "superseded", "tat_ca.xlsx"),
    ]


def test_a_scope_line_naming_an_unknown_unit_refuses_the_file(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=14)
    _check(runtime, campaign)
    _drop(campaign, "sai", FULL_ROWS[:1], header=[("Đơn vị", "STP, Sở Du lịch")], day=15)
    results = _check(runtime, campaign)
    assert [(r.name, r.status) for r in results] == [("sai.xlsx", "rejected")]
    assert [(i.code, i.sheet, i.row, i.cell, i.message) for i in results[0].issues] == [
        (
            "INT054",
            SHEET,
            2,
            "B2",
            "Đơn vị “Sở Du lịch” ở dòng phạm vi không có trong chiến dịch: không rõ tệp thay thế dữ liệu của đơn "
            "vị nào nên tệp không được dùng. Sửa hoặc xóa dòng này rồi gửi lại.",
        )
    ]
    assert len(_portal(runtime)) == len(FULL_ROWS)


def test_a_score_that_is_not_a_number_is_a_refused_row_and_a_finding_of_its_unit(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "tat_ca", FULL_ROWS, header=ALL, day=14)
    _check(runtime, campaign)
    _drop(
        campaign,
        "moi",
        [
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "15/01/2024 09:30"],
            ["STP", "2.p1.2", "8,5đ", 2, "Đã nộp", "15/01/2024 10:00"],
            ["STTTT", "7.p1.1", "tám", 1, "Đã nộp", "15/01/2024 15:00"],
        ],
        day=15,
    )
    results = _check(runtime, campaign)
    assert [(r.name, r.status) for r in results] == [("moi.csv", "accepted")]
    expected = [
        (
            "INT013",
            "moi",
            3,
            "Điểm tự đánh giá",
            "C3",
            "STP",
            "2.p1.2",
            "“8,5đ” không phải là số. Điểm của STP cho 2.p1.2 trên phần mềm không được dùng.",
        ),
        (
            "INT013",
            "moi",
            4,
            "Điểm tự đánh giá",
            "C4",
            "STTTT",
            "7.p1.1",
            "“tám” không phải là số. Điểm của STTTT cho 7.p1.1 trên phần mềm không được dùng.",
        ),
    ]
    assert [
        (i.code, i.sheet, i.row, i.column, i.cell, i.unit, i.criterion, i.message) for i in results[0].issues
    ] == (expected)
    # STP and STTTT are covered: their earlier software rows are replaced (7.p1.2 is not in the file), the refused
    # rows are not stored; SNV's rows stay
    assert [(u, c, s) for u, c, s, _, _ in _portal(runtime)] == [
        ("SNV", "1.p1.1", "1.00"),
        ("SNV", "4.p1.1", "0.50"),
        ("STP", "2.p1.1", "0.50"),
    ]

    def findings():
        with session_scope(runtime.store_url) as s:
            return [
                (i.code, i.sheet, i.row, i.column, i.cell, i.unit_code, i.criterion_code, i.message)
                for i in queries.portal_refusals(s, campaign)
            ]

    assert findings() == expected
    # STP corrects 2.p1.2 on the software and SNV downloads STP's rows: STTTT's finding stays, STP's is gone
    _drop(campaign, "stp", [["STP", "2.p1.2", "0,5", 2, "Đã nộp", "16/01/2024 08:00"]], day=16)
    _check(runtime, campaign)
    assert findings() == expected[1:]
    with session_scope(runtime.store_url) as s:
        stored = s.scalars(select(IntakeIssue).where(IntakeIssue.code == "INT013")).all()
        assert [(i.unit_code, i.criterion_code) for i in stored] == [("STP", "2.p1.2"), ("STTTT", "7.p1.1")]


def test_status_and_update_time_are_stored_as_given(runtime, campaign):
    prepare(campaign, runtime)
    _drop(
        campaign,
        "xuat",
        [
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 09:30"],
            ["STP", "2.p1.2", "0,5", 1, "Chưa nộp", "17/01/2024 08:15"],  # a draft, entered after 16/01
            ["STP", "2.p1.3", "0,5", 1, "DA NOP", "16/01/2024 23:59"],
            ["STP", "2.p2.1", "0,5", 1, "", ""],  # no status: not submitted
            ["STP", "2.p2.2", "0,5", 1, "Đã duyệt", "12/01/2024 09:30"],  # not a status of the software
        ],
        header=ALL,
    )
    results = _check(runtime, campaign)
    assert [(i.code, i.row, i.cell, i.message) for i in results[0].issues] == [
        (
            "INT053",
            9,
            "E9",
            "Trạng thái “Đã duyệt” không hợp lệ: chỉ nhận “Đã nộp” hoặc “Chưa nộp”. Điểm của STP cho 2.p2.2 "
            "trên phần mềm không được dùng.",
        )
    ]
    with session_scope(runtime.store_url) as s:
        rows = {
            x.criterion_code: (x.status, x.updated_at)
            for x in s.scalars(select(Score).where(Score.source == "portal"))
        }
    assert rows == {
        "2.p1.1": ("submitted", datetime(2024, 1, 12, 2, 30, tzinfo=UTC)),  # 09:30 in Hà Tĩnh (UTC+7)
        "2.p1.2": ("draft", datetime(2024, 1, 17, 1, 15, tzinfo=UTC)),
        "2.p1.3": ("submitted", datetime(2024, 1, 16, 16, 59, tzinfo=UTC)),
        "2.p2.1": ("draft", None),
    }


def test_a_feed_snapshot_is_full_and_keeps_the_softwares_statuses(runtime, campaign):
    prepare(campaign, runtime)
    _drop(campaign, "sttt", [["STTTT", "7.p1.1", "0,5", 2, "Đã nộp", "10/01/2024 16:00"]], day=10)
    _check(runtime, campaign)
    feed = REGISTRY["self_scores"].feed
    rows = [
        ["STP", "2.p1.1", 0.75, 2, "Đã nộp", "2024-01-12T09:30:00+07:00"],
        ["STP", "2.p1.3", 0.5, 0, "Chưa nộp", "2024-01-17T10:02:00+07:00"],
    ]
    with session_scope(runtime.store_url) as s:
        result = ingest_feed(s, campaign, feed.name, feed.columns, rows, datetime(2024, 1, 18, 2, tzinfo=UTC))
    assert (result.status, result.issues) == ("accepted", [])
    with session_scope(runtime.store_url) as s:
        assert sorted(
            (x.unit_code, x.criterion_code, x.score, x.status, x.updated_at)
            for x in s.scalars(select(Score).where(Score.source == "portal"))
        ) == [
            ("STP", "2.p1.1", Decimal("0.75"), "submitted", datetime(2024, 1, 12, 2, 30, tzinfo=UTC)),
            ("STP", "2.p1.3", Decimal("0.50"), "draft", datetime(2024, 1, 17, 3, 2, tzinfo=UTC)),
        ]  # STTTT is no longer on the software: the feed asked for every unit
        assert [
            (f.original_name, f.status, f.header)
            for f in s.scalars(select(ReceivedFile).order_by(ReceivedFile.id))
        ] == [
            ("sttt.csv", "superseded", {"units": ["STTTT"]}),
            ("Phần mềm chấm điểm CCHC (18/01/2024 09:00)", "accepted", {"units": "all"}),
        ]
