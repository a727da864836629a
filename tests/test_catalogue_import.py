"""Importing the official Table 2 from a workbook: reading, errors, diff, apply, store remap, export."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from par_index.campaign import load_campaign
from par_index.catalogue import load_catalogue
from par_index.catalogue_import import (
    CatalogueImportError,
    diff_catalogue,
    import_catalogue,
    read_workbook,
)
from par_index.paths import CRITERIA_DIR, setup_dir
from support.campaigns import HA_TINH_2023

CATALOGUE = "par_province_2022"
NOW = datetime(2024, 1, 15, 9, 30)
# The header as pasted from Word: a no-break space, trailing spaces, decomposed (NFD) letters, other case.
HEADER = ["Mã\u00a0", unicodedata.normalize("NFD", "Tên"), "ĐIỂM TỐI ĐA ", "Phương pháp", "Cấp", "mã tạm"]
METHOD_VI = {"self": "Tự chấm", "survey": "Điều tra XHH"}


def official(code: str) -> str:
    """The planted official code of a provisional one: '1.p1.2' → '1.1.2'."""
    return code.replace(".p", ".")


def rows_of(areas: list[str] | None = None) -> list[list]:
    """Table 2 rows from the bundled catalogue, with official codes and the provisional code in 'Mã tạm';
    points written with a decimal comma; the level column blank for sub-criteria (inferred from the code)."""
    cat = load_catalogue(CATALOGUE)
    rows = []
    for item in cat.items.values():
        if areas is not None and item.area not in areas:
            continue
        level = {1: "Lĩnh vực", 2: "Tiêu chí", 3: None}[item.level]
        method = METHOD_VI[item.method] if item.level == 2 and item.method else None
        points = str(item.max_points).replace(".", ",")
        mapped = item.code if official(item.code) != item.code else None
        rows.append([official(item.code), item.name_vi, points, method, level, mapped])
    return rows


def write_book(path: Path, rows: list[list], header: list = HEADER, sheet: str = "Bảng 2") -> Path:
    """A workbook with a title line, a blank line, the header, then ``rows``."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(["BẢNG 2. CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CẤP TỈNH (kèm theo Quyết định 876/QĐ-BNV)"])
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(CatalogueImportError) as caught:
        diff_catalogue(path, load_catalogue(CATALOGUE), NOW)
    return [str(p) for p in caught.value.problems]


def test_full_official_workbook_maps_every_provisional_code(tmp_path, data_dir):
    cat = load_catalogue(CATALOGUE)
    plan = diff_catalogue(write_book(tmp_path / "bang2.xlsx", rows_of()), cat, NOW)
    provisional = [code for code, item in cat.items.items() if item.provisional]
    renamed = [code for code in cat.items if official(code) != code]
    assert len(renamed) == 125 and len(provisional) == 127  # 37 criteria + 88 sub-criteria; areas 7, 8 too
    assert plan.code_map == {code: official(code) for code in renamed}
    assert plan.lines() == [
        f"Bảng 2 từ tệp bang2.xlsx nạp các lĩnh vực 1, 2, 3, 4, 5, 6, 7, 8 vào danh mục {CATALOGUE}: "
        f"{len(renamed) + 1} thay đổi.",
        *[f"Đổi mã {code} → {official(code)}." for code in renamed],
        "Bỏ đánh dấu tạm tính (xác nhận) 127 mục: " + ", ".join(official(c) for c in provisional) + ".",
    ]
    assert not plan.new.has_provisional
    assert plan.new["1.5.1"].responsible_unit == cat["1.p5.1"].responsible_unit


