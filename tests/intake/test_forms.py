"""Reading the forms as units fill them: awkward layouts accepted, bad values refused with where and why."""

from pathlib import Path

import pytest
from openpyxl import Workbook
from par_index.intake.forms import parse_form
from par_index.intake.sheets import UnreadableFile, read_sheets
from par_index_dev.writer import write_csv, write_xlsx

II = ["STT", "Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Tài liệu kiểm chứng", "Giải trình"]
STP_HEADER = [("Đơn vị", "Sở Tư pháp"), ("Số", "12/BC-STP"), ("Ngày", "15/01/2024"), ("Người ký", "Lê Văn A")]


def _parse(path: Path, campaign):
    return parse_form(read_sheets(path), campaign)


def test_appendix_ii_with_title_rows_comma_decimals_and_unaccented_titles(tmp_path, campaign):
    wb = Workbook()
    ws = wb.active
    ws.append(["UBND TỈNH HÀ TĨNH"])
    ws.append(["SỞ TƯ PHÁP"])
    ws.merge_cells("A1:D1")
    ws.append(["Đơn vị: Sở Tư pháp (STP)"])
    ws.append(["Ngày:", "15/01/2024"])
    ws.append([])
    ws.append(
        [
            "stt",
            "MA TIEU CHI",
            "Noi dung",
            "Diem toi da",
            "diem tu cham",
            "Tai lieu kiem chung",
            "Cột thêm không dùng",
        ]
    )
    ws.append([1, "2.p1.1", "…", "0,75", "0,5", "Số 1/KH-UBND ngày 02/01/2023", "x"])
    ws.append([])
    ws.append([2, "2.p1.2", "…", None, 0.75, "Số 2/KH-UBND ngày 03/01/2023"])
    ws.append([None, "Tổng cộng", None, None, "1,25"])
    path = tmp_path / "stp.xlsx"
    wb.save(path)
    form = _parse(path, campaign)
    assert form.kind == "appendix_ii"
    assert form.unit_code == "STP"
    assert form.errors == []
    assert [(r.criterion, str(r.score)) for r in form.records] == [
        ("2.p1.1", "0.5"),
        ("2.p1.2", "0.75"),
    ]
    assert form.header["date"] == "2024-01-15"


@pytest.mark.parametrize(
    ("row", "code", "column"),
    [
        (["2.p1.1", "…", 0.75, 1.0, "Số 1"], "INT026", "Điểm tự chấm"),  # above maximum
        (["2.p1.1", "…", 0.75, 0.3, "Số 1"], "INT027", "Điểm tự chấm"),  # not a step of 0.25
        (["2.p5.1", "…", 1.5, 1.0, "Số 1"], "INT023", "Điểm tự chấm"),  # survey-scored item self-scored
        (["3.p1.1", "…", 1.0, 1.0, "Số 1"], "INT024", "Mã tiêu chí"),  # assigned to VPUBND, not STP
        (["9.p1.1", "…", 1.0, 1.0, "Số 1"], "INT020", "Mã tiêu chí"),  # not in Table 2
        (["2.p1.1", "…", 1.0, 0.5, "Số 1"], "INT021", "Điểm tối đa"),  # wrong maximum
        (["2.p1.1", "…", 0.75, "một", "Số 1"], "INT013", "Điểm tự chấm"),  # not a number
    ],
)
def test_appendix_ii_refusals_name_code_row_and_column(tmp_path, campaign, row, code, column):
    path = write_xlsx(tmp_path / "stp.xlsx", "PHỤ LỤC II", STP_HEADER, II[1:6], [row])
    form = _parse(path, campaign)
    assert form.rejected
    issue = next(i for i in form.issues if i.code == code)
    assert (issue.row, issue.column) == (8, column)  # 4 header lines, a blank, the titles
    assert issue.sheet == "Biểu mẫu"


