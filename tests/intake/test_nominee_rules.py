"""Nominee-rule breaches are reported by intake as warnings on the Appendix IV file, at the cell at fault; the file
is kept and the nominee phase still judges the unit by the same rules."""

from datetime import UTC, datetime, timedelta

from par_index.intake.forms import parse_form
from par_index.intake.sheets import read_sheets
from par_index_dev.sample_data import IV_MINIMAL_COLUMNS as IV
from par_index_dev.writer import write_xlsx


def _iv(tmp_path, campaign, unit: str, people: list[tuple[str, str]]):
    path = write_xlsx(
        tmp_path / f"pl4_{unit}.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", unit)],
        IV,
        [
            [i, name, "Chuyên viên", areas, f"nguoi{i}.{unit.lower()}@hatinh.example"]
            for i, (name, areas) in enumerate(people, 1)
        ],
    )
    return parse_form(read_sheets(path), campaign)


def _rule_warnings(form) -> list[tuple]:
    return [
        (i.severity, i.sheet, i.row, i.cell, i.column, i.message) for i in form.issues if i.code == "INT046"
    ]


def test_a_unit_allowed_one_person_naming_two_is_warned_at_the_second_name(tmp_path, campaign):
    assert "SKHDT" in campaign.nominee_rules.exactly_one
    form = _iv(tmp_path, campaign, "SKHDT", [("Lê Văn Dương", "6,8"), ("Phan Thị Hà", "6")])
    assert not form.rejected and [r.row for r in form.records] == [5, 6]
    assert _rule_warnings(form) == [
        (
            "warning",
            "Biểu mẫu",
            6,
            "B6",
            "Họ và tên",
            "Đơn vị cử 2 người, quy định đúng 01 người: người ở dòng này vượt số được cử. Chỉ giữ lại 01 người "
            "rồi gửi lại tệp.",
        )
    ]


def test_three_people_for_one_area_and_an_owned_area_with_nobody_are_warned_at_their_cells(
    tmp_path, campaign
):
    assert campaign.area_owners["VPUBND"] == ["1", "3", "7"]
    form = _iv(
        tmp_path,
        campaign,
        "VPUBND",
        [("Nguyễn Văn An", "1,3"), ("Trần Thị Bình", "1"), ("Hồ Văn Cường", "1")],
    )
    assert not form.rejected and len(form.records) == 3
    assert _rule_warnings(form) == [
        (
            "warning",
            "Biểu mẫu",
            7,
            "D7",
            "Lĩnh vực phụ trách",
            "Quy định về đầu mối, lĩnh vực 1: 3 người (quy định 01–02): người ở dòng này vượt số được cử. Bỏ bớt "
            "người cho lĩnh vực 1 hoặc giao người này lĩnh vực khác rồi gửi lại tệp.",
        ),
        (
            "warning",
            "Biểu mẫu",
            4,
            "D4",
            "Lĩnh vực phụ trách",
            "Quy định về đầu mối, lĩnh vực 7: 0 người (quy định 01–02): chưa đủ người phụ trách lĩnh vực 7. Ghi "
            "lĩnh vực 7 cho một người ở cột này (thêm dòng nếu cần) rồi gửi lại tệp.",
        ),
    ]


def test_a_list_within_the_rules_has_no_rule_warning_and_the_phase_judges_breaches_alike(
    tmp_path, campaign, runtime
):
    import os

    from par_index.intake.inbox import ingest
    from par_index.paths import inbox_dir
    from par_index.phases import evaluate
    from par_index.service import prepare
    from par_index.store import session_scope
    from par_index.store.models import IntakeIssue

    assert _rule_warnings(_iv(tmp_path, campaign, "STP", [("Lê Văn A", "2")])) == []
    prepare(campaign, runtime)
    path = write_xlsx(
        inbox_dir(campaign.id) / "pl4_SKHDT.xlsx",
        "PHỤ LỤC IV",
        [("Đơn vị", "SKHDT")],
        IV,
        [
            [1, "Lê Văn Dương", "Chuyên viên", "6,8", "a@hatinh.example"],
            [2, "Phan Thị Hà", "Chuyên viên", "6", "b@hatinh.example"],
        ],
    )
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    os.utime(path, (hour_ago, hour_ago))
    with session_scope(runtime.store_url) as s:
        [result] = ingest(s, campaign, "nominees").results
        stored = s.query(IntakeIssue).filter(
            IntakeIssue.file_id == result.file_id, IntakeIssue.code == "INT046"
        )
        assert [(i.severity, i.row, i.cell) for i in stored] == [("warning", 6, "B6")]
        state = evaluate(s, campaign, "nominees")  # now: the file has arrived
    assert result.status == "accepted"
    assert (state.units["SKHDT"].reason, state.units["SKHDT"].detail) == (
        "invalid",
        "cử 2 người, quy định đúng 01 người.",
    )