def test_partial_import_diff_with_renames_points_and_removal(tmp_path, data_dir):
    rows = rows_of(["1"])
    by_code = {row[0]: row for row in rows}
    by_code["1.1"][1] = "Ban hành và thực hiện kế hoạch CCHC năm"  # renamed
    by_code["1.1.1"][2], by_code["1.1.2"][2] = "0,75", "0,75"  # points moved within the criterion
    by_code["1.7.2"][0], by_code["1.7.2"][5] = "1.7.3", None  # 1.p7.2 dropped, 1.7.3 new
    plan = diff_catalogue(
        write_book(tmp_path / "bang2_linh_vuc_1.xlsx", rows), load_catalogue(CATALOGUE), NOW
    )
    assert plan.lines() == [
        f"Bảng 2 từ tệp bang2_linh_vuc_1.xlsx nạp các lĩnh vực 1 vào danh mục {CATALOGUE}: 27 thay đổi.",
        "Đổi mã 1.p1 → 1.1.",
        "Đổi tên 1.1: «Kế hoạch CCHC năm (ban hành kịp thời; mức độ hoàn thành)» → "
        "«Ban hành và thực hiện kế hoạch CCHC năm».",
        "Đổi mã 1.p1.1 → 1.1.1.",
        "Đổi điểm tối đa 1.1.1: 0,5 → 0,75.",
        "Đổi mã 1.p1.2 → 1.1.2.",
        "Đổi điểm tối đa 1.1.2: 1 → 0,75.",
        *[
            f"Đổi mã {code} → {official(code)}."
            for code in [
                "1.p2",
                "1.p2.1",
                "1.p2.2",
                "1.p3",
                "1.p3.1",
                "1.p3.2",
                "1.p3.3",
                "1.p4",
                "1.p4.1",
                "1.p4.2",
                "1.p5",
                "1.p5.1",
                "1.p5.2",
                "1.p6",
                "1.p6.1",
                "1.p6.2",
                "1.p7",
                "1.p7.1",
            ]
        ],
        f"Thêm 1.7.3: «{by_code['1.7.2'][1]}» (1,5 điểm, điều tra XHH).",
        f"Bỏ 1.p7.2: «{by_code['1.7.2'][1]}» (1,5 điểm).",
        "Bỏ đánh dấu tạm tính (xác nhận) 21 mục: 1.1, 1.1.1, 1.1.2, 1.2, 1.2.1, 1.2.2, 1.3, 1.3.1, 1.3.2, 1.3.3, "
        "1.4, 1.4.1, 1.4.2, 1.5, 1.5.1, 1.5.2, 1.6, 1.6.1, 1.6.2, 1.7, 1.7.1.",
    ]


def test_bad_workbooks_report_every_problem_where_it_is(tmp_path, data_dir):
    rows = rows_of(["1"])
    assert problems(write_book(tmp_path / "dup.xlsx", rows + [rows[1]])) == [
        "[CAT023] trang 'Bảng 2', dòng 27, cột 'Mã': mã 1.1 bị trùng (đã có ở dòng 5)."
    ]
    orphan = [row for row in rows if row[0] != "1.2"]  # 1.2.1 and 1.2.2 lose their criterion
    assert problems(write_book(tmp_path / "orphan.xlsx", orphan)) == [
        "[CAT024] trang 'Bảng 2', dòng 8, cột 'Mã': tiêu chí thành phần 1.2.1 không nằm dưới tiêu chí 1.2 nào ở "
        "các dòng trên (mã mồ côi).",
        "[CAT024] trang 'Bảng 2', dòng 9, cột 'Mã': tiêu chí thành phần 1.2.2 không nằm dưới tiêu chí 1.2 nào ở "
        "các dòng trên (mã mồ côi).",
        "[CAT027] trang 'Bảng 2', dòng 4, cột 'Điểm tối đa': tổng điểm các tiêu chí của 1 là 8, khác điểm tối đa "
        "9.",
    ]
    sums = [list(row) for row in rows]
    sums[2][2] = "0,25"  # 1.1.1: 0,5 → 0,25
    assert problems(write_book(tmp_path / "sums.xlsx", sums)) == [
        "[CAT027] trang 'Bảng 2', dòng 5, cột 'Điểm tối đa': tổng điểm các tiêu chí thành phần của 1.1 là 1,25, "
        "khác điểm tối đa 1,5."
    ]
    words = [list(row) for row in rows]
    words[2][2] = "nửa điểm"
    assert problems(write_book(tmp_path / "words.xlsx", words)) == [
        "[CAT025] trang 'Bảng 2', dòng 6, cột 'Điểm tối đa': mã 1.1.1: điểm tối đa 'nửa điểm' không phải là số "
        "không âm.",
        "[CAT027] trang 'Bảng 2', dòng 5, cột 'Điểm tối đa': tổng điểm các tiêu chí thành phần của 1.1 là 1, khác "
        "điểm tối đa 1,5.",
    ]
    assert problems(write_book(tmp_path / "header.xlsx", rows, header=["Mã", "Tên", "Phương pháp"])) == [
        "[CAT021] trang 'Bảng 2': không tìm thấy dòng tiêu đề có các cột 'Mã', 'Tên', 'Điểm tối đa' (trong 20 "
        "dòng đầu)."
    ]
    assert problems(write_book(tmp_path / "sheet.xlsx", rows, sheet="Sheet1")) == [
        "[CAT020] trang 'Bảng 2': không có trang 'Bảng 2' (tệp có: 'Sheet1')."
    ]


