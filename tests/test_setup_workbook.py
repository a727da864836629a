"""The campaign setup workbook: export, round trip, planted changes with their diff and applied values, bad rows
with their exact errors, and unit kinds as campaign data."""

import os
import shutil
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from par_index.campaign import load_campaign
from par_index.errors import CampaignError
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.readers import head_title, salutation
from par_index.setup_workbook import (
    RosterRow,
    SetupWorkbookError,
    apply_workbook,
    check_workbook,
    export_workbook,
    run_action,
    stored_roster,
)

from tests.support.campaigns import HA_TINH_2023

NOW = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)
ROSTER = [
    RosterRow("Nguyễn Văn An", "Giám đốc", "STP", "an.nv@hatinh.example", "Lãnh đạo, quản lý"),
    RosterRow("Trần Thị Bình", "Phó Giám đốc", "STP", "binh.tt@hatinh.example", "Lãnh đạo, quản lý"),
]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A copy of the bundled campaign file and its exported workbook, data under ``tmp_path``."""
    monkeypatch.setenv("PAR_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "ha_tinh_2023.yaml"
    shutil.copy(HA_TINH_2023, path)
    book = export_workbook(load_campaign(path), tmp_path / "so.xlsx")
    return path, book


def _edit(book: Path, change) -> Path:
    wb = load_workbook(book)
    change(wb)
    wb.save(book)
    return book


def _row_of(ws, column: int, value: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, column).value == value)


def test_export_sheets_headers_and_lists(setup):
    """The workbook's sheets, their headers (required ones marked), frozen header and drop-down lists."""
    _, book = setup
    wb = load_workbook(book)
    assert wb.sheetnames == [
        "Đơn vị",
        "Loại đơn vị",
        "Đầu mối",
        "Hội đồng",
        "Phụ lục I",
        "Danh sách khảo sát",
    ]
    units = wb["Đơn vị"]
    assert [c.value for c in units[1]] == [
        "Mã đơn vị (*)",
        "Tên đơn vị (*)",
        "Loại đơn vị (*)",
        "Email đơn vị (*)",
        "Email thủ trưởng (*)",
        "Chức danh thủ trưởng",
        "Hiệu lực từ ngày",
        "Hiệu lực đến ngày",
        "Trạng thái",
    ]
    assert units.freeze_panes == "A2"
    assert [c.value for c in units[_row_of(units, 1, "448")]] == [
        "448",
        "Huyện Lộc Hà",
        "district",
        "ubnd448@hatinh.example",
        "lanhdao.ubnd448@hatinh.example",
        None,
        None,
        "31/12/2024",
        "Đã xác nhận",
    ]
    assert units.max_row == 42  # header + the campaign's 41 units
    assert {(str(dv.sqref), dv.formula1) for dv in units.data_validations.dataValidation} == {
        ("C2:C1000", "'Loại đơn vị'!$A$2:$A$100"),
        ("I2:I1000", '"Đã xác nhận,Suy luận"'),
    }
    kinds = wb["Loại đơn vị"]
    assert [[c.value for c in row] for row in kinds.iter_rows(min_row=2)] == [
        [
            "department",
            "Sở, ban, ngành",
            "Sở → Giám đốc\nVăn phòng → Chánh Văn phòng\nThanh tra → Chánh Thanh tra\nBan → Trưởng ban",
            "Không",
        ],
        ["council_office", "Văn phòng Đoàn ĐBQH và HĐND", "* → Chánh Văn phòng", "Không"],
        ["central_agency", "Cơ quan ngành dọc", "Cục → Cục trưởng", "Không"],
        ["district", "Cấp huyện", "* → Chủ tịch UBND", "Có"],
        ["commune", "Cấp xã", "* → Chủ tịch UBND", "Có"],
    ]
    assert [[c.value for c in row] for row in wb["Đầu mối"].iter_rows(min_row=2)] == [
        [
            "Điều phối viên",
            "Phòng Cải cách hành chính, Sở Nội vụ",
            "cchc.snv@hatinh.example",
            "0239 3855 000",
            None,
        ],
        ["Lãnh đạo Sở Nội vụ", "Giám đốc Sở Nội vụ", "giamdoc.snv@hatinh.example", None, None],
        ["Văn phòng UBND tỉnh", "Văn phòng UBND tỉnh", "vanthu.vpubnd@hatinh.example", None, None],
    ]
    assert [c.value for c in wb["Phụ lục I"][13]] == ["8.p2.3", wb["Phụ lục I"]["B13"].value, "CTHUE"]
    assert wb["Hội đồng"].max_row == 16
    assert wb["Danh sách khảo sát"].max_row == 1