def test_appendix_ii_with_office_text_is_accepted_without_int016(tmp_path, campaign):
    header = [("Đơn vị", "Sở\u00a0Tư pháp"), ("Ngày", "15/01/2024"), ("Người ký", "Nguyễn Thị\u00a0Hường")]
    path = write_xlsx(
        tmp_path / "stp.xlsx",
        "PHỤ LỤC II",
        header,
        II,
        [
            [
                1,
                "2.p1.1",
                "Chỉ đạo\u00a0điều hành",
                0.75,
                0.5,
                "Tài khoản VNeID\u200b; diện tích 120 m²",
                "Thời gian ≤ 5 ngày ✓",
            ],
            [
                2,
                "2.p1.2",
                "…",
                0.75,
                0.75,
                "Hệ thống eCabinet – “một cửa”",
                "Đối tác 王小明 (Café de la Paix) 👍",
            ],
        ],
    )
    form = _parse(path, campaign)
    assert (form.kind, form.unit_code, form.rejected, form.issues) == ("appendix_ii", "STP", False, [])
    assert [(r.evidence, r.evidence_count, r.explanation) for r in form.records] == [
        ("Tài khoản VNeID; diện tích 120 m²", 2, "Thời gian ≤ 5 ngày ✓"),
        ("Hệ thống eCabinet – “một cửa”", 1, "Đối tác 王小明 (Café de la Paix) 👍"),
    ]


def test_missing_evidence_without_explanation_is_a_warning_not_a_rejection(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "stp.xlsx",
        "PHỤ LỤC II",
        STP_HEADER,
        II[1:7],
        [["2.p1.1", "…", 0.75, 0.5, None, None], ["2.p1.2", "…", 0.75, 0.5, None, "Đang chờ số liệu"]],
    )
    form = _parse(path, campaign)
    assert not form.rejected
    assert [(i.code, i.severity, i.row) for i in form.issues] == [("INT028", "warning", 8)]


def test_subtotal_must_equal_the_sum_of_its_children(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "stp.xlsx",
        "PHỤ LỤC II",
        STP_HEADER,
        II[1:6],
        [
            ["2.p1", "…", 2.0, 1.5, None],
            ["2.p1.1", "…", 0.75, 0.5, "Số 1"],
            ["2.p1.2", "…", 0.75, 0.5, "Số 2"],
        ],
    )
    form = _parse(path, campaign)
    assert [(i.code, i.severity, i.message) for i in form.issues] == [
        ("INT029", "error", "Tổng của 2.p1 ghi 1.5, cộng các mục con được 1.0.")
    ]  # 0.5 + 0.5 ≠ 1.5


def test_unknown_unit_in_header_is_refused(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "x.xlsx",
        "PHỤ LỤC II",
        [("Đơn vị", "Sở Du lịch")],
        II[1:6],
        [["2.p1.1", "…", 0.75, 0.5, "Số 1"]],
    )
    form = _parse(path, campaign)
    assert form.rejected and form.issues[0].code == "INT009" and "Sở Du lịch" in form.issues[0].message


