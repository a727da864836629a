"""The blank form templates: protected headers, drop-down lists from the campaign, a round trip, and their
regeneration by the pipeline whenever the campaign file or its catalogue changes (no command)."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from par_index import catalogue
from par_index.campaign import load_campaign
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.intake.templates import FINGERPRINT_FILE, blank_forms, fingerprint, template_for
from par_index.paths import CRITERIA_DIR
from support.campaigns import HA_TINH_2023

KINDS = ["appendix_ii", "appendix_iv", "appendix_iii", "survey_roster"]
FILE_NAMES = {
    "appendix_ii": "phu_luc_ii_bao_cao_tu_cham_diem.xlsx",
    "appendix_iv": "phu_luc_iv_cong_chuc_dau_moi.xlsx",
    "appendix_iii": "phu_luc_iii_tai_khoan_phan_mem.xlsx",
    "survey_roster": "khao_sat_danh_sach_nguoi_tra_loi.xlsx",
}


def _values(path):
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


@pytest.mark.parametrize("kind", KINDS)
def test_headers_are_locked_inputs_open_and_codes_offered_as_lists(data_dir, campaign, kind):
    wb = load_workbook(template_for(campaign, kind))
    form = wb["Biểu mẫu"]
    assert form.protection.sheet and wb["Danh mục"].protection.sheet
    header_row = next(r for r in range(1, 10) if form.cell(r, 1).value == "STT")
    assert form.cell(header_row, 2).protection.locked
    assert not form.cell(header_row + 1, 2).protection.locked
    assert form.cell(1, 1).protection.locked
    formulas = {dv.formula1 for dv in form.data_validations.dataValidation}
    assert formulas and all(f.startswith("'Danh mục'!") for f in formulas)
    lists = wb["Danh mục"]
    units = [c.value for c in lists["A"][1:] if c.value]
    assert units == [u.code for u in campaign.active_units]
    criteria = [c.value for c in lists["C"][1:] if c.value]
    assert criteria == list(campaign.assignment_of)


def test_example_sheet_is_a_valid_filled_form(data_dir, tmp_path, campaign):
    wb = load_workbook(template_for(campaign, "appendix_ii"))
    del wb["Biểu mẫu"]
    wb["Ví dụ"].title = "Báo cáo"
    path = tmp_path / "example.xlsx"
    wb.save(path)
    form = parse_form(read_sheets(path), campaign)
    assert form.kind == "appendix_ii" and form.unit_code == "STP" and form.errors == []
    assert len(form.records) == 2


def test_filled_appendix_ii_template_reads_back_exactly(data_dir, tmp_path, campaign):
    wb = load_workbook(template_for(campaign, "appendix_ii"))
    ws = wb["Biểu mẫu"]
    ws["B2"], ws["B3"], ws["B4"], ws["B5"] = "Sở Tài chính (STC)", "45/BC-STC", "14/01/2024", "Trần Thị B"
    assert ws["A6"].value == "Khó khăn, vướng mắc, đề xuất:" and "B6:H6" in ws.merged_cells
    ws["B6"] = "Khó khăn: phần mềm chậm.\r\n\r\nĐề xuất: tập huấn\u00a0thêm.\r\n"  # pasted from Word
    leaves = [code for code, unit in campaign.assignment_of.items() if unit == "STC"]
    filled = []
    for n, code in enumerate(leaves):
        maximum = campaign.catalogue[code].max_points
        score = maximum - campaign.catalogue[code].step * (n % 2)
        evidence = None if n == 1 else f"Số {n + 10}/QĐ-STC ngày 0{n % 9 + 1}/03/2023"
        explanation = "Chưa có văn bản" if n == 1 else None
        for col, value in enumerate(
            [n + 1, code, None, float(maximum), str(score).replace(".", ","), evidence, explanation], 1
        ):
            ws.cell(9 + n, col, value)  # the titles stand on row 8
        filled.append((code, score, evidence, explanation))
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    form = parse_form(read_sheets(path), campaign)
    assert form.errors == [] and form.unit_code == "STC"
    assert form.header == {
        "unit": "Sở Tài chính (STC)",
        "number": "45/BC-STC",
        "date": "2024-01-14",
        "signer": "Trần Thị B",
        "difficulties": "Khó khăn: phần mềm chậm.\n\nĐề xuất: tập huấn thêm.",
    }
    assert [(r.criterion, r.score, r.evidence, r.explanation) for r in form.records] == filled
    assert all(isinstance(r.score, Decimal) for r in form.records)


def test_filled_appendix_iv_template_reads_back_exactly(data_dir, tmp_path, campaign):
    wb = load_workbook(template_for(campaign, "appendix_iv"))
    ws = wb["Biểu mẫu"]
    ws["B2"] = "Sở Nội vụ (SNV)"
    people = [
        ("Lê Thị Hà", "Trưởng phòng", "Phòng CCHC", "1,4", "0912345678", "ha.lt@hatinh.example", "x"),
        (
            "Phan Văn Nam",
            "Phó Trưởng phòng",
            "Phòng TCBM",
            "5",
            "+84987654321",
            "nam.pv@hatinh.example",
            None,
        ),
    ]
    for n, p in enumerate(people, 1):
        for col, value in enumerate([n, *p], 1):
            ws.cell(4 + n, col, value)  # the titles stand on row 4
    path = tmp_path / "pl4.xlsx"
    wb.save(path)
    form = parse_form(read_sheets(path), campaign)
    assert form.errors == [] and form.unit_code == "SNV"
    assert [
        (r.name, r.position, r.division, ",".join(r.areas), r.phone, r.email, r.council) for r in form.records
    ] == [(*p[:6], p[6] == "x") for p in people]


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the bundled campaign file with one text replaced (it occurs exactly once)."""
    text = HA_TINH_2023.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "campaigns" / HA_TINH_2023.name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _state(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of a folder (hidden ones too) → (mtime in ns, content)."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def _unit_names(folder: Path, kind: str = "appendix_ii") -> list[str]:
    lists = load_workbook(folder / FILE_NAMES[kind])["Danh mục"]
    return [c.value for c in lists["B"][1:] if c.value]


def test_forms_are_written_into_the_data_folder_with_their_fingerprint(data_dir, campaign):
    folder = blank_forms(campaign)
    assert folder == data_dir / "forms" / "ha_tinh_2023"
    assert sorted(p.name for p in folder.iterdir()) == sorted([FINGERPRINT_FILE, *FILE_NAMES.values()])
    assert sorted(p.name for p in folder.parent.iterdir()) == [".ha_tinh_2023.lock", "ha_tinh_2023"]
    assert (folder / FINGERPRINT_FILE).read_text(encoding="utf-8") == fingerprint(campaign) + "\n"
    assert {kind: template_for(campaign, kind) for kind in KINDS} == {
        k: folder / FILE_NAMES[k] for k in KINDS
    }


def test_an_unchanged_campaign_leaves_the_forms_untouched(data_dir, campaign):
    folder = blank_forms(campaign)
    before = _state(folder)
    assert blank_forms(load_campaign(HA_TINH_2023)) == folder  # the file read again: same validated content
    assert _state(folder) == before


def test_a_unit_renamed_in_the_campaign_file_regenerates_the_forms(data_dir, tmp_path, campaign):
    folder = blank_forms(campaign)
    assert "Sở Tài chính (STC)" in _unit_names(folder)
    renamed = load_campaign(
        _copy_with(tmp_path, 'name_vi: "Sở Tài chính",', 'name_vi: "Sở Tài chính tỉnh Hà Tĩnh",')
    )
    assert fingerprint(renamed) != fingerprint(campaign)
    assert blank_forms(renamed) == folder
    for kind in KINDS:
        names = _unit_names(folder, kind)
        assert "Sở Tài chính tỉnh Hà Tĩnh (STC)" in names and "Sở Tài chính (STC)" not in names
    assert (folder / FINGERPRINT_FILE).read_text(encoding="utf-8") == fingerprint(renamed) + "\n"
    assert sorted(p.name for p in folder.parent.iterdir()) == [".ha_tinh_2023.lock", "ha_tinh_2023"]


def test_a_criterion_renamed_in_the_catalogue_regenerates_the_forms(
    data_dir, tmp_path, campaign, monkeypatch
):
    folder = blank_forms(campaign)
    old, new = "Ban hành kế hoạch CCHC năm đúng thời hạn", "Ban hành kế hoạch CCHC năm 2023 đúng thời hạn"
    text = (CRITERIA_DIR / "par_province_2022.yaml").read_text(encoding="utf-8")
    assert text.count(f"name_vi: {old}\n") == 1
    (tmp_path / "par_province_2022.yaml").write_text(
        text.replace(f"name_vi: {old}\n", f"name_vi: {new}\n"), encoding="utf-8"
    )
    monkeypatch.setattr(catalogue, "CRITERIA_DIR", tmp_path)
    blank_forms(load_campaign(HA_TINH_2023))
    lists = load_workbook(folder / FILE_NAMES["appendix_ii"])["Danh mục"]
    assert (lists["C2"].value, lists["D2"].value) == ("1.p1.1", new)


def test_a_half_written_generation_is_replaced(data_dir, campaign):
    folder = data_dir / "forms" / "ha_tinh_2023"
    folder.mkdir(parents=True)
    (folder / FILE_NAMES["appendix_iv"]).write_bytes(b"PK\x03\x04 cut off")  # no .fingerprint: never finished
    leftover = data_dir / "forms" / ".ha_tinh_2023.new.k3x9"  # a process killed before its swap
    leftover.mkdir()
    assert blank_forms(campaign) == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([FINGERPRINT_FILE, *FILE_NAMES.values()])
    assert load_workbook(folder / FILE_NAMES["appendix_iv"])["Biểu mẫu"]["A1"].value == (
        "PHỤ LỤC IV — DANH SÁCH CÔNG CHỨC ĐẦU MỐI"
    )
    assert sorted(p.name for p in folder.parent.iterdir()) == [".ha_tinh_2023.lock", "ha_tinh_2023"]


def test_two_processes_racing_leave_one_complete_generation(data_dir, tmp_path, campaign):
    blank_forms(campaign)
    renamed = _copy_with(tmp_path, 'name_vi: "Sở Tài chính",', 'name_vi: "Sở Tài chính tỉnh Hà Tĩnh",')
    script = (
        "import sys\n"
        "from par_index.campaign import load_campaign\n"
        "from par_index.intake.templates import blank_forms\n"
        "sys.stdin.readline()\n"  # both wait here, then start together
        "print(blank_forms(load_campaign(sys.argv[1])))\n"
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(renamed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    for racer in racers:  # both released before either is waited for
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outputs = [r.communicate(timeout=120) for r in racers]
    folder = data_dir / "forms" / "ha_tinh_2023"
    assert [(r.returncode, out, err) for r, (out, err) in zip(racers, outputs, strict=True)] == [
        (0, f"{folder}\n", "")
    ] * 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([FINGERPRINT_FILE, *FILE_NAMES.values()])
    assert "Sở Tài chính tỉnh Hà Tĩnh (STC)" in _unit_names(folder)
    assert (folder / FINGERPRINT_FILE).read_text(encoding="utf-8") == fingerprint(
        load_campaign(renamed)
    ) + "\n"
    assert sorted(p.name for p in folder.parent.iterdir()) == [".ha_tinh_2023.lock", "ha_tinh_2023"]


def test_the_campaign_dags_first_task_refreshes_the_forms_and_logs_their_folder(
    runtime, data_dir, campaign, caplog
):
    from par_index.service import prepare

    stale = data_dir / "forms" / "ha_tinh_2023"
    stale.mkdir(parents=True)
    made_before = "0" * 64 + "\n"  # the fingerprint of an older campaign file
    (stale / FINGERPRINT_FILE).write_text(made_before, encoding="utf-8")
    with caplog.at_level("INFO", logger="par_index"):
        result = prepare(campaign, runtime)
    assert result["blank_forms"] == str(stale)
    assert (stale / FINGERPRINT_FILE).read_text(encoding="utf-8") == fingerprint(campaign) + "\n"
    assert sorted(p.name for p in stale.iterdir()) == sorted([FINGERPRINT_FILE, *FILE_NAMES.values()])
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.name in ("par_index.intake.templates", "par_index.service")
    ]
    assert logged == [
        f"Đã tạo lại biểu mẫu trống của chiến dịch ha_tinh_2023: {stale}",
        f"Biểu mẫu trống (cập nhật theo tệp chiến dịch và danh mục tiêu chí): {stale}",
    ]