def test_totals_are_those_of_the_whole_table_after_a_partial_import(tmp_path, data_dir):
    rows = rows_of(["1"])
    rows[0][2] = "10"  # area 1 gains a point: a new criterion 1.8 with one sub-criterion
    rows += [["1.8", "Sáng kiến cải cách hành chính", "1", "Tự chấm", "Tiêu chí", None]]
    rows += [["1.8.1", "Có sáng kiến CCHC được công nhận", "1", None, None, None]]
    assert problems(write_book(tmp_path / "totals.xlsx", rows)) == [
        "[CAT028] trang 'Bảng 2': Số tiêu chí của Bảng 2 sau khi nạp là 38, phải là 37 (tổng đã xác nhận).",
        "[CAT028] trang 'Bảng 2': Số tiêu chí thành phần của Bảng 2 sau khi nạp là 89, phải là 88 (tổng đã xác "
        "nhận).",
        "[CAT028] trang 'Bảng 2': Tổng điểm của Bảng 2 sau khi nạp là 101, phải là 100 (tổng đã xác nhận).",
        "[CAT028] trang 'Bảng 2': Điểm tự chấm của Bảng 2 sau khi nạp là 69, phải là 68 (tổng đã xác nhận).",
    ]


def test_apply_partial_import_then_again_changes_nothing(tmp_path, data_dir, runtime):
    from par_index.service import prepare
    from par_index.store.db import session_scope
    from par_index.store.models import AssignmentRow, IntakeIssue, Mismatch, ReceivedFile, Score
    from sqlalchemy import select

    campaign = load_campaign(HA_TINH_2023)
    prepare(campaign, runtime)
    at = datetime(2024, 1, 10, tzinfo=UTC)
    with session_scope(runtime.store_url) as s:
        received = ReceivedFile(
            campaign_id=campaign.id, sha256="a" * 64, original_name="PL2_VPUBND.xlsx", archived_as="a",
            size_bytes=1, arrived_at=at, registered_at=at, status="accepted", unit_code="VPUBND",
        )  # fmt: skip
        s.add(received)
        s.flush()
        for source in ("report", "portal"):
            s.add(Score(campaign_id=campaign.id, source=source, unit_code="VPUBND", criterion_code="1.p5.1",
                        score=Decimal("0.5"), file_id=received.id))  # fmt: skip
        s.add(Score(campaign_id=campaign.id, source="report", unit_code="STP", criterion_code="2.p1.1",
                    score=Decimal("0.75"), file_id=received.id))  # fmt: skip
        s.add(IntakeIssue(file_id=received.id, severity="warning", code="INT010", message="Thiếu minh chứng",
                          unit_code="VPUBND", criterion_code="1.p5.2"))  # fmt: skip
        s.add(Mismatch(campaign_id=campaign.id, scope="VPUBND", unit_code="VPUBND", criterion_code="1.p5.1",
                       category="score", message="Lệch điểm", found_at=at))  # fmt: skip
    write_book(setup_dir(campaign.id) / "Bang2_chinh_thuc.xlsx", rows_of(["1"]))

    dry = import_catalogue(CATALOGUE, campaign.id, runtime.store_url, "Bang2_chinh_thuc.xlsx", False, NOW)
    assert (dry["applied"], dry["changes"]) == (False, 23)
    assert load_catalogue(CATALOGUE).has_provisional and "1.p1" in load_catalogue(
        CATALOGUE
    )  # dry run: unchanged

    applied = import_catalogue(CATALOGUE, campaign.id, runtime.store_url, "Bang2_chinh_thuc.xlsx", True, NOW,
                               assignments=campaign.assignments)  # fmt: skip
    written = data_dir / "criteria" / f"{CATALOGUE}.yaml"
    assert applied["written"] == str(written)
    assert sorted(p.name for p in (data_dir / "criteria" / "history").iterdir()) == [
        f"{CATALOGUE}.2024-01-15_093000.yaml"
    ]
    # 13 assignments: the self-scored leaves of area 1 (1.p7.1 and 1.p7.2 are scored by the survey)
    assert applied["remapped"] == {
        "assignments": 13,
        "scores": 2,
        "intake_issues": 1,
        "mismatches": 1,
        "dropped": 0,
    }
    cat = load_catalogue(CATALOGUE)
    assert [c.code for c in cat.level(2) if c.area == "1"] == [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "1.7",
    ]
    # provisional now: exactly the bundled file's provisional items outside area 1 (its 103 criteria and
    # sub-criteria, and areas 7 and 8); area 1's 22 provisional items were imported and are confirmed
    bundled = load_catalogue(CRITERIA_DIR / f"{CATALOGUE}.yaml")
    outside = {c for c, item in bundled.items.items() if item.provisional and item.area != "1"}
    assert (len(outside), len([i for i in bundled.items.values() if i.provisional])) == (105, 127)
    assert {c for c, item in cat.items.items() if item.provisional} == outside
    assert cat["1.5"].source == "Bảng 2 chính thức (tệp Bang2_chinh_thuc.xlsx, nạp ngày 15/01/2024)"
    with session_scope(runtime.store_url) as s:
        scores = sorted((r.source, r.unit_code, r.criterion_code) for r in s.scalars(select(Score)))
        assert scores == [
            ("portal", "VPUBND", "1.5.1"),
            ("report", "STP", "2.p1.1"),
            ("report", "VPUBND", "1.5.1"),
        ]
        assert s.scalars(select(IntakeIssue.criterion_code)).all() == ["1.5.2"]
        assert s.scalars(select(Mismatch.criterion_code)).all() == ["1.5.1"]
        assigned = dict(s.execute(select(AssignmentRow.criterion_code, AssignmentRow.unit_code)).all())
        assert (assigned["1.5.1"], assigned["1.1.1"], "1.p5.1" in assigned) == ("VPUBND", "SNV", False)

    # The campaign file still names 1.p5 (Appendix I): it loads through the code map.
    reloaded = load_campaign(HA_TINH_2023)
    assert reloaded.assignments["1.p5"] == "VPUBND"
    assert (reloaded.assignment_of["1.5.1"], reloaded.assignment_of["1.5.2"]) == ("VPUBND", "VPUBND")
    assert reloaded.assignment_of["1.1.1"] == "SNV"

    again = import_catalogue(CATALOGUE, campaign.id, runtime.store_url, "Bang2_chinh_thuc.xlsx", True, NOW)
    assert again["lines"] == [
        f"Bảng 2 từ tệp Bang2_chinh_thuc.xlsx nạp các lĩnh vực 1 vào danh mục {CATALOGUE}: 0 thay đổi.",
        "Không có thay đổi.",
        "Danh mục không đổi: không ghi gì.",
        "Đổi mã trong kho dữ liệu: assignments 0, scores 0, intake_issues 0, mismatches 0, dropped 0.",
    ]
    assert len(list((data_dir / "criteria" / "history").iterdir())) == 1


