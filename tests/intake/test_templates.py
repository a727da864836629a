"""The blank form templates: protected headers, drop-down lists from the campaign, and a round trip."""

from decimal import Decimal

import pytest
from openpyxl import load_workbook
from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index.intake.templates import template_path, write_templates

KINDS = ["appendix_ii", "appendix_iv", "appendix_iii", "survey_roster"]


def _values(path):
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


@pytest.mark.parametrize("kind", KINDS)
def test_committed_templates_are_up_to_date(tmp_path, campaign, kind):
    fresh = write_templates(campaign, tmp_path)[kind]
    assert _values(template_path(campaign, kind)) == _values(fresh), (
        "run: python -m par_index.intake.templates"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_headers_are_locked_inputs_open_and_codes_offered_as_lists(campaign, kind):
    wb = load_workbook(template_path(campaign, kind))
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


def test_example_sheet_is_a_valid_filled_form(tmp_path, campaign):
    wb = load_workbook(template_path(campaign, "appendix_ii"))
    del wb["Biểu mẫu"]
    wb["Ví dụ"].title = "Báo cáo"
    path = tmp_path / "example.xlsx"
    wb.save(path)
    form = parse_form(read_sheets(path), campaign)
    assert form.kind == "appendix_ii" and form.unit_code == "STP" and form.errors == []
    assert len(form.records) == 2


def test_filled_appendix_ii_template_reads_back_exactly(tmp_path, campaign):
    wb = load_workbook(template_path(campaign, "appendix_ii"))
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


def test_filled_appendix_iv_template_reads_back_exactly(tmp_path, campaign):
    wb = load_workbook(template_path(campaign, "appendix_iv"))
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


def test_a_campaign_without_committed_templates_gets_them_written_once(data_dir, campaign):
    from par_index.intake.templates import template_for

    other = campaign.model_copy(
        update={"campaign": campaign.campaign.model_copy(update={"id": "ha_tinh_2099"})}
    )
    path = template_for(other, "appendix_iv")
    assert path.is_relative_to(data_dir) and path.exists()
    assert template_for(other, "appendix_iv") == path
    assert template_for(campaign, "appendix_iv") == template_path(campaign, "appendix_iv")