def test_round_trip_is_empty(setup):
    """Exported then imported unchanged: no difference, the same campaign, the same file text."""
    path, book = setup
    check = check_workbook(path, book)
    assert (check.issues, check.diff) == ([], [])
    assert check.campaign == load_campaign(path)
    assert check.text == path.read_text(encoding="utf-8")
    applied = apply_workbook(path, book, NOW)
    assert (applied.diff, applied.backup, applied.roster_file) == ([], None, None)


def _plant(wb):
    units = wb["Đơn vị"]
    units.append(
        [
            "VPHDND",
            "Văn phòng HĐND tỉnh",
            "council_office",
            "vphdnd@hatinh.example",
            "lanhdao.vphdnd@hatinh.example",
        ]
    )
    units.cell(_row_of(units, 1, "STP"), 5, "giamdoc.stp@hatinh.example")
    units.cell(_row_of(units, 1, "SXD"), 9, "Đã xác nhận")
    council = wb["Hội đồng"]
    council.delete_rows(_row_of(council, 1, "Đặng Thị Khoa"))
    assignments = wb["Phụ lục I"]
    assignments.cell(_row_of(assignments, 1, "1.p5"), 3, "SNV")


PLANTED_DIFF = [
    "~ Đơn vị STP (Sở Tư pháp): email thủ trưởng lanhdao.stp@hatinh.example → giamdoc.stp@hatinh.example",
    "~ Đơn vị SXD (Sở Xây dựng): trạng thái Suy luận → Đã xác nhận",
    "+ Đơn vị VPHDND (Văn phòng HĐND tỉnh): thêm",
    "- Thành viên Hội đồng khoa.dt.hd.stp@hatinh.example (Đặng Thị Khoa): bỏ",
    "~ Phụ lục I, mã 1.p5: VPUBND → SNV",
]


def test_planted_changes_diff_and_apply(setup):
    """A new council-office unit, a head's new e-mail, a unit confirmed, a council member removed and one assignment moved: the
    exact diff; applied, the new campaign file holds the new values and still every comment; a rerun changes
    nothing."""
    path, book = setup
    before = path.read_text(encoding="utf-8")
    _edit(book, _plant)
    check = check_workbook(path, book)
    assert (check.issues, check.diff) == ([], PLANTED_DIFF)
    assert path.read_text(encoding="utf-8") == before  # a check writes nothing
    applied = apply_workbook(path, book, NOW)
    assert applied.diff == PLANTED_DIFF
    assert applied.backup == Path(
        path.parent / "data" / "setup" / "ha_tinh_2023" / "luu" / "ha_tinh_2023.20240105-093000.yaml.bak"
    )
    assert applied.backup.read_text(encoding="utf-8") == before
    campaign = load_campaign(path)
    new = campaign.unit_by_code["VPHDND"]
    assert (new.name_vi, new.kind, new.email, new.head_email, new.status) == (
        "Văn phòng HĐND tỉnh",
        "council_office",
        "vphdnd@hatinh.example",
        "lanhdao.vphdnd@hatinh.example",
        "confirmed",
    )
    assert salutation(new, head=True) == "Chánh Văn phòng HĐND tỉnh"
    assert campaign.unit_by_code["STP"].head_email == "giamdoc.stp@hatinh.example"
    assert campaign.unit_by_code["SXD"].status == "confirmed"
    assert [m.name for m in campaign.council.members if m.unit == "STP"] == ["Hoàng Hữu Việt"]
    assert len(campaign.council.members) == 14
    assert campaign.assignments["1.p5"] == "SNV"
    text = path.read_text(encoding="utf-8")
    for comment in [line for line in before.split("\n") if line.lstrip().startswith("#")]:
        assert comment in text
    assert "# số điện thoại mẫu" in text  # an inline comment of a section left as it was
    changed = {a for a, b in zip(before.split("\n"), text.split("\n"), strict=False) if a != b}
    assert (
        '  - {code: "STP", name_vi: "Sở Tư pháp", kind: department, email: stp@hatinh.example, head_email: lanhdao.stp@hatinh.example, status: confirmed}'
        in changed
    )
    again = apply_workbook(path, book, NOW)
    assert (again.diff, again.backup) == ([], None)