def test_export_is_the_workbook_to_start_from(tmp_path, data_dir):
    result = import_catalogue(CATALOGUE, "ha_tinh_2023", "sqlite://", "", False, NOW)
    path = setup_dir("ha_tinh_2023") / f"Bang2_hien_hanh_{CATALOGUE}.xlsx"
    assert result == {
        "exported": str(path),
        "lines": [f"Đã xuất Bảng 2 hiện hành ra {path}: sửa rồi nạp lại tệp này."],
    }
    ws = load_workbook(path)["Bảng 2"]
    assert [c.value for c in ws[3]] == [
        "Mã",
        "Mã tạm",
        "Tên",
        "Điểm tối đa",
        "Phương pháp",
        "Cấp",
        "Đơn vị phụ trách",
    ]
    assert [c.value for c in ws[5]] == [
        "1.p1", "1.p1", "Kế hoạch CCHC năm (ban hành kịp thời; mức độ hoàn thành)", 1.5, "tự chấm", "tiêu chí", "SNV",
    ]  # fmt: skip
    workbook = read_workbook(path)
    assert len(workbook.rows) == 133 and workbook.mapping == {}  # 8 + 37 + 88, nothing renamed


def test_file_name_must_be_a_name_in_the_setup_folder(data_dir):
    with pytest.raises(CatalogueImportError) as caught:
        import_catalogue(CATALOGUE, "ha_tinh_2023", "sqlite://", "../criteria/x.xlsx", False, NOW)
    assert [str(p) for p in caught.value.problems] == [
        f"[CAT031] trang '—': chỉ ghi tên tệp (không ghi thư mục) trong thư mục {setup_dir('ha_tinh_2023')}."
    ]


