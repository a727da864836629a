"""Working days (workdays.py) from the `holidays` package's Vietnamese calendar and the campaign file's overrides,
and the reminder ladder that keeps to them (reminders.py)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from par_index.campaign import Campaign, WorkCalendar
from par_index.reminders import rungs, working_day_for_reminders
from par_index.workdays import (
    add_working_days,
    is_working_day,
    next_working_day,
    previous_working_day,
    vn_holidays,
)
from pydantic import ValidationError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _holidays(first: date, last: date) -> dict[date, str]:
    return {
        d: n
        for year in range(first.year, last.year + 1)
        for d, n in vn_holidays(year).items()
        if first <= d <= last
    }


def test_the_campaign_window_has_one_holiday():
    assert _holidays(date(2023, 12, 20), date(2024, 1, 31)) == {date(2024, 1, 1): "Tết Dương lịch"}
    off = [
        date(2023, 12, 20) + timedelta(days=n)
        for n in range(43)
        if not is_working_day(date(2023, 12, 20) + timedelta(days=n))
    ]
    assert [f"{d:%d/%m}" for d in off] == [
        "23/12",
        "24/12",
        "30/12",
        "31/12",
        "01/01",
        "06/01",
        "07/01",
        "13/01",
        "14/01",
        "20/01",
        "21/01",
        "27/01",
        "28/01",
    ]


def test_tet_and_the_holidays_of_2024_with_days_in_lieu():
    assert sorted(_holidays(date(2024, 1, 1), date(2024, 12, 31))) == [
        date(2024, 1, 1),
        *[date(2024, 2, d) for d in range(8, 15)],
        date(2024, 4, 18),
        date(2024, 4, 29),
        date(2024, 4, 30),
        date(2024, 5, 1),
        date(2024, 9, 2),
        date(2024, 9, 3),
    ]
    assert [d for d in range(8, 15) if is_working_day(date(2024, 2, d))] == []  # Tết: 08/02–14/02/2024
    assert is_working_day(date(2024, 5, 4))  # a Saturday worked in lieu of Monday 29/04/2024
    assert not is_working_day(date(2024, 4, 29))
    assert previous_working_day(date(2024, 2, 15)) == date(2024, 2, 7)
    assert next_working_day(date(2024, 2, 7)) == date(2024, 2, 15)


def test_the_compensatory_days_of_2023():
    assert {
        d for d, name in _holidays(date(2023, 1, 1), date(2023, 12, 31)).items() if "nghỉ bù" in name
    } == {date(2023, 1, 2), date(2023, 5, 2), date(2023, 5, 3), date(2023, 9, 4)}
    assert not is_working_day(date(2023, 9, 4))  # Monday in lieu of Saturday 02/09/2023


def test_previous_and_next_working_day_around_new_year_2024():
    assert previous_working_day(date(2024, 1, 2)) == date(2023, 12, 29)
    assert next_working_day(date(2023, 12, 29)) == date(2024, 1, 2)
    assert previous_working_day(date(2023, 12, 27)) == date(2023, 12, 26)
    assert add_working_days(datetime(2024, 1, 19, 23, 59, 59, tzinfo=HCM), 1) == datetime(
        2024, 1, 22, 23, 59, 59, tzinfo=HCM
    )
    assert add_working_days(datetime(2023, 12, 30, 23, 59, 59, tzinfo=HCM), 2) == datetime(
        2024, 1, 3, 23, 59, 59, tzinfo=HCM
    )


def test_the_campaign_file_overrides_the_calendar(campaign):
    assert campaign.calendar == WorkCalendar()  # the 2023 file's calendar: section is empty
    cal = WorkCalendar(extra_days_off=[date(2024, 1, 2)], extra_working_days=[date(2023, 12, 30)])
    assert is_working_day(date(2023, 12, 30), cal) and not is_working_day(date(2024, 1, 2), cal)
    assert previous_working_day(date(2024, 1, 3), cal) == date(2023, 12, 30)
    assert next_working_day(date(2023, 12, 30), cal) == date(2024, 1, 3)
    with pytest.raises(ValidationError, match="30/12/2023 vừa là ngày nghỉ vừa là ngày làm việc"):
        WorkCalendar(extra_days_off=[date(2023, 12, 30)], extra_working_days=[date(2023, 12, 30)])


def _with(campaign: Campaign, **changes) -> Campaign:
    return Campaign.model_validate(campaign.model_dump() | changes)


def _ladder(campaign: Campaign, phase: str) -> list[tuple[str, str]]:
    return [(r.name, f"{r.at.astimezone(HCM):%a %d/%m %H:%M}") for r in rungs(campaign, phase)]


def test_the_2023_ladder_moves_off_days_before_and_counts_working_days_after(campaign):
    assert _ladder(campaign, "nominees") == [
        ("start", "Wed 20/12 00:00"),
        ("before-7d", "Fri 22/12 00:00"),
        ("before-3d", "Wed 27/12 00:00"),
        ("before-1d", "Fri 29/12 00:00"),  # the due day, Saturday 30/12, would be here too: one mail
        ("overdue-1", "Sat 30/12 23:59"),
        ("overdue-2", "Tue 02/01 23:59"),
        ("overdue-3", "Wed 03/01 23:59"),
        ("escalation", "Thu 04/01 23:59"),
    ]
    assert _ladder(campaign, "self_scores") == [
        ("start", "Wed 20/12 00:00"),
        ("before-7d", "Tue 09/01 00:00"),
        ("before-3d", "Fri 12/01 00:00"),
        ("before-1d", "Mon 15/01 00:00"),
        ("due", "Tue 16/01 00:00"),
        ("overdue-1", "Tue 16/01 23:59"),
        ("overdue-2", "Wed 17/01 23:59"),
        ("overdue-3", "Thu 18/01 23:59"),
        ("escalation", "Fri 19/01 23:59"),
    ]
    # nothing goes out on the weekend: the self-scores escalation (due since Friday night) waits for Monday 22/01
    for day, sends in [(19, True), (20, False), (21, False), (22, True)]:
        assert (
            working_day_for_reminders(campaign, "self_scores", datetime(2024, 1, day, 8, tzinfo=HCM)) is sends
        )


def test_a_worked_saturday_keeps_the_due_day_reminder(campaign):
    worked = _with(
        campaign, calendar={"extra_working_days": [date(2023, 12, 30)], "extra_days_off": [date(2024, 1, 2)]}
    )
    assert _ladder(worked, "nominees") == [
        ("start", "Wed 20/12 00:00"),
        ("before-7d", "Fri 22/12 00:00"),
        ("before-3d", "Wed 27/12 00:00"),
        ("before-1d", "Fri 29/12 00:00"),
        ("due", "Sat 30/12 00:00"),
        ("overdue-1", "Sat 30/12 23:59"),
        ("overdue-2", "Wed 03/01 23:59"),
        ("overdue-3", "Thu 04/01 23:59"),
        ("escalation", "Fri 05/01 23:59"),
    ]
    assert working_day_for_reminders(worked, "nominees", datetime(2023, 12, 30, 8, tzinfo=HCM))
    assert not working_day_for_reminders(worked, "nominees", datetime(2024, 1, 2, 8, tzinfo=HCM))


def test_a_due_day_off_without_a_day_before_step_becomes_a_before_step(campaign):
    ladder = {"before": ["7d"], "on_due_day": True, "overdue_every": "1d", "overdue_times": 1}
    short = _with(campaign, reminders=campaign.reminders.model_dump() | {"ladder": ladder})
    assert _ladder(short, "survey")[:3] == [
        ("start", "Wed 20/12 00:00"),
        ("before-7d", "Fri 22/12 00:00"),
        ("before-2d", "Fri 29/12 00:00"),
    ]  # due Sunday 31/12


def test_a_ladder_in_minutes_runs_by_the_clock(campaign):
    ladder = {"before": ["1m"], "on_due_day": False, "overdue_every": "1m", "overdue_times": 1}
    live = _with(campaign, reminders=campaign.reminders.model_dump() | {"ladder": ladder})
    assert not live.ladder_for("nominees").by_working_days and campaign.ladder_for("nominees").by_working_days
    assert _ladder(live, "nominees") == [
        ("start", "Wed 20/12 00:00"),
        ("before-1m", "Fri 29/12 23:59"),
        ("overdue-1", "Sat 30/12 23:59"),
        ("escalation", "Sun 31/12 00:00"),
    ]
    assert working_day_for_reminders(live, "nominees", datetime(2023, 12, 30, 8, tzinfo=HCM))


def test_the_campaign_lasts_until_its_last_escalation_can_go_out(campaign):
    assert campaign.ends_at == datetime(2024, 1, 24, 23, 59, 59, tzinfo=HCM)  # report due 20/01 + 4 days
    late = _with(
        campaign,
        deadlines=campaign.model_dump()["deadlines"]
        | {"self_scores": campaign.model_dump()["deadlines"]["self_scores"] | {"due": date(2024, 2, 2)}},
    )
    # due Friday 02/02/2024: overdue on 05, 06, 07/02; escalation 07/02 23:59 waits out Tết (08–14/02)
    assert rungs(late, "self_scores")[-1].at == datetime(2024, 2, 7, 23, 59, 59, tzinfo=HCM)
    assert late.ends_at == datetime(2024, 2, 15, 23, 59, 59, tzinfo=HCM)