def test_word_pasted_text_is_cleaned(setup):
    """A name pasted from Word (decomposed Unicode, no-break and doubled spaces) and an address in capitals
    are the same values: nothing changes."""
    path, book = setup

    def paste(wb):
        units = wb["Đơn vị"]
        row = _row_of(units, 1, "STP")
        units.cell(row, 2, unicodedata.normalize("NFD", "Sở\u00a0Tư  pháp "))
        units.cell(row, 4, " STP@hatinh.example\u200b")

    _edit(book, paste)
    check = check_workbook(path, book)
    assert (check.issues, check.diff) == ([], [])


def test_bad_rows_exact_errors(setup):
    """Every bad cell is named by sheet, row and column; nothing is applied."""
    path, book = setup
    before = path.read_text(encoding="utf-8")

    def spoil(wb):
        units = wb["Đơn vị"]
        units.cell(_row_of(units, 1, "STP"), 4, "stp@@hatinh")
        units.append(["STP", "Sở Tư pháp", "department", "stp2@hatinh.example", "ld.stp2@hatinh.example"])
        units.append(
            ["SNGV2", "Sở Ngoại vụ 2", "so_ngoai_vu", "sngv2@hatinh.example", "ld.sngv2@hatinh.example"]
        )
        units.append(
            [
                "SXD2",
                "Sở Xây dựng 2",
                "department",
                "sxd2@hatinh.example",
                "ld@hatinh.example",
                None,
                None,
                "31/02/2024",
            ]
        )
        units.append(["SYT2", None, "department", "syt2@hatinh.example", "ld.syt2@hatinh.example"])
        assignments = wb["Phụ lục I"]
        assignments.append(["9.9", None, "SNV"])
        assignments.append(["1.p1.1", None, "SXYZ"])
        wb["Đầu mối"].cell(2, 2, "Phòng CCHC")
        wb["Đầu mối"].cell(4, 1, "Văn thư")

    _edit(book, spoil)
    check = check_workbook(path, book)
    assert [str(i) for i in check.issues] == [
        "[SET004] Trang “Đơn vị”, dòng 4, cột “Email đơn vị”: email “stp@@hatinh” không hợp lệ.",
        "[SET005] Trang “Đơn vị”, dòng 43, cột “Mã đơn vị”: mã đơn vị STP bị trùng.",
        "[SET006] Trang “Đơn vị”, dòng 44, cột “Loại đơn vị”: loại “so_ngoai_vu” không có trong trang “Loại đơn vị” "
        "(có: department, council_office, central_agency, district, commune).",
        "[SET009] Trang “Đơn vị”, dòng 45, cột “Hiệu lực đến ngày”: ngày “31/02/2024” không hợp lệ: ghi dạng dd/mm/yyyy.",
        "[SET003] Trang “Đơn vị”, dòng 46, cột “Tên đơn vị”: ô bắt buộc đang trống.",
        "[SET010] Trang “Đầu mối”, dòng 4, cột “Vai trò”: vai trò “Văn thư”: ghi Điều phối viên, Lãnh đạo Sở Nội vụ, "
        "Văn phòng UBND tỉnh.",
        "[SET003] Trang “Đầu mối”: thiếu dòng vai trò “Văn phòng UBND tỉnh”.",
        "[SET008] Trang “Phụ lục I”, dòng 14, cột “Mã tiêu chí”: mã “9.9” không có trong danh mục par_province_2022.",
        "[SET007] Trang “Phụ lục I”, dòng 15, cột “Mã đơn vị”: đơn vị “SXYZ” không có trong trang “Đơn vị”.",
    ]
    with pytest.raises(SetupWorkbookError) as refused:
        apply_workbook(path, book, NOW)
    assert str(refused.value) == "[SET013] Sổ thiết lập có lỗi, chưa áp dụng được:\n" + "\n".join(
        str(i) for i in check.issues
    )
    assert path.read_text(encoding="utf-8") == before


