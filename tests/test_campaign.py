from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from par_index.campaign import load_campaign
from par_index.errors import CampaignError
from support.campaigns import HA_TINH_2023

# The domain's list of Hà Tĩnh's units (shared/domain/ha_tinh_units_2023.yaml), vendored: the check always runs.
SHARED_UNITS = Path(__file__).parent / "data" / "ha_tinh_units_2023.yaml"


def test_deadlines_are_the_end_of_the_local_day(campaign):
    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    assert campaign.deadline_at("nominees") == datetime(2023, 12, 30, 23, 59, 59, tzinfo=hcm)
    assert campaign.deadline_at("survey") == datetime(2023, 12, 31, 23, 59, 59, tzinfo=hcm)
    assert campaign.deadline_at("self_scores") == datetime(2024, 1, 16, 23, 59, 59, tzinfo=hcm)
    assert campaign.deadline_at("report") == datetime(2024, 1, 20, 23, 59, 59, tzinfo=hcm)


def test_units_appendix_i_and_inferred_markers(campaign):
    assert len(campaign.active_units) == 41
    assert campaign.unit_by_code["448"].valid_until.isoformat() == "2024-12-31"
    shared = yaml.safe_load(SHARED_UNITS.read_text(encoding="utf-8"))
    assert {u["code"] for u in shared["units"]} == {u.code for u in campaign.units}
    assert campaign.assignments_status == "inferred"
    assert campaign.directive.issued_on_status == "inferred"
    assert set(campaign.assignment_of) == {leaf.code for leaf in campaign.catalogue.self_scored_leaves}
    assert campaign.area_owners["SKHDT"] == ["6", "8"]
    assert campaign.dag_id == "par_ha_tinh_2023"


def test_unit_found_by_code_or_exact_name(campaign):
    assert campaign.unit_for("Sở Tư pháp").code == "STP"
    assert campaign.unit_for("Sở Tư pháp (STP)").code == "STP"
    assert campaign.unit_for("stp").code == "STP"
    assert campaign.unit_for("Sở Tư Pháp Hà Nội") is None


def _refusal(tmp_path, mutate) -> str:
    data = yaml.safe_load(HA_TINH_2023.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CampaignError) as info:
        load_campaign(path)
    return str(info.value)


def test_error_names_field_and_value_for_a_bad_email(tmp_path):
    message = _refusal(tmp_path, lambda d: d["units"][2].update(email="khong-phai-email"))
    assert "units.2.email" in message and "khong-phai-email" in message


def test_error_names_field_and_value_for_a_bad_deadline(tmp_path):
    message = _refusal(tmp_path, lambda d: d["deadlines"]["survey"].update(due="31/12/2023"))
    assert "deadlines.survey.due" in message and "31/12/2023" in message


def test_error_for_a_missing_deadline(tmp_path):
    message = _refusal(tmp_path, lambda d: d["deadlines"].pop("report"))
    assert "deadlines" in message and "report" in message


def test_error_for_an_assignment_to_an_unknown_unit(tmp_path):
    message = _refusal(tmp_path, lambda d: d["assignments"].update({"2": "SXYZ"}))
    assert "assignments['2']" in message and "SXYZ" in message


def test_error_for_an_unassigned_criterion(tmp_path):
    message = _refusal(tmp_path, lambda d: d["assignments"].pop("4"))
    assert "assignments" in message and "4.p1.1" in message


def test_error_for_a_bad_reminder_duration(tmp_path):
    message = _refusal(tmp_path, lambda d: d.setdefault("reminders", {}).update(min_gap="hai ngày"))
    assert "reminders.min_gap" in message and "hai ngày" in message


def test_coordinator_alerts_fire_at_alert_time_on_their_day_and_at_the_deadline(campaign):
    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    assert [(p, b, f"{m.astimezone(hcm):%d/%m/%Y %H:%M:%S}") for p, b, m in campaign.alert_moments()] == [
        ("nominees", "3d", "27/12/2023 08:00:00"),
        ("nominees", "1d", "29/12/2023 08:00:00"),
        ("nominees", None, "30/12/2023 23:59:59"),
        ("survey", "3d", "28/12/2023 08:00:00"),
        ("survey", "1d", "30/12/2023 08:00:00"),  # a Saturday: alerts go
        ("survey", None, "31/12/2023 23:59:59"),
        ("self_scores", "3d", "13/01/2024 08:00:00"),
        ("self_scores", "1d", "15/01/2024 08:00:00"),
        ("self_scores", None, "16/01/2024 23:59:59"),
        ("report", "3d", "17/01/2024 08:00:00"),
        ("report", "1d", "19/01/2024 08:00:00"),
        ("report", None, "20/01/2024 23:59:59"),
    ]
    data = campaign.model_dump()
    data["reminders"] |= {"alert_time": "07:30", "alerts_before": ["2d", "12h"]}
    other = type(campaign).model_validate(data)
    assert [(b, f"{m:%d/%m/%Y %H:%M}") for p, b, m in other.alert_moments() if p == "nominees"] == [
        ("2d", "28/12/2023 07:30"),
        ("12h", "30/12/2023 11:59"),
        (None, "30/12/2023 23:59"),
    ]


@pytest.mark.parametrize("value", ["8:00", "24:00", "08h00"])
def test_alert_time_is_hh_mm(tmp_path, value):
    message = _refusal(tmp_path, lambda d: d.setdefault("reminders", {}).update(alert_time=value))
    assert "reminders.alert_time" in message


def test_calendar_overrides_are_dates_and_disjoint(tmp_path):
    message = _refusal(
        tmp_path,
        lambda d: d.update(calendar={"extra_days_off": ["2024-01-02"], "extra_working_days": ["2024-01-02"]}),
    )
    assert "calendar" in message and "02/01/2024 vừa là ngày nghỉ vừa là ngày làm việc" in message


def test_the_report_number_defaults_to_the_coordinators_code(tmp_path, campaign):
    assert campaign.report_number == "…/BC-SNV"  # as the campaign file writes it
    data = yaml.safe_load(HA_TINH_2023.read_text(encoding="utf-8"))
    del data["report"]["number"]
    data["deadlines"]["report"]["owner"] = "VPUBND"
    path = tmp_path / "khong_so.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_campaign(path).report_number == "…/BC-VPUBND"  # the coordinator's code, not a fixed "SNV"