def test_method_swap_and_codes_mapped_on_a_second_sheet(tmp_path, data_dir):
    rows = [[*row[:5], None] for row in rows_of(["6"])]  # no 'Mã tạm' column values: the sheet "Mã tạm" maps
    by_code = {row[0]: row for row in rows}
    by_code["6.1"][3], by_code["6.4"][3] = "điều tra xã hội học", "tự chấm"  # 3 points each: totals kept
    path = write_book(tmp_path / "bang2_6.xlsx", rows)
    book = load_workbook(path)
    pairs = book.create_sheet("Mã tạm")
    pairs.append(["Mã tạm", "Mã chính thức"])
    for row in rows:
        if row[0] != "6":
            pairs.append([row[0].replace("6.", "6.p", 1), row[0]])
    book.save(path)
    plan = diff_catalogue(path, load_catalogue(CATALOGUE), NOW)
    assert plan.lines()[:4] == [
        f"Bảng 2 từ tệp bang2_6.xlsx nạp các lĩnh vực 6 vào danh mục {CATALOGUE}: 16 thay đổi.",
        "Đổi mã 6.p1 → 6.1.",
        "Đổi phương pháp 6.1: tự chấm → điều tra XHH.",
        "Đổi mã 6.p1.1 → 6.1.1.",
    ]
    assert [line for line in plan.lines() if line.startswith("Đổi phương pháp")] == [
        "Đổi phương pháp 6.1: tự chấm → điều tra XHH.",
        "Đổi phương pháp 6.4: điều tra XHH → tự chấm.",
    ]
    assert (plan.new["6.1.2"].method, plan.new["6.4.1"].method) == ("survey", "self")


def test_level_column_must_agree_with_the_code(tmp_path, data_dir):
    rows = rows_of(["1"])
    rows[2][4] = "Tiêu chí"  # 1.1.1 is a sub-criterion
    rows[3][4] = "Nhóm"
    assert problems(write_book(tmp_path / "cap.xlsx", rows)) == [
        "[CAT024] trang 'Bảng 2', dòng 6, cột 'Cấp': mã 1.1.1 có dạng tiêu chí thành phần nhưng cột Cấp ghi "
        "'Tiêu chí'.",
        "[CAT030] trang 'Bảng 2', dòng 7, cột 'Cấp': cấp 'Nhóm' không hợp lệ (lĩnh vực | tiêu chí | tiêu chí "
        "thành phần).",
    ]