def test_missing_sheet_and_column(setup):
    """A sheet or a column taken out is named."""
    path, book = setup

    def cut(wb):
        del wb["Hội đồng"]
        wb["Phụ lục I"].cell(1, 3, "Đơn vị phụ trách")

    _edit(book, cut)
    assert [str(i) for i in check_workbook(path, book).issues] == [
        "[SET001] Trang “Hội đồng”: thiếu trang này trong sổ thiết lập.",
        "[SET002] Trang “Phụ lục I”, dòng 1, cột “Mã đơn vị”: thiếu cột này ở dòng tiêu đề.",
    ]


def test_campaign_rules_after_import(setup):
    """Rows valid one by one that break a campaign rule (a criterion left unassigned) are refused with the
    campaign loader's message."""
    path, book = setup
    _edit(book, lambda wb: wb["Phụ lục I"].delete_rows(2))  # "1": SNV
    assert [str(i) for i in check_workbook(path, book).issues] == [
        "[SET011] Trang “(cả sổ)”: chiến dịch mới không hợp lệ: Tệp chiến dịch ha_tinh_2023.yaml: trường "
        "'assignments' chưa giao các mã 1.p1.1, 1.p1.2, 1.p2.1, 1.p2.2, 1.p3.1, 1.p3.2, 1.p3.3, 1.p4.1, 1.p4.2, "
        "1.p6.1, 1.p6.2."
    ]


def test_roster_goes_to_the_inbox_as_a_form(setup, tmp_path):
    """The roster sheet becomes a survey roster form in the campaign's inbox that intake reads; the same roster
    again drops nothing new."""
    path, book = setup

    def fill(wb):
        for r in ROSTER:
            wb["Danh sách khảo sát"].append([r.name, r.position, r.unit, r.email, r.group])

    _edit(book, fill)
    applied = apply_workbook(path, book, NOW, roster=[])
    assert applied.diff == ["~ Danh sách khảo sát: 0 → 2 người (gửi vào hộp thư đến)"]
    assert applied.roster_file is not None
    assert applied.roster_file.parent == tmp_path / "data" / "inbox" / "ha_tinh_2023" / "so_thiet_lap"
    form = parse_form(read_sheets(applied.roster_file), load_campaign(path))
    assert (form.kind, form.issues) == ("survey_roster", [])
    assert [(r.name, r.position, r.unit, r.email, r.group) for r in form.records] == [
        (r.name, r.position, r.unit, r.email, r.group) for r in ROSTER
    ]
    assert apply_workbook(path, book, NOW, roster=ROSTER).roster_file is None


