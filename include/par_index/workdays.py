"""Working days of a campaign: Monday to Friday, except Vietnam's public holidays as the ``holidays`` package
knows them (1/1, Tết, Giỗ Tổ Hùng Vương, 30/4, 1/5, 2/9 and the days off in lieu), plus the Saturdays the
government made working days, then the campaign file's ``calendar:`` overrides (they win)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays

if TYPE_CHECKING:
    from par_index.campaign import WorkCalendar

ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def vn_holidays(year: int) -> holidays.HolidayBase:
    """Vietnam's public holidays of ``year`` (names in Vietnamese)."""
    return holidays.country_holidays("VN", years=year, language="vi")


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool:
    """True when offices work on ``day``."""
    if calendar is not None:
        if day in calendar.extra_days_off:
            return False
        if day in calendar.extra_working_days:
            return True
    official = vn_holidays(day.year)
    if day in official:
        return False
    return day.weekday() < 5 or day in official.weekend_workdays


def previous_working_day(day: date, calendar: WorkCalendar | None = None) -> date:
    """The last working day before ``day``."""
    day -= ONE_DAY
    while not is_working_day(day, calendar):
        day -= ONE_DAY
    return day


def next_working_day(day: date, calendar: WorkCalendar | None = None) -> date:
    """The first working day after ``day``."""
    day += ONE_DAY
    while not is_working_day(day, calendar):
        day += ONE_DAY
    return day


def add_working_days(moment: datetime, days: int, calendar: WorkCalendar | None = None) -> datetime:
    """``moment`` moved ``days`` working days later (same time of day); 0 leaves it as it is."""
    day = moment.date()
    for _ in range(days):
        day = next_working_day(day, calendar)
    return datetime.combine(day, moment.timetz())
