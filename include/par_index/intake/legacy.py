"""Vietnamese text typed with legacy 8-bit fonts (TCVN3/ABC ".VnTime", VNI "VNI-Times") that reached a workbook
as Latin-1 characters: detect it, convert it to Unicode NFC, or say that it cannot be read.

``decode(text)`` returns ``(text, None)`` for ordinary text, ``(converted, "TCVN3" | "VNI")`` for legacy text,
and raises :class:`LegacyTextError` when the text is neither Unicode Vietnamese nor a legacy encoding it knows.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# TCVN3 (TCVN 5712:1993, VN3): one byte per accented letter. Capitals with tone marks do not exist in VN3
# (".VnTimeH" fonts draw the lower-case codes as capitals), so they decode to lower case.
_TCVN3_LETTERS = {
    "¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư", "§": "Đ",
    "¨": "ă", "©": "â", "ª": "ê", "«": "ô", "¬": "ơ", "\u00ad": "ư", "®": "đ",
    "µ": "à", "¶": "ả", "·": "ã", "¸": "á", "¹": "ạ",
    "»": "ằ", "¼": "ẳ", "½": "ẵ", "¾": "ắ", "Æ": "ặ",
    "Ç": "ầ", "È": "ẩ", "É": "ẫ", "Ê": "ấ", "Ë": "ậ",
    "Ì": "è", "Î": "ẻ", "Ï": "ẽ", "Ð": "é", "Ñ": "ẹ",
    "Ò": "ề", "Ó": "ể", "Ô": "ễ", "Õ": "ế", "Ö": "ệ",
    "×": "ì", "Ø": "ỉ", "Ü": "ĩ", "Ý": "í", "Þ": "ị",
    "ß": "ò", "á": "ỏ", "â": "õ", "ã": "ó", "ä": "ọ",
    "å": "ồ", "æ": "ổ", "ç": "ỗ", "è": "ố", "é": "ộ",
    "ê": "ờ", "ë": "ở", "ì": "ỡ", "í": "ớ", "î": "ợ",
    "ï": "ù", "ñ": "ủ", "ò": "ũ", "ó": "ú", "ô": "ụ",
    "õ": "ừ", "ö": "ử", "÷": "ữ", "ø": "ứ", "ù": "ự",
    "ú": "ỳ", "û": "ỷ", "ü": "ỹ", "ý": "ý", "þ": "ỵ",
}

# VNI Windows: a base letter followed by a mark character; a few letters are single characters.
_VNI_TONES = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_HAT_TONES = {"â": "", "à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE_TONES = {"ê": "", "è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLE = {"ô": "ơ", "ö": "ư", "ñ": "đ", "ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ"}

_UNICODE_VI = set(
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵfjwz"
)
_ALLOWED = _UNICODE_VI | {c.upper() for c in _UNICODE_VI} | set(
    "0123456789 \t\n\r!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~–—‘’“”…°§№•")
_TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
_VOWELS = set("aeiouyAEIOUY")


class LegacyTextError(ValueError):
    """The text is neither Unicode Vietnamese nor a legacy encoding that converts cleanly."""


def _build_vni_pairs() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for base in "aeiouy":
        for mark, tone in _VNI_TONES.items():
            pairs[base + mark] = unicodedata.normalize("NFC", base + tone)
    for base in "aeo":
        for mark, tone in _VNI_HAT_TONES.items():
            pairs[base + mark] = unicodedata.normalize("NFC", base + "\u0302" + tone)
    for mark, tone in _VNI_BREVE_TONES.items():
        pairs["a" + mark] = unicodedata.normalize("NFC", "a\u0306" + tone)
    for base, letter in (("ô", "ơ"), ("ö", "ư")):
        for mark, tone in _VNI_TONES.items():
            pairs[base + mark] = unicodedata.normalize("NFC", letter + tone)
    upper = {k.upper(): v.upper() for k, v in pairs.items()}
    return pairs | upper


_VNI_PAIRS = _build_vni_pairs()
_VNI_ALL_SINGLE = _VNI_SINGLE | {k.upper(): v.upper() for k, v in _VNI_SINGLE.items()}
_VNI_PATTERN = re.compile("|".join(sorted(map(re.escape, _VNI_PAIRS), key=len, reverse=True)))


def from_tcvn3(text: str) -> str:
    return unicodedata.normalize("NFC", "".join(_TCVN3_LETTERS.get(ch, ch) for ch in text))


def from_vni(text: str) -> str:
    text = _VNI_PATTERN.sub(lambda m: _VNI_PAIRS[m.group(0)], text)
    return unicodedata.normalize("NFC", "".join(_VNI_ALL_SINGLE.get(ch, ch) for ch in text))


def to_tcvn3(text: str) -> str:
    """Encode Unicode Vietnamese as a TCVN3 font would show it (for tests and sample files)."""
    reverse = {v: k for k, v in _TCVN3_LETTERS.items()}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(reverse.get(ch) or reverse.get(ch.lower()) or ch)
    return "".join(out)


def to_vni(text: str) -> str:
    """Encode Unicode Vietnamese as a VNI font would show it (for tests and sample files)."""
    reverse = {v: k for k, v in _VNI_PAIRS.items()} | {v: k for k, v in _VNI_ALL_SINGLE.items() if k != v}
    return "".join(reverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def _anomalies(text: str) -> int:
    """How un-Vietnamese a text looks: foreign characters, capitals inside lower-case words, syllables with
    more than one tone mark."""
    score = len(set(text) - _ALLOWED) and sum(1 for ch in text if ch not in _ALLOWED)
    for word in re.findall(r"\w+", text):
        score += sum(1 for a, b in zip(word, word[1:], strict=False) if a.islower() and b.isupper())
        tones = sum(1 for ch in unicodedata.normalize("NFD", word) if ch in _TONE_MARKS)
        score += max(0, tones - 1)
    return score


@lru_cache(maxsize=65536)
def decode(text: str) -> tuple[str, str | None]:
    text = unicodedata.normalize("NFC", text)
    if _anomalies(text) == 0:
        return text, None
    legacy = [ch for ch in text if ch not in _ALLOWED or ch in _TCVN3_LETTERS or ch in _VNI_ALL_SINGLE]
    after_vowel = sum(1 for a, b in zip(text, text[1:], strict=False) if a in _VOWELS and b in legacy)
    candidates = [("TCVN3", from_tcvn3(text)), ("VNI", from_vni(text))]
    if legacy and after_vowel / len(legacy) > 0.5:  # VNI puts marks after vowels; TCVN3 replaces the vowel
        candidates.reverse()
    for name, converted in candidates:
        if converted != text and _anomalies(converted) == 0:
            return converted, name
    raise LegacyTextError(text)