def test_legacy_xls_and_broken_files_are_refused_with_a_reason(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    with pytest.raises(UnreadableFile) as info:
        read_sheets(xls)
    assert info.value.issue.code == "INT002" and ".xlsx" in info.value.issue.message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip at all")
    with pytest.raises(UnreadableFile) as info:
        read_sheets(broken)
    assert info.value.issue.code == "INT001"


def test_password_column_refuses_the_file(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "pl3.xlsx",
        "PHỤ LỤC III",
        [],
        ["STT", "Đơn vị", "Mã đơn vị", "Tên đăng nhập", "Mật khẩu", "Email"],
        [[1, "Sở Tư pháp", "STP", "stp.cchc", "abc123", "a@hatinh.example"]],
    )
    form = _parse(path, campaign)
    assert form.rejected and form.issues[0].code == "INT010"


def test_appendix_iv_checks_areas_email_and_phone(tmp_path, campaign):
    cols = ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Điện thoại", "Email"]
    path = write_xlsx(
        tmp_path / "pl4.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "STP")],
        cols,
        [
            [1, "Lê Văn A", "Trưởng phòng", "2", "0912 345 678", "a@hatinh.example"],
            [2, "Trần Thị B", "Chuyên viên", "3", "0912345678", "b@hatinh.example"],
            [3, "Hồ Văn C", "Chuyên viên", "2", "12345", "c-at-hatinh"],
        ],
    )
    form = _parse(path, campaign)
    assert form.rejected
    assert sorted((i.code, i.row) for i in form.errors) == [("INT042", 7), ("INT043", 7), ("INT044", 6)]
    [warning] = [i for i in form.issues if i.severity == "warning"]
    assert (warning.code, warning.cell) == ("INT045", "B5")  # Lê Văn A is not on the council roster


def test_council_member_nominee_has_no_warning(tmp_path, campaign):
    member = next(m for m in campaign.council.members if m.unit == "STP")
    path = write_xlsx(
        tmp_path / "pl4.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "STP")],
        ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Email"],
        [[1, member.name, "Trưởng phòng", "2", member.email.upper()]],
    )
    form = _parse(path, campaign)
    assert form.issues == [] and form.records[0].email == member.email


def test_multi_unit_export_keeps_good_rows_and_reports_bad_ones(tmp_path, campaign):
    path = write_csv(
        tmp_path / "export.csv",
        [
            "Mã đơn vị",
            "Mã tiêu chí",
            "Điểm tự đánh giá",
            "Số tài liệu kiểm chứng",
            "Trạng thái",
            "Cập nhật lúc",
        ],
        [
            ["STP", "2.p1.1", "0,5", 1, "Đã nộp", "12/01/2024 09:30"],
            ["SXYZ", "2.p1.2", "0,5", 1, "Đã nộp", "12/01/2024 09:30"],
            ["STP", "2.p1.2", "0.75", 1, "Đã nộp", "2024-01-12 9h"],
        ],
    )
    form = _parse(path, campaign)
    assert form.kind == "portal_export" and not form.rejected
    assert [r.criterion for r in form.records] == ["2.p1.1"]
    assert sorted((i.code, i.row) for i in form.issues) == [("INT050", 3), ("INT051", 4)]
    assert form.records[0].updated_at.utcoffset().total_seconds() == 7 * 3600


def test_unrecognised_form_is_refused(tmp_path, campaign):
    path = write_xlsx(tmp_path / "other.xlsx", "Công văn", [], ["Số", "Trích yếu"], [["1", "abc"]])
    form = _parse(path, campaign)
    assert form.kind == "unknown" and form.rejected and form.issues[0].code == "INT007"


# ---- every error findable: the header block at the label's row and the value's cell, subtotals at their cell ----
SHEET = "Biểu mẫu"  # the sheet write_xlsx writes; its rows: 1 title, 2… header lines, a blank, the titles


def _located(form) -> list[tuple]:
    return [(i.code, i.severity, i.sheet, i.row, i.cell, i.message) for i in form.issues]


def _ii_file(tmp_path, header, rows=None):
    return write_xlsx(
        tmp_path / "ii.xlsx",
        "PHỤ LỤC II",
        header,
        II[1:6],
        [["2.p1.1", "…", 0.75, 0.5, "Số 1"]] if rows is None else rows,
    )


def test_subtotal_error_carries_the_subtotal_cell(tmp_path, campaign):
    # 3 header lines (rows 2-4), blank 5, titles 6: 2.p1 is row 7, its score in column D (Điểm tự chấm)
    path = _ii_file(
        tmp_path,
        STP_HEADER[:3],
        [
            ["2.p1", "…", 2.0, 1.5, None],
            ["2.p1.1", "…", 0.75, 0.5, "Số 1"],
            ["2.p1.2", "…", 0.75, 0.5, "Số 2"],
        ],
    )
    assert _located(_parse(path, campaign)) == [
        ("INT029", "error", SHEET, 7, "D7", "Tổng của 2.p1 ghi 1.5, cộng các mục con được 1.0.")
    ]


def test_unknown_unit_is_at_its_label_row_and_value_cell(tmp_path, campaign):
    path = _ii_file(
        tmp_path, [("Số", "12/BC"), ("Đơn vị", "Sở Du lịch")]
    )  # the unit on the second line: row 3
    form = _parse(path, campaign)
    assert form.rejected
    assert _located(form) == [
        (
            "INT009",
            "error",
            SHEET,
            3,
            "B3",
            "Đơn vị “Sở Du lịch” không có trong danh sách đơn vị của chiến dịch.",
        )
    ]


def test_a_value_written_after_the_colon_is_at_the_label_cell(tmp_path, campaign):
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(["PHỤ LỤC II"])
    ws.append([None, None, "Đơn vị: Sở Du lịch"])  # label and value in C2
    ws.append([])
    ws.append(II[1:6])
    ws.append(["2.p1.1", "…", 0.75, 0.5, "Số 1"])
    wb.save(tmp_path / "ii.xlsx")
    assert _located(_parse(tmp_path / "ii.xlsx", campaign)) == [
        (
            "INT009",
            "error",
            SHEET,
            2,
            "C2",
            "Đơn vị “Sở Du lịch” không có trong danh sách đơn vị của chiến dịch.",
        )
    ]


def test_bad_date_is_at_its_label_row_and_value_cell(tmp_path, campaign):
    path = _ii_file(tmp_path, [("Đơn vị", "Sở Tư pháp"), ("Số", "12/BC"), ("Ngày", "32/13/2024")])
    assert _located(_parse(path, campaign)) == [
        ("INT012", "error", SHEET, 4, "B4", "Ngày “32/13/2024” không đúng dạng dd/mm/yyyy.")
    ]


def test_missing_unit_line_points_at_the_top_of_the_header_block(tmp_path, campaign):
    path = _ii_file(tmp_path, [("Số", "12/BC")])  # titles on row 4
    assert _located(_parse(path, campaign)) == [
        (
            "INT008",
            "error",
            SHEET,
            1,
            "A1",
            "Thiếu dòng “Đơn vị:” ở phần đầu biểu mẫu, phía trên dòng tiêu đề cột (dòng 4): ghi tên hoặc mã đơn vị.",
        )
    ]


def test_empty_report_points_at_the_score_column_title(tmp_path, campaign):
    path = _ii_file(tmp_path, STP_HEADER[:1], rows=[])  # titles on row 4, Điểm tự chấm in D
    assert _located(_parse(path, campaign)) == [
        (
            "INT030",
            "error",
            SHEET,
            4,
            "D4",
            "Báo cáo không có điểm tự chấm nào: ghi điểm ở cột này, dưới dòng tiêu đề.",
        )
    ]


def test_unit_owning_no_area_is_at_its_unit_value(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "iv.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "SYT")],  # Sở Y tế owns no area in Appendix I
        ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Email"],
        [[1, "Lê Văn A", "Trưởng phòng", "2", "a@hatinh.example"]],
    )
    assert _located(_parse(path, campaign)) == [
        (
            "INT040",
            "error",
            SHEET,
            2,
            "B2",
            "Đơn vị không được giao lĩnh vực nào (Phụ lục I) nên không cử đầu mối.",
        )
    ]


def test_every_form_issue_of_the_corpus_has_a_sheet_row_and_cell(tmp_path, campaign):
    """Whatever a readable form's issue is, it says where: the sheet, the row and the cell (file-level problems —
    an unreadable file, an unrecognised form — are the only ones without)."""
    from support.corpus import build

    cases = build(tmp_path)
    unlocated = []
    for name in sorted(cases):
        try:
            form = _parse(tmp_path / name, campaign)
        except UnreadableFile:
            continue
        unlocated += [
            (name, i.code)
            for i in form.issues
            if i.code not in FILE_LEVEL and not (i.sheet and i.row and i.cell)
        ]
    assert unlocated == []


FILE_LEVEL = {"INT007", "INT017", "INT073"}  # form not recognised, macros, the file's name


# ---- survey progress: spelling variants of the documented statuses, unknown statuses, emails off the roster ----
PROGRESS = ["Email", "Trạng thái", "Hoàn thành lúc", "Số câu đã trả lời", "Tổng số câu"]


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("Đã hoàn thành", "completed"),
        ("Hoàn thành", "completed"),
        ("ĐÃ HOÀN THÀNH", "completed"),
        ("Đã  hoàn   thành ", "completed"),
        ("Da hoan thanh", "completed"),
        ("Đã hòan thành", "completed"),  # the old placement of the tone mark
        ("đang trả lời", "in_progress"),
        ("in-progress", "in_progress"),
        ("Chưa Trả Lời", "not_started"),
        ("not_started", "not_started"),
    ],
)
def test_spelling_variants_of_the_documented_statuses_are_accepted(tmp_path, campaign, written, status):
    path = write_csv(tmp_path / "td.csv", PROGRESS, [["a@hatinh.example", written, "", 40, 40]])
    form = _parse(path, campaign)
    assert (form.issues, [(r.email, r.status) for r in form.records]) == ([], [("a@hatinh.example", status)])


