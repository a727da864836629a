"""Typed intake records: each form kind reads its good rows into records of its own type; a row with an error is
reported with its issue and never becomes a record, whatever the form and whatever the error."""

import dataclasses
import os
from datetime import datetime
from decimal import Decimal

import pytest
from par_index.intake.forms import ParsedForm, parse_form
from par_index.intake.inbox import ingest
from par_index.intake.issue import Issue
from par_index.intake.records import (
    RECORD_TYPES,
    NomineeRecord,
    PortalAccountRecord,
    PortalScoreRecord,
    ReportScoreRecord,
    SurveyProgressRecord,
    SurveyRosterRecord,
)
from par_index.intake.sheets import UnreadableFile, read_sheets
from par_index.paths import inbox_dir
from par_index.store import session_scope
from par_index.store.models import PortalAccount, Score, SurveyProgress, SurveyRespondent
from par_index_dev.writer import write_csv, write_xlsx
from sqlalchemy import select
from support.corpus import build

SHEET = "Biểu mẫu"  # the sheet write_xlsx writes
II_COLS = [
    "STT",
    "Mã tiêu chí",
    "Nội dung",
    "Điểm tối đa",
    "Điểm tự chấm",
    "Tài liệu kiểm chứng",
    "Giải trình",
]
STP = [("Đơn vị", "Sở Tư pháp (STP)"), ("Số", "12/BC-STP"), ("Ngày", "15/01/2024"), ("Người ký", "Lê Văn A")]
IV_COLS = ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Điện thoại", "Email"]
III_COLS = ["STT", "Đơn vị", "Mã đơn vị", "Tên đăng nhập", "Email"]
EXPORT_COLS = [
    "Mã đơn vị",
    "Mã tiêu chí",
    "Điểm tự đánh giá",
    "Số tài liệu kiểm chứng",
    "Trạng thái",
    "Cập nhật lúc",
]
ROSTER_COLS = ["STT", "Họ và tên", "Chức vụ", "Mã đơn vị", "Email", "Nhóm đối tượng"]
PROGRESS_COLS = ["Email", "Trạng thái", "Hoàn thành lúc", "Số câu đã trả lời", "Tổng số câu"]
VIET, KHOA = (
    ("Hoàng Hữu Việt", "viet.hh.hd.stp@hatinh.example"),
    ("Đặng Thị Khoa", "khoa.dt.hd.stp@hatinh.example"),
)


def _parse(path, campaign):
    return parse_form(read_sheets(path), campaign)


def _where(issue: Issue) -> tuple:
    return issue.code, issue.severity, issue.sheet, issue.row, issue.column, issue.cell


# ---- (a) one bad row among good ones: the exact records, typed, and the exact issue ----


