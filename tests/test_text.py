import unicodedata
from datetime import date, datetime
from decimal import Decimal

import pytest
from par_index.text import (
    decree_date,
    fold,
    nfc,
    parse_decimal,
    parse_vn_date,
    parse_vn_datetime,
    vn_date,
    vn_weekday_date,
    vn_weekday_datetime,
)


def test_fold_matches_titles_without_diacritics_case_or_spacing():
    assert fold("Điểm  tự chấm") == fold("diem tu cham") == fold("ĐIỂM TỰ CHẤM:")
    assert fold("Mã tiêu chí") != fold("Mã đơn vị")


def test_nfc_recomposes_decomposed_text():
    decomposed = "Tie\u0302\u0301u chi\u0301"
    assert nfc(decomposed) == "Tiếu chí"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,5", "1.5"), ("1.5", "1.5"), (2, "2"), (0.75, "0.75"), (" 0,25 ", "0.25"), ("", None), (None, None)],
)
def test_parse_decimal_accepts_comma_or_dot(raw, expected):
    assert parse_decimal(raw) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize("raw", ["1,5,0", "abc", "NaN", True])
def test_parse_decimal_refuses_non_numbers(raw):
    with pytest.raises(ValueError):
        parse_decimal(raw)


def test_dates_are_read_and_written_dd_mm_yyyy():
    assert parse_vn_date("05/01/2024") == date(2024, 1, 5)
    assert parse_vn_date(datetime(2024, 1, 5, 8)) == date(2024, 1, 5)
    assert vn_date(date(2024, 1, 5)) == "05/01/2024"
    assert parse_vn_datetime("12/01/2024 09:30") == datetime(2024, 1, 12, 9, 30)
    with pytest.raises(ValueError):
        parse_vn_date("2024-13-01")


@pytest.mark.parametrize(
    ("day", "line"),
    [
        (date(2024, 1, 18), "ngày 18 tháng 01 năm 2024"),
        (date(2024, 3, 5), "ngày 05 tháng 3 năm 2024"),
        (date(2024, 2, 2), "ngày 02 tháng 02 năm 2024"),
        (date(2023, 12, 30), "ngày 30 tháng 12 năm 2023"),
    ],
)
def test_decree_date_line_has_leading_zeros_only_where_decree_30_wants_them(day, line):
    assert decree_date(day) == line


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 12, 30), "thứ Bảy, 30/12/2023"),
        (date(2023, 12, 31), "Chủ nhật, 31/12/2023"),
        (date(2024, 1, 1), "thứ Hai, 01/01/2024"),
        (date(2024, 1, 2), "thứ Ba, 02/01/2024"),
        (date(2024, 1, 3), "thứ Tư, 03/01/2024"),
        (date(2024, 1, 4), "thứ Năm, 04/01/2024"),
        (date(2024, 1, 5), "thứ Sáu, 05/01/2024"),
    ],
)
def test_a_date_names_its_weekday_in_vietnamese_nfc(day, expected):
    assert vn_weekday_date(day) == expected
    assert unicodedata.is_normalized("NFC", vn_weekday_date(day))


def test_a_date_time_names_its_weekday_and_time():
    assert vn_weekday_date(datetime(2024, 1, 16, 23, 59, 59)) == "thứ Ba, 16/01/2024"
    assert vn_weekday_datetime(datetime(2024, 1, 16, 23, 59, 59)) == "thứ Ba, 16/01/2024 23:59"
    assert vn_weekday_date(None) == vn_weekday_datetime(None) == ""