def test_run_action_export_and_bad_name(setup, tmp_path):
    """The DAG's task: export into the campaign's setup folder; a path instead of a file name is refused."""
    path, _ = setup
    url = f"sqlite:///{tmp_path / 'store.db'}"
    from par_index.store import migrate

    migrate(url)
    assert run_action(path, "export", "so.xlsx", url, NOW) == [
        f"Đã xuất sổ thiết lập chiến dịch ra {tmp_path / 'data' / 'setup' / 'ha_tinh_2023' / 'so.xlsx'} "
        "(41 đơn vị, 0 người khảo sát)."
    ]
    assert run_action(path, "check", "so.xlsx", url, NOW) == [
        "Kiểm tra xong, không có lỗi. Thay đổi so với tệp chiến dịch:",
        "(không thay đổi)",
    ]
    (tmp_path / "data" / "setup" / "ha_tinh_2023" / "hong.xlsx").write_text(
        "không phải Excel", encoding="utf-8"
    )
    with pytest.raises(SetupWorkbookError) as unreadable:
        run_action(path, "check", "hong.xlsx", url, NOW)
    assert unreadable.value.code == "SET012"
    assert unreadable.value.message.startswith(
        "Không đọc được sổ thiết lập hong.xlsx: không phải tệp Excel .xlsx ("
    )
    with pytest.raises(SetupWorkbookError) as missing:
        run_action(path, "check", "khong_co.xlsx", url, NOW)
    assert str(missing.value) == (
        f"[SET012] Không tìm thấy sổ thiết lập {tmp_path / 'data' / 'setup' / 'ha_tinh_2023' / 'khong_co.xlsx'}."
    )
    with pytest.raises(SetupWorkbookError) as refused:
        run_action(path, "export", "../ha_tinh_2023.yaml", url, NOW)
    assert str(refused.value) == (
        "[SET014] Tên tệp “../ha_tinh_2023.yaml” không hợp lệ: chỉ tên tệp .xlsx, không kèm thư mục."
    )


def test_run_action_check_and_apply(setup, tmp_path):
    """The DAG's task on an edited workbook: the check prints the changes and writes nothing, the apply prints
    them with the backup's path."""
    path, book = setup
    url = f"sqlite:///{tmp_path / 'store.db'}"
    from par_index.store import migrate

    migrate(url)
    folder = tmp_path / "data" / "setup" / "ha_tinh_2023"
    folder.mkdir(parents=True)
    _edit(shutil.copy(book, folder / "so.xlsx"), _plant)
    before = path.read_text(encoding="utf-8")
    assert run_action(path, "check", "so.xlsx", url, NOW) == [
        "Kiểm tra xong, không có lỗi. Thay đổi so với tệp chiến dịch:",
        *PLANTED_DIFF,
    ]
    assert path.read_text(encoding="utf-8") == before
    assert run_action(path, "apply", "so.xlsx", url, NOW) == [
        "Đã áp dụng sổ thiết lập. Thay đổi:",
        *PLANTED_DIFF,
        f"Bản trước của tệp chiến dịch: {folder / 'luu' / 'ha_tinh_2023.20240105-093000.yaml.bak'}",
    ]


def test_setup_dag_form(setup):
    """The campaign's setup DAG: its id, display name, one task and the Params form (action, file name)."""
    from par_index.airflow.dag_factory import build_setup_dag

    path, _ = setup
    dag = build_setup_dag(load_campaign(path), path)
    assert (dag.dag_id, dag.dag_display_name, [t.task_id for t in dag.tasks]) == (
        "par_ha_tinh_2023_setup",
        "Sổ thiết lập chiến dịch — Chỉ số CCHC 2023 — Tỉnh Hà Tĩnh",
        ["setup_workbook"],
    )
    assert dag.params.dump() == {"action": "check", "file_name": "so_thiet_lap_ha_tinh_2023.xlsx"}
    assert dag.params.get_param("action").schema["enum"] == ["export", "check", "apply"]
    assert sorted(dag.tags) == ["2023", "ha_tinh", "par-index", "setup"]


# ---- unit kinds as data ---------------------------------------------------------------------------------------
CUSTOM_KINDS = """
unit_kinds:
  public_service_unit:
    title_vi: "Đơn vị sự nghiệp công lập"
    head_titles: [{prefix: "Trường ", title_vi: "Hiệu trưởng"}, {prefix: "", title_vi: "Giám đốc"}]
"""
NEW_UNIT = (
    '  - {code: "DHHT", name_vi: "Trường Đại học Hà Tĩnh", kind: public_service_unit, email: dhht@hatinh.example, '
    "head_email: lanhdao.dhht@hatinh.example}\n"
)