@pytest.mark.parametrize("written", ["Chưa hoàn thành", "Bỏ dở", "Xong"])
def test_an_unknown_survey_status_is_refused_with_a_clear_message(tmp_path, campaign, written):
    path = write_csv(
        tmp_path / "td.csv",
        PROGRESS,
        [["a@hatinh.example", "Hoàn thành", "", 40, 40], ["b@hatinh.example", written, "", 3, 40]],
    )
    form = _parse(path, campaign)
    assert [(i.code, i.severity, i.row, i.column, i.cell, i.message) for i in form.issues] == [
        (
            "INT053",
            "error",
            3,
            "Trạng thái",
            "B3",
            f"Trạng thái “{written}” không hợp lệ: chỉ nhận “Đã hoàn thành”, “Đang trả lời” hoặc “Chưa trả lời”.",
        )
    ]
    assert [r.email for r in form.records] == ["a@hatinh.example"]


def test_a_progress_row_off_the_roster_is_a_warning_naming_it(tmp_path, campaign):
    path = write_csv(
        tmp_path / "td.csv",
        PROGRESS,
        [
            ["a@hatinh.example", "Đã hoàn thành", "", 40, 40],
            ["la.nguoi@hatinh.example", "Đang trả lời", "", 3, 40],
        ],
    )
    form = parse_form(read_sheets(path), campaign, roster={"a@hatinh.example", "c@hatinh.example"})
    assert [(i.code, i.severity, i.row, i.column, i.cell, i.message) for i in form.issues] == [
        (
            "INT056",
            "warning",
            3,
            "Email",
            "A3",
            "la.nguoi@hatinh.example không có trong danh sách người trả lời phiếu khảo sát: tiến độ của người này "
            "không được tính cho đơn vị nào. Kiểm tra email, hoặc bổ sung người này vào danh sách.",
        )
    ]
    assert (form.rejected, [r.email for r in form.records]) == (
        False,
        ["a@hatinh.example", "la.nguoi@hatinh.example"],
    )
    # no roster received yet: nothing to check against
    assert parse_form(read_sheets(path), campaign).issues == []


def test_a_csv_cut_or_without_a_final_line_break_is_located_at_its_last_row(tmp_path, campaign):
    whole = tmp_path / "td.csv"
    whole.write_text(
        "Email,Trạng thái,Hoàn thành lúc,Số câu đã trả lời,Tổng số câu\r\na@hatinh.example,Hoàn thành,,40,40"
    )
    issues = read_sheets(whole)[0].issues
    assert [(i.code, i.severity, i.sheet, i.row, i.cell) for i in issues] == [
        ("INT074", "warning", "td", 2, "A2")
    ]
    cut = tmp_path / "cut.csv"
    cut.write_text("Email,Trạng thái,Hoàn thành lúc,Số câu đã trả lời,Tổng số câu\r\na@hatinh.example,Hoàn")
    with pytest.raises(UnreadableFile) as info:
        read_sheets(cut)
    issue = info.value.issue
    assert (issue.code, issue.sheet, issue.row, issue.cell) == (
        "INT071",
        "cut",
        2,
        "B2",
    )  # the row stops in B
