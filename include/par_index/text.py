"""Text helpers: Unicode normalisation, header matching keys, Vietnamese date formatting, number parsing."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    """Return ``value`` in Unicode NFC with surrounding white space removed."""
    return unicodedata.normalize("NFC", value).strip()


def free_text(value: object) -> str | None:
    """A cell of free text as written (Word-pasted paragraphs kept): NFC, line breaks as ``\n`` (Windows ``\r\n``,
    a lone ``\r``, Excel's ``_x000D_``, a vertical tab or line/paragraph separator), no-break spaces as spaces,
    each line's trailing spaces and the blank lines around the text dropped; ``None`` when nothing is written."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).replace("_x000D_", "")
    text = re.sub(r"\r\n?|[\v\u2028\u2029]", "\n", text).replace("\u00a0", " ")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip() or None


@lru_cache(maxsize=16384)
def fold(value: str) -> str:
    """Key for comparing titles: NFC, case folded, diacritics removed, spaces collapsed.

    ``fold("Điểm  tự chấm") == fold("diem tu cham")``.
    """
    text = unicodedata.normalize("NFD", str(value)).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.casefold().replace("\n", " ")
    return _SPACES.sub(" ", text).strip(" :.*")


def vn_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy, the only date format a user of this project reads."""
    return "" if value is None else value.strftime("%d/%m/%Y")


VN_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def vn_weekday_date(value: date | datetime | None) -> str:
    """'thứ Bảy, 30/12/2023': the day of the week, then dd/mm/yyyy (local day of a date-time)."""
    return "" if value is None else f"{VN_WEEKDAYS[value.weekday()]}, {vn_date(value)}"


def vn_weekday_datetime(value: datetime | None) -> str:
    """'thứ Bảy, 30/12/2023 23:59' (local time of ``value``)."""
    return "" if value is None else f"{VN_WEEKDAYS[value.weekday()]}, {vn_datetime(value)}"


def vn_number(value: float | Decimal | None) -> str:
    """A number as a Vietnamese reader writes it: decimal comma, no trailing zeros ('53,5'); '—' when unknown."""
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{float(value):g}".replace(".", ",")


def decree_date(value: date | datetime) -> str:
    """The date line of an administrative document, 'ngày 05 tháng 01 năm 2024': Decree 30/2020/NĐ-CP writes
    days below 10 and the months 1 and 2 with a leading zero (and only those)."""
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def vn_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM (local time of ``value``)."""
    return "" if value is None else value.strftime("%d/%m/%Y %H:%M")


def parse_decimal(value: object) -> Decimal | None:
    """Parse a score written with a comma or a dot as decimal mark; ``None`` for blanks.

    Raises ``ValueError`` for anything that is not a number.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def parse_vn_date(value: object) -> date | None:
    """Parse dd/mm/yyyy (or a real Excel date); ``None`` for blanks; ``ValueError`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def parse_vn_datetime(value: object) -> datetime | None:
    """Parse dd/mm/yyyy HH:MM, ISO 8601 or a real Excel date-time; naive results are local time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(value) from exc


def duration_vi(delta: timedelta) -> str:
    """'7 ngày', '5 giờ', '3 phút' (the largest whole unit)."""
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} ngày"
    if seconds >= 3600:
        return f"{seconds // 3600} giờ"
    return f"{max(seconds // 60, 0)} phút"


def code_list(codes: list[str], shown: int = 12) -> str:
    """Codes for a sentence: all of them, or the first ``shown`` then '… (thêm N mã)' so that a long list stays
    readable ('2.p1.2, 2.p1.3, … (thêm 7 mã)')."""
    if len(codes) <= shown:
        return ", ".join(codes)
    return ", ".join(codes[:shown]) + f", … (thêm {len(codes) - shown} mã)"