def test_appendix_ii_wrong_maximum_row_is_reported_and_not_a_record(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "stp.xlsx",
        "PHỤ LỤC II",
        STP,
        II_COLS,
        [
            [1, "2.p1.1", "…", 0.75, 0.5, "Số 1/KH-UBND; Số 2/QĐ-UBND", None],
            [2, "2.p1.3", "…", 1.0, 0.5, "Số 3/KH-UBND", None],  # Table 2 gives 2.p1.3 a maximum of 0.5
            [3, "2.p1.2", "…", 0.75, "0,75", None, "Đang chờ số liệu"],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.unit_code, form.rejected) == (
        "appendix_ii",
        "STP",
        True,
    )  # a unit's form: all or nothing
    assert [_where(i) for i in form.issues] == [("INT021", "error", SHEET, 9, "Điểm tối đa", "D9")]
    assert "2.p1.3" in form.issues[0].message and "1.0" in form.issues[0].message
    assert form.records == (
        ReportScoreRecord(
            row=8,
            criterion="2.p1.1",
            score=Decimal("0.5"),
            evidence="Số 1/KH-UBND; Số 2/QĐ-UBND",
            evidence_count=2,
            explanation=None,
        ),
        ReportScoreRecord(
            row=10,
            criterion="2.p1.2",
            score=Decimal("0.75"),
            evidence=None,
            evidence_count=0,
            explanation="Đang chờ số liệu",
        ),
    )
    assert all(isinstance(r.score, Decimal) for r in form.records)


def test_appendix_iv_bad_phone_row_is_reported_and_not_a_record(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "pl4.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "STP")],
        IV_COLS,
        [
            [1, VIET[0], "Trưởng phòng", "2", "0912 345 678", VIET[1].upper()],
            [2, "Hồ Văn C", "Chuyên viên", "2", "12345", "c@hatinh.example"],
            [3, KHOA[0], "Chuyên viên", "2", "+84.987.654.321", KHOA[1]],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.unit_code, form.rejected) == ("appendix_iv", "STP", True)
    assert [_where(i) for i in form.issues] == [("INT043", "error", SHEET, 6, "Điện thoại", "E6")]
    assert "12345" in form.issues[0].message
    assert form.records == (
        NomineeRecord(
            row=5,
            name=VIET[0],
            position="Trưởng phòng",
            division=None,
            areas=("2",),
            phone="0912345678",
            email=VIET[1],
            council=False,
            note=None,
        ),
        NomineeRecord(
            row=7,
            name=KHOA[0],
            position="Chuyên viên",
            division=None,
            areas=("2",),
            phone="+84987654321",
            email=KHOA[1],
            council=False,
            note=None,
        ),
    )


def test_portal_export_row_whose_score_is_not_a_number_is_refused(tmp_path, campaign):
    path = write_csv(
        tmp_path / "xuat.csv",
        EXPORT_COLS,
        [
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 09:30"],
            [
                "STP",
                "2.p1.2",
                "nửa",
                1,
                "Đã nộp",
                "12/01/2024 09:30",
            ],  # was stored with no score before records
            ["SNV", "1.p1.1", "", "", "Chưa nộp", ""],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.rejected) == ("portal_export", False)
    assert [_where(i) for i in form.issues] == [("INT013", "error", "xuat", 3, "Điểm tự đánh giá", "C3")]
    assert "nửa" in form.issues[0].message
    assert form.records == (
        PortalScoreRecord(
            row=2,
            unit="STP",
            criterion="2.p1.1",
            score=Decimal("0.5"),
            evidence_count=1,
            status="submitted",
            updated_at=datetime(2024, 1, 12, 9, 30, tzinfo=campaign.tz),
        ),
        PortalScoreRecord(
            row=4,
            unit="SNV",
            criterion="1.p1.1",
            score=None,
            evidence_count=None,
            status="draft",
            updated_at=None,
        ),
    )
    assert form.records[0].updated_at.utcoffset().total_seconds() == 7 * 3600


def test_appendix_iii_row_of_an_unknown_unit_is_refused(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "pl3.xlsx",
        "PHỤ LỤC III",
        [],
        III_COLS,
        [
            [1, "Sở Tư pháp", "STP", "stp.cchc", "A@Hatinh.example"],
            [2, "Sở Du lịch", "SDL", "sdl.cchc", "b@hatinh.example"],
            [3, "Sở Nội vụ", "snv", "snv.cchc", None],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.rejected) == ("appendix_iii", False)
    assert [_where(i) for i in form.issues] == [("INT050", "error", SHEET, 5, "Mã đơn vị", "C5")]
    assert "SDL" in form.issues[0].message
    assert form.records == (
        PortalAccountRecord(
            row=4, unit="STP", login="stp.cchc", scope="", manager="", email="a@hatinh.example"
        ),
        PortalAccountRecord(row=6, unit="SNV", login="snv.cchc", scope="", manager="", email=""),
    )


def test_survey_roster_row_with_a_bad_email_is_refused(tmp_path, campaign):
    path = write_csv(
        tmp_path / "ds.csv",
        ROSTER_COLS,
        [
            [1, "Lê Văn A", "Giám đốc", "STP", "a@hatinh.example", "Lãnh đạo"],
            [2, "Lê Văn B", "Phó Giám đốc", "STP", "b(at)hatinh", "Lãnh đạo"],
            [3, "Trần Thị C", "", "SNV", "C@Hatinh.Example", "Công chức"],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.rejected) == ("survey_roster", False)
    assert [_where(i) for i in form.issues] == [("INT042", "error", "ds", 3, "Email", "E3")]
    assert "b(at)hatinh" in form.issues[0].message
    assert form.records == (
        SurveyRosterRecord(
            row=2,
            name="Lê Văn A",
            position="Giám đốc",
            unit="STP",
            email="a@hatinh.example",
            group="Lãnh đạo",
        ),
        SurveyRosterRecord(
            row=4, name="Trần Thị C", position="", unit="SNV", email="c@hatinh.example", group="Công chức"
        ),
    )


def test_survey_progress_row_whose_count_is_not_a_number_is_refused(tmp_path, campaign):
    path = write_csv(
        tmp_path / "td.csv",
        PROGRESS_COLS,
        [
            ["a@hatinh.example", "Đã hoàn thành", "28/12/2023 10:00", 40, 40],
            ["b@hatinh.example", "Đang trả lời", "", "ba", 40],
            ["C@hatinh.example", "Đang trả lời", "", 12, 40],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.rejected) == ("survey_progress", False)
    assert [_where(i) for i in form.issues] == [("INT013", "error", "td", 3, "Số câu đã trả lời", "D3")]
    assert form.records == (
        SurveyProgressRecord(
            row=2,
            email="a@hatinh.example",
            status="completed",
            answered=40,
            total=40,
            completed_at=datetime(2023, 12, 28, 10, tzinfo=campaign.tz),
        ),
        SurveyProgressRecord(
            row=4, email="c@hatinh.example", status="in_progress", answered=12, total=40, completed_at=None
        ),
    )


# ---- (b) no path makes a record of a row with an error: every form kind, every row-level error ----


def _ii(tmp_path, bad):
    good = [[1, "2.p1.1", "…", 0.75, 0.5, "Số 1", None], [3, "2.p1.2", "…", 0.75, 0.75, "Số 2", None]]
    return write_xlsx(tmp_path / "f.xlsx", "PHỤ LỤC II", STP, II_COLS, [good[0], [2, *bad], good[1]]), [8, 10]


def _iv(tmp_path, bad):
    return write_xlsx(
        tmp_path / "f.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "STP")],
        IV_COLS,
        [
            [1, VIET[0], "Trưởng phòng", "2", "0912345678", VIET[1]],
            [2, *bad],
            [3, KHOA[0], "Chuyên viên", "2", None, KHOA[1]],
        ],
    ), [5, 7]


def _iii(tmp_path, bad):
    return write_xlsx(
        tmp_path / "f.xlsx",
        "PHỤ LỤC III",
        [],
        III_COLS,
        [
            [1, "Sở Tư pháp", "STP", "stp.cchc", "a@hatinh.example"],
            [2, *bad],
            [3, "Sở Nội vụ", "SNV", "snv.cchc", "c@hatinh.example"],
        ],
    ), [4, 6]


def _export(tmp_path, bad):
    return write_csv(
        tmp_path / "f.csv",
        EXPORT_COLS,
        [
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 09:30"],
            bad,
            ["SNV", "1.p1.1", "1", 2, "Chưa nộp", "13/01/2024 10:00"],
        ],
    ), [2, 4]


def _roster(tmp_path, bad):
    return write_csv(
        tmp_path / "f.csv",
        ROSTER_COLS,
        [
            [1, "Lê Văn A", "Giám đốc", "STP", "a@hatinh.example", "Lãnh đạo"],
            [2, *bad],
            [3, "Trần Thị C", "Chuyên viên", "SNV", "c@hatinh.example", "Công chức"],
        ],
    ), [2, 4]


def _progress(tmp_path, bad):
    return write_csv(
        tmp_path / "f.csv",
        PROGRESS_COLS,
        [
            ["a@hatinh.example", "Đã hoàn thành", "28/12/2023 10:00", 40, 40],
            bad,
            ["c@hatinh.example", "Chưa trả lời", "", 0, 40],
        ],
    ), [2, 4]


BAD_ROWS = [  # (form kind, builder, the bad row, the error it carries, its column letter)
    ("appendix_ii", _ii, ["9.p9.9", "…", 0.75, 0.5, "Số 9", None], "INT020", "B"),
    ("appendix_ii", _ii, ["2.p1.3", "…", 1.0, 0.5, "Số 9", None], "INT021", "D"),
    ("appendix_ii", _ii, ["2.p1.1", "…", 0.75, 0.25, "Số 9", None], "INT022", "B"),
    ("appendix_ii", _ii, ["2.p5.1", "…", 1.5, 1.0, "Số 9", None], "INT023", "E"),
    ("appendix_ii", _ii, ["3.p1.1", "…", 1.0, 0.5, "Số 9", None], "INT024", "B"),
    ("appendix_ii", _ii, ["2.p1.3", "…", 0.5, None, "Số 9", None], "INT025", "E"),
    ("appendix_ii", _ii, ["2.p1.3", "…", 0.5, 0.75, "Số 9", None], "INT026", "E"),
    ("appendix_ii", _ii, ["2.p1.3", "…", 0.5, 0.3, "Số 9", None], "INT027", "E"),
    ("appendix_ii", _ii, ["2.p1.3", "…", 0.5, "một nửa", "Số 9", None], "INT013", "E"),
    ("appendix_ii", _ii, ["2.p1.3", "…", "nửa điểm", 0.5, "Số 9", None], "INT013", "D"),
    ("appendix_iv", _iv, ["Hồ Văn C", None, "2", "0912345679", "c@hatinh.example"], "INT041", "C"),
    ("appendix_iv", _iv, ["Hồ Văn C", "Chuyên viên", "2", "0912345679", "c-at-hatinh"], "INT042", "F"),
    ("appendix_iv", _iv, ["Hồ Văn C", "Chuyên viên", "2", "12345", "c@hatinh.example"], "INT043", "E"),
    ("appendix_iv", _iv, ["Hồ Văn C", "Chuyên viên", "2,3", "0912345679", "c@hatinh.example"], "INT044", "D"),
    ("appendix_iii", _iii, ["Sở Du lịch", "SDL", "sdl.cchc", "b@hatinh.example"], "INT050", "C"),
    ("portal_export", _export, ["SXYZ", "2.p1.2", "0,5", 1, "Đã nộp", "12/01/2024 09:30"], "INT050", "A"),
    ("portal_export", _export, ["STP", "2.p9.9", "0,5", 1, "Đã nộp", "12/01/2024 09:30"], "INT020", "B"),
    ("portal_export", _export, ["STP", "2.p1.2", "nửa", 1, "Đã nộp", "12/01/2024 09:30"], "INT013", "C"),
    ("portal_export", _export, ["STP", "2.p1.2", "0,5", "một", "Đã nộp", "12/01/2024 09:30"], "INT013", "D"),
    ("portal_export", _export, ["STP", "2.p1.2", "0,5", 1, "Đã nộp", "hôm qua"], "INT051", "F"),
    (
        "survey_roster",
        _roster,
        ["Lê Văn B", "Phó Giám đốc", "SXYZ", "b@hatinh.example", "Lãnh đạo"],
        "INT050",
        "D",
    ),
    ("survey_roster", _roster, ["Lê Văn B", "Phó Giám đốc", "STP", "b(at)hatinh", "Lãnh đạo"], "INT042", "E"),
    (
        "survey_roster",
        _roster,
        ["Lê Văn A", "Giám đốc", "STP", "A@hatinh.example", "Lãnh đạo"],
        "INT052",
        "E",
    ),
    (
        "survey_roster",
        _roster,
        ["Sá»Ÿ", "Phó Giám đốc", "STP", "b@hatinh.example", "Lãnh đạo"],
        "INT016",
        "B",
    ),
    ("survey_progress", _progress, ["b@hatinh.example", "Bỏ dở", "", 3, 40], "INT053", "B"),
    ("survey_progress", _progress, ["b@hatinh.example", "Đang trả lời", "", "ba", 40], "INT013", "D"),
    ("survey_progress", _progress, ["b@hatinh.example", "Đang trả lời", "", 3, "bốn mươi"], "INT013", "E"),
    ("survey_progress", _progress, ["b@hatinh.example", "Đã hoàn thành", "hôm qua", 40, 40], "INT051", "C"),
]


@pytest.mark.parametrize(
    ("kind", "builder", "bad", "code", "column"),
    BAD_ROWS,
    ids=[f"{k}-{c}-{col}" for k, _, _, c, col in BAD_ROWS],
)
def test_records_are_exactly_the_good_rows(tmp_path, campaign, kind, builder, bad, code, column):
    path, good_rows = builder(tmp_path, bad)
    form = _parse(path, campaign)
    assert form.kind == kind
    bad_row = good_rows[0] + 1
    assert [(i.code, i.row, i.cell) for i in form.errors] == [(code, bad_row, f"{column}{bad_row}")]
    assert len(form.records) == len(good_rows)
    assert [r.row for r in form.records] == good_rows
    assert {type(r) for r in form.records} == {RECORD_TYPES[kind]}


@pytest.mark.parametrize("kind", sorted(RECORD_TYPES))
def test_every_form_kind_reads_into_its_own_frozen_record_type(kind):
    record_type = RECORD_TYPES[kind]
    assert dataclasses.is_dataclass(record_type) and record_type.__dataclass_params__.frozen
    assert "row" in {f.name for f in dataclasses.fields(record_type)}
    assert len(set(RECORD_TYPES.values())) == len(RECORD_TYPES)


def _score(row: int) -> PortalScoreRecord:
    return PortalScoreRecord(
        row=row,
        unit="STP",
        criterion="2.p1.1",
        score=Decimal("0.5"),
        evidence_count=1,
        status="submitted",
        updated_at=None,
    )


def test_keep_refuses_a_row_with_an_error_from_any_source():
    form = ParsedForm(
        "portal_export",
        sheet="xuat",
        issues=[
            Issue("INT016", "…", "error", "xuat", 5, None, "B5"),  # a cell of the sheet could not be read
            Issue("INT015", "…", "warning", "xuat", 6, None, "B6"),  # a warning never costs the row
            Issue("INT013", "…", "error", "khac", 7, None, "C7"),
        ],
    )  # another sheet's row 7 is not this one
    assert form.keep(_score(5)) is False
    assert form.keep(_score(6)) is True
    assert form.keep(_score(7)) is True
    form.issues.append(
        Issue("INT051", "…", "error", "xuat", 8, "Cập nhật lúc", "F8")
    )  # reported after earlier keeps
    assert form.keep(_score(8)) is False
    assert form.keep(_score(9)) is True
    assert [r.row for r in form.records] == [6, 7, 9]


def test_records_enter_a_form_only_through_keep_and_never_change():
    form = ParsedForm("portal_export", sheet="xuat")
    with pytest.raises(TypeError):  # a record of another kind
        form.keep(SurveyRosterRecord(row=2, name="A", position="", unit="STP", email="a@x.vn", group=""))
    assert form.keep(_score(2))
    with pytest.raises(AttributeError):
        form.records.append(_score(3))  # a tuple: nothing appends behind keep's back
    with pytest.raises(dataclasses.FrozenInstanceError):
        form.records[0].score = Decimal("0.75")
    assert [r.row for r in form.records] == [2]
    assert form.records[0].criterion == "2.p1.1"
    with pytest.raises(TypeError):  # attributes only: a record is not a dict
        form.records[0]["criterion"]


def test_no_corpus_file_has_a_record_on_a_row_with_an_error(tmp_path, campaign):
    for name in build(tmp_path):
        try:
            form = _parse(tmp_path / name, campaign)
        except UnreadableFile:
            continue
        error_rows = {i.row for i in form.errors if i.row and i.sheet in (form.sheet, None)}
        assert not error_rows & {r.row for r in form.records}, name
        assert all(type(r) is RECORD_TYPES[form.kind] for r in form.records), name


# ---- the store holds the typed records and nothing of a refused row ----


def test_the_store_holds_only_the_good_rows_of_multi_unit_files(runtime, campaign):
    from par_index.service import prepare

    prepare(campaign, runtime)
    folder = inbox_dir(campaign.id)
    _export(folder, ["STP", "2.p1.2", "nửa", 1, "Đã nộp", "12/01/2024 09:30"])
    (folder / "f.csv").rename(folder / "xuat.csv")
    _roster(folder, ["Lê Văn B", "Phó Giám đốc", "STP", "b(at)hatinh", "Lãnh đạo"])
    (folder / "f.csv").rename(folder / "ds.csv")
    _progress(folder, ["b@hatinh.example", "Bỏ dở", "", 3, 40])
    (folder / "f.csv").rename(folder / "td.csv")
    _iii(folder, ["Sở Du lịch", "SDL", "sdl.cchc", "b@hatinh.example"])
    for path in folder.iterdir():
        when = datetime(2024, 1, 14, 9, tzinfo=campaign.tz).timestamp()
        os.utime(path, (when, when))
    with session_scope(runtime.store_url) as s:
        results = ingest(s, campaign).results
        assert sorted((r.name, r.status) for r in results) == [
            ("ds.csv", "accepted"),
            ("f.xlsx", "accepted"),
            ("td.csv", "accepted"),
            ("xuat.csv", "accepted"),
        ]
        assert sorted(
            (x.unit_code, x.criterion_code, x.score, x.evidence_count, x.status, x.duplicates)
            for x in s.scalars(select(Score).where(Score.source == "portal"))
        ) == [
            ("SNV", "1.p1.1", Decimal("1"), 2, "draft", 1),
            ("STP", "2.p1.1", Decimal("0.5"), 1, "submitted", 1),
        ]
        assert sorted((x.email, x.unit_code, x.full_name) for x in s.scalars(select(SurveyRespondent))) == [
            ("a@hatinh.example", "STP", "Lê Văn A"),
            ("c@hatinh.example", "SNV", "Trần Thị C"),
        ]
        assert sorted(
            (x.email, x.status, x.answered, x.total) for x in s.scalars(select(SurveyProgress))
        ) == [("a@hatinh.example", "completed", 40, 40), ("c@hatinh.example", "not_started", 0, 40)]
        assert sorted((x.login, x.unit_code, x.email) for x in s.scalars(select(PortalAccount))) == [
            ("snv.cchc", "SNV", "c@hatinh.example"),
            ("stp.cchc", "STP", "a@hatinh.example"),
        ]


def test_a_progress_row_off_the_stored_roster_is_a_stored_warning_naming_it(runtime, campaign):
    from par_index.service import prepare
    from par_index.store.models import IntakeIssue

    prepare(campaign, runtime)
    folder = inbox_dir(campaign.id)
    write_csv(
        folder / "ds.csv",
        ROSTER_COLS,
        [[1, "Lê Văn A", "Giám đốc", "STP", "a@hatinh.example", "Lãnh đạo"]],
    )
    _settled(folder / "ds.csv")
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    write_csv(
        folder / "td.csv",
        PROGRESS_COLS,
        [
            ["a@hatinh.example", "Hoàn thành", "28/12/2023 10:00", 40, 40],
            ["ngoai.ds@hatinh.example", "Đang trả lời", "", 12, 40],
        ],
    )
    _settled(folder / "td.csv")
    with session_scope(runtime.store_url) as s:
        assert [(r.name, r.status) for r in ingest(s, campaign).results] == [("td.csv", "accepted")]
        assert [
            (i.severity, i.code, i.sheet, i.row, i.column, i.cell, i.message)
            for i in s.scalars(select(IntakeIssue))
        ] == [
            (
                "warning",
                "INT056",
                "td",
                3,
                "Email",
                "A3",
                "ngoai.ds@hatinh.example không có trong danh sách người trả lời phiếu khảo sát: tiến độ của người "
                "này không được tính cho đơn vị nào. Kiểm tra email, hoặc bổ sung người này vào danh sách.",
            )
        ]
        assert sorted((p.email, p.status) for p in s.scalars(select(SurveyProgress))) == [
            ("a@hatinh.example", "completed"),
            ("ngoai.ds@hatinh.example", "in_progress"),
        ]


def _settled(path):
    """A file finished before the check (arrived 14/01/2024 09:00 local time)."""
    when = datetime(2024, 1, 14, 9).timestamp()
    os.utime(path, (when, when))