def test_remap_keeps_the_official_row_when_both_are_stored(runtime, data_dir):
    from par_index.catalogue_import import remap_store
    from par_index.service import prepare
    from par_index.store.db import session_scope
    from par_index.store.models import ReceivedFile, Score
    from sqlalchemy import select

    campaign = load_campaign(HA_TINH_2023)
    prepare(campaign, runtime)
    at = datetime(2024, 1, 16, tzinfo=UTC)
    with session_scope(runtime.store_url) as s:
        received = ReceivedFile(
            campaign_id=campaign.id, sha256="b" * 64, original_name="phan_mem.xlsx", archived_as="b",
            size_bytes=1, arrived_at=at, registered_at=at, status="accepted",
        )  # fmt: skip
        s.add(received)
        s.flush()
        for code, score in (("1.p5.1", "0.25"), ("1.5.1", "0.5")):  # an old and a new software export
            s.add(Score(campaign_id=campaign.id, source="portal", unit_code="VPUBND", criterion_code=code,
                        score=Decimal(score), file_id=received.id))  # fmt: skip
    counts = remap_store(runtime.store_url, campaign.id, {"1.p5.1": "1.5.1"})
    assert counts == {"assignments": 1, "scores": 0, "intake_issues": 0, "mismatches": 0, "dropped": 1}
    with session_scope(runtime.store_url) as s:
        assert [(r.criterion_code, r.score) for r in s.scalars(select(Score))] == [("1.5.1", Decimal("0.5"))]
    assert remap_store(runtime.store_url, campaign.id, {"1.p5.1": "1.5.1"}) == dict.fromkeys(counts, 0)


def test_a_code_excel_stored_as_a_number_is_named_as_the_cause(tmp_path, data_dir):
    rows = rows_of(["1"])
    rows[1][0] = 1.1  # criterion 1.1 typed in a number cell
    assert rows[20][0] == "1.7"
    rows[20][0] = 1.1  # "1.10" would be stored the same: the number 1.1
    assert problems(write_book(tmp_path / "so.xlsx", rows))[0] == (
        "[CAT023] trang 'Bảng 2', dòng 24, cột 'Mã': mã 1.1 bị trùng (đã có ở dòng 5); ô này là số: định dạng cột "
        "Mã là Text (Văn bản) rồi gõ lại mã."
    )


def test_an_appendix_ii_made_before_the_import_is_read_under_official_codes(tmp_path, data_dir, runtime):
    from par_index.intake.forms import parse_form
    from par_index.intake.sheets import read_sheets
    from par_index_dev.writer import write_xlsx

    write_book(setup_dir("ha_tinh_2023") / "Bang2_linh_vuc_2.xlsx", rows_of(["2"]))
    import_catalogue(CATALOGUE, "ha_tinh_2023", runtime.store_url, "Bang2_linh_vuc_2.xlsx", True, NOW)
    header = [("Đơn vị", "Sở Tư pháp"), ("Số", "12/BC-STP"), ("Ngày", "15/01/2024"), ("Người ký", "Lê Văn A")]
    columns = ["Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Tài liệu kiểm chứng"]
    rows = [["2.p1.1", "…", 0.75, 0.5, "Số 1/KH-UBND"], ["2.1.2", "…", 0.75, 0.75, "Số 2/KH-UBND"]]
    path = write_xlsx(tmp_path / "stp.xlsx", "PHỤ LỤC II", header, columns, rows)
    form = parse_form(read_sheets(path), load_campaign(HA_TINH_2023))
    assert (form.kind, form.unit_code, form.errors) == ("appendix_ii", "STP", [])
    assert [(r.criterion, str(r.score)) for r in form.records] == [("2.1.1", "0.5"), ("2.1.2", "0.75")]


def test_a_provisional_code_must_come_from_an_imported_area(tmp_path, data_dir):
    rows = rows_of(["1"])
    rows[2][5] = "2.p1.1"  # 1.1.1 said to be 2.p1.1, but area 2 is not in the workbook
    assert problems(write_book(tmp_path / "khac_linh_vuc.xlsx", rows)) == [
        "[CAT029] trang 'Bảng 2', dòng 6, cột 'Mã tạm': mã tạm 2.p1.1 thuộc lĩnh vực 2, lĩnh vực này không có "
        "trong bảng tính."
    ]
    rows[2][5] = "1.p9.9"
    assert problems(write_book(tmp_path / "khong_co.xlsx", rows)) == [
        f"[CAT029] trang 'Bảng 2', dòng 6, cột 'Mã tạm': mã tạm 1.p9.9 không có trong danh mục hiện hành {CATALOGUE}."
    ]