def test_custom_unit_kind_loads(tmp_path):
    """A campaign file with its own kind: the unit takes its head title rule and its group title."""
    path = tmp_path / "ha_tinh_2023.yaml"
    text = HA_TINH_2023.read_text(encoding="utf-8").replace("\nunits:\n", f"\n{CUSTOM_KINDS}\nunits:\n")
    path.write_text(text + NEW_UNIT, encoding="utf-8")
    campaign = load_campaign(path)
    unit = campaign.unit_by_code["DHHT"]
    assert (unit.kind_def.title_vi, head_title(unit), salutation(unit, head=True)) == (
        "Đơn vị sự nghiệp công lập",
        "Hiệu trưởng",
        "Hiệu trưởng Trường Đại học Hà Tĩnh",
    )
    assert list(campaign.kinds) == [
        "department",
        "council_office",
        "central_agency",
        "district",
        "commune",
        "public_service_unit",
    ]


def test_unknown_unit_kind_refused(tmp_path):
    """A unit of a kind the campaign does not define is refused, naming the unit and the known kinds."""
    path = tmp_path / "ha_tinh_2023.yaml"
    path.write_text(HA_TINH_2023.read_text(encoding="utf-8") + NEW_UNIT, encoding="utf-8")
    with pytest.raises(CampaignError) as refused:
        load_campaign(path)
    assert str(refused.value) == (
        "[CMP003] Tệp chiến dịch ha_tinh_2023.yaml không hợp lệ — trường '(gốc)': Value error, units: loại đơn vị "
        "'public_service_unit' của DHHT không có trong unit_kinds (có: department, council_office, central_agency, "
        "district, commune)"
    )


def test_custom_kind_round_trips_through_the_workbook(tmp_path, monkeypatch):
    """A custom kind exports to "Loại đơn vị" and imports back unchanged."""
    monkeypatch.setenv("PAR_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "ha_tinh_2023.yaml"
    text = HA_TINH_2023.read_text(encoding="utf-8").replace("\nunits:\n", f"\n{CUSTOM_KINDS}\nunits:\n")
    path.write_text(text + NEW_UNIT, encoding="utf-8")
    book = export_workbook(load_campaign(path), tmp_path / "so.xlsx")
    kinds = load_workbook(book)["Loại đơn vị"]
    assert [c.value for c in kinds[7]] == [
        "public_service_unit",
        "Đơn vị sự nghiệp công lập",
        "Trường → Hiệu trưởng\n* → Giám đốc",
        "Không",
    ]
    check = check_workbook(path, book)
    assert (check.issues, check.diff, check.campaign == load_campaign(path)) == ([], [], True)


def test_roster_flows_through_intake_and_exports_back(tmp_path, runtime):
    """The applied roster is read by the normal intake into the store, and the next export's roster sheet is it;
    run_action's export counts it."""
    from par_index.intake.inbox import ingest
    from par_index.service import prepare
    from par_index.store import session_scope

    path = tmp_path / "ha_tinh_2023.yaml"
    shutil.copy(HA_TINH_2023, path)
    campaign = load_campaign(path)
    prepare(campaign, runtime)
    book = export_workbook(campaign, tmp_path / "so.xlsx")

    def fill(wb):
        for r in ROSTER:
            wb["Danh sách khảo sát"].append([r.name, r.position, r.unit, r.email, r.group])

    _edit(book, fill)
    with session_scope(runtime.store_url) as s:
        applied = apply_workbook(path, book, NOW, roster=stored_roster(s, campaign))
        assert applied.roster_file is not None
        sent = datetime(
            2023, 12, 22, 9, tzinfo=campaign.tz
        )  # as if written then: intake waits for fresh files
        os.utime(applied.roster_file, (sent.timestamp(), sent.timestamp()))
        results = ingest(s, campaign, "survey", now=sent + timedelta(hours=1)).results
        assert [(r.kind, r.status) for r in results] == [("survey_roster", "accepted")]
    with session_scope(runtime.store_url) as s:
        assert stored_roster(s, campaign) == ROSTER
    assert run_action(path, "export", "lai.xlsx", runtime.store_url, NOW)[0].endswith(
        "(41 đơn vị, 2 người khảo sát)."
    )
    sheet = load_workbook(tmp_path / "data" / "setup" / "ha_tinh_2023" / "lai.xlsx")["Danh sách khảo sát"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        [r.name, r.position, r.unit, r.email, r.group] for r in ROSTER
    ]
