"""Vietnamese text typed with legacy 8-bit fonts (TCVN3/ABC ".VnTime", VNI "VNI-Times") that reached a workbook
as Latin-1 characters: detect it, convert it to Unicode NFC, or say that it cannot be read.

``decode(text)`` returns ``(text, None)`` for ordinary text, ``(converted, "TCVN3" | "VNI")`` for legacy text,
and raises :class:`LegacyTextError` for UTF-8 text that was read as Windows-1252 ("Sá»Ÿ Ná»™i vá»¥").

Detection works from positive evidence only; no character is refused for being unusual. A cell is legacy text
when words carry the encoding's codes (TCVN3: a Latin-1 character in place of an accented vowel; VNI: a mark
right after a base vowel, or ơ/ư/đ/ỉ/ĩ/ị/ỵ as one character) and are not Vietnamese as written (vÝ, with a
capital inside, is not) but become well-formed syllables once converted (known initial and rime, one tone mark
on a vowel, only sắc or nặng before p/t/c/ch), and those words outnumber the ones that convert into neither
Vietnamese nor a foreign-looking word, plus half the plain foreign words (website, Office). Ties go to the
encoding that uses more of the cell's Latin-1 characters, then to the reading with fewer tone marks. A cell
holding a Vietnamese letter beyond Latin-1 (ơ, ư, đ, ạ, ế…) was typed in Unicode and is never converted. A cell
whose legacy form reads as ordinary Vietnamese (VNI "Hoàng" for Hồng, TCVN3 "Sè" for Số) is kept as it is:
only a dictionary could tell. Mojibake is refused only when its UTF-8 byte pairs spell Vietnamese or Latin
letters.

Everything else (symbols, other scripts, emoji, product names such as VNeID or eCabinet) is kept (NFC), with
two clean-ups, never a refusal: no-break spaces (U+00A0, U+202F, U+2007) become spaces, and zero-width
characters (ZWSP, word joiner, a BOM inside the text) are removed, as are ZWJ/ZWNJ except between two
characters of emoji or scripts that need them.

TCVN3 has no capitals with tone marks (".VnTimeH" fonts draw the lower-case codes as capitals): such a letter
becomes a capital when the rest of its word is in capitals (two letters or more), or when the whole cell is in
capitals and another of its words is in TCVN3 ("UBND TỈNH HÀ TĨNH"); otherwise it stays lower case ("ủy ban").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# TCVN3 (TCVN 5712:1993, VN3): one byte per accented letter; no capitals with tone marks (see above).
_TCVN3_LETTERS = {
    "¡": "Ă",
    "¢": "Â",
    "£": "Ê",
    "¤": "Ô",
    "¥": "Ơ",
    "¦": "Ư",
    "§": "Đ",
    "¨": "ă",
    "©": "â",
    "ª": "ê",
    "«": "ô",
    "¬": "ơ",
    "\u00ad": "ư",
    "®": "đ",
    "µ": "à",
    "¶": "ả",
    "·": "ã",
    "¸": "á",
    "¹": "ạ",
    "»": "ằ",
    "¼": "ẳ",
    "½": "ẵ",
    "¾": "ắ",
    "Æ": "ặ",
    "Ç": "ầ",
    "È": "ẩ",
    "É": "ẫ",
    "Ê": "ấ",
    "Ë": "ậ",
    "Ì": "è",
    "Î": "ẻ",
    "Ï": "ẽ",
    "Ð": "é",
    "Ñ": "ẹ",
    "Ò": "ề",
    "Ó": "ể",
    "Ô": "ễ",
    "Õ": "ế",
    "Ö": "ệ",
    "×": "ì",
    "Ø": "ỉ",
    "Ü": "ĩ",
    "Ý": "í",
    "Þ": "ị",
    "ß": "ò",
    "á": "ỏ",
    "â": "õ",
    "ã": "ó",
    "ä": "ọ",
    "å": "ồ",
    "æ": "ổ",
    "ç": "ỗ",
    "è": "ố",
    "é": "ộ",
    "ê": "ờ",
    "ë": "ở",
    "ì": "ỡ",
    "í": "ớ",
    "î": "ợ",
    "ï": "ù",
    "ñ": "ủ",
    "ò": "ũ",
    "ó": "ú",
    "ô": "ụ",
    "õ": "ừ",
    "ö": "ử",
    "÷": "ữ",
    "ø": "ứ",
    "ù": "ự",
    "ú": "ỳ",
    "û": "ỷ",
    "ü": "ỹ",
    "ý": "ý",
    "þ": "ỵ",
}

# VNI Windows: a base letter followed by a mark character; a few letters are single characters.
_VNI_TONES = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_HAT_TONES = {"â": "", "à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE_TONES = {"ê": "", "è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLE = {"ô": "ơ", "ö": "ư", "ñ": "đ", "ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ"}

# Vietnamese syllables: initial consonant, rime (medial + nucleus + final), one tone mark.
_INITIALS = (
    "ngh",
    "ng",
    "gh",
    "gi",
    "ch",
    "kh",
    "nh",
    "ph",
    "qu",
    "th",
    "tr",
    "b",
    "c",
    "d",
    "đ",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "x",
    "",
)
_FINALS_BY_NUCLEUS = {
    "a": ("", "i", "o", "u", "y", "m", "n", "ng", "nh", "p", "t", "c", "ch"),
    "ă": ("m", "n", "ng", "p", "t", "c", "k"),  # k: Đắk Lắk
    "â": ("u", "y", "m", "n", "ng", "p", "t", "c"),
    "e": ("", "o", "m", "n", "ng", "p", "t", "c"),
    "ê": ("", "u", "m", "n", "ng", "nh", "p", "t", "ch"),
    "i": ("", "a", "u", "m", "n", "nh", "p", "t", "ch"),
    "iê": ("u", "m", "n", "ng", "p", "t", "c"),
    "yê": ("u", "m", "n", "t"),
    "o": ("", "i", "m", "n", "ng", "p", "t", "c"),
    "oo": ("ng", "c"),
    "ô": ("", "i", "m", "n", "ng", "p", "t", "c"),
    "ơ": ("", "i", "m", "n", "p", "t"),
    "u": ("", "a", "i", "m", "n", "ng", "p", "t", "c"),
    "uô": ("i", "m", "n", "ng", "t", "c"),
    "ư": ("", "a", "i", "u", "m", "n", "ng", "t", "c"),
    "ươ": ("i", "u", "m", "n", "ng", "p", "t", "c"),
    "y": ("",),
    "oa": ("", "i", "y", "o", "m", "n", "ng", "nh", "p", "t", "c", "ch"),
    "oă": ("m", "n", "ng", "t", "c"),
    "oe": ("", "o", "m", "n", "t"),
    "uâ": ("y", "n", "ng", "t"),
    "uê": ("", "nh", "ch"),
    "uy": ("", "a", "u", "n", "nh", "p", "t", "ch"),
    "uyê": ("n", "t"),
    "uơ": ("",),
}
_RIMES = frozenset(n + f for n, finals in _FINALS_BY_NUCLEUS.items() for f in finals)
_VI_VOWELS = frozenset("aăâeêioôơuưy")
_VI_LETTERS = frozenset("abcdeghiklmnopqrstuvxyăâđêôơư")
# Rimes that end in a glide (ai, ao, âu, iêu, ươi…): the tone never sits on that glide.
_GLIDE_RIMES = frozenset(
    r for r in _RIMES if len(r) > 1 and set(r) <= _VI_VOWELS and r[-1] in "iyou" and r != "uy"
)
_STOPS = ("p", "t", "c", "ch", "k")
_FINALS = frozenset(("m", "n", "ng", "nh", *_STOPS))
_CONSONANTS = re.compile("[bcdghklmnpqrstvxđ]+")
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_STOP_TONES = frozenset("\u0301\u0323")  # sắc, nặng

_VI_ACCENTED = frozenset(
    unicodedata.normalize("NFC", b + m) for b in "aăâeêioôơuưy" for m in ("", *sorted(_TONES))
) | {"đ"}
# Vietnamese letters that no 8-bit font produces: a cell holding one was typed in Unicode.
_UNICODE_ONLY = frozenset(ch for c in _VI_ACCENTED for ch in (c, c.upper()) if ord(ch) > 0xFF)

_TCVN3_CODES = frozenset(_TCVN3_LETTERS)
_TCVN3_LOWER = frozenset(k for k, v in _TCVN3_LETTERS.items() if v.islower())
_TCVN3_SYMBOLS = frozenset(k for k in _TCVN3_LETTERS if not k.isalpha()) | {"µ", "ª"}
_VNI_CODES = frozenset(
    {*_VNI_TONES, *_VNI_HAT_TONES, *_VNI_BREVE_TONES, *_VNI_SINGLE}
    | {c.upper() for c in (*_VNI_TONES, *_VNI_HAT_TONES, *_VNI_BREVE_TONES, *_VNI_SINGLE)}
)
_MICRO_UNIT = re.compile(r"µ[A-Za-z]{1,3}")  # µm, µg: a unit, not TCVN3 "à"

_NO_BREAK_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " "})
_ZERO_WIDTH = re.compile("[\u200b\u2060\ufeff]")
_JOINERS = re.compile("[\u200c\u200d]")


class LegacyTextError(ValueError):
    """The text is UTF-8 read as Windows-1252 (or Latin-1): it cannot be read back reliably."""


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
_VNI_ALL = _VNI_PAIRS | _VNI_ALL_SINGLE
# One pass, pairs first: a letter made from a pair is never read again as a single (oø is ò, not ị).
_VNI_PATTERN = re.compile("|".join(sorted(map(re.escape, _VNI_ALL), key=len, reverse=True)))


def _word_spans(text: str, codes: frozenset[str]) -> list[tuple[int, int]]:
    """Start and end of each run of letters, combining marks and the encoding's code characters."""
    spans, start = [], None
    for i, ch in enumerate(text):
        inside = ch.isalpha() or ch in codes or unicodedata.category(ch).startswith("M")
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            spans.append((start, i))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _tcvn3_word(word: str, capitals: bool) -> str:
    out = []
    for ch in word:
        letter = _TCVN3_LETTERS.get(ch, ch)
        out.append(letter.upper() if capitals and ch in _TCVN3_LOWER else letter)
    return "".join(out)


def from_tcvn3(text: str) -> str:
    """Decode text written in a TCVN3 font to Unicode Vietnamese."""
    spans = _word_spans(text, _TCVN3_CODES)
    plain = [c for c in text if c not in _TCVN3_LOWER and _TCVN3_LETTERS.get(c, c).isalpha()]
    cell_in_capitals = not any(_TCVN3_LETTERS.get(c, c).islower() for c in plain)
    others = []  # per word: its other letters in capitals and in lower case, and whether it has a code
    for start, end in spans:
        letters = [_TCVN3_LETTERS.get(c, c) for c in text[start:end] if c not in _TCVN3_LOWER]
        others.append(
            (
                sum(c.isupper() for c in letters),
                sum(c.islower() for c in letters),
                any(c in _TCVN3_CODES for c in text[start:end]),
            )
        )
    coded = [i for i, (*_, has_code) in enumerate(others) if has_code]
    out, last = [], 0
    for index, ((start, end), (up, low, _)) in enumerate(zip(spans, others, strict=True)):
        capitals = low == 0 and (up >= 2 or (cell_in_capitals and coded != [index]))
        out.append(text[last:start])
        out.append(_tcvn3_word(text[start:end], capitals))
        last = end
    out.append(text[last:])
    return unicodedata.normalize("NFC", "".join(out))


def from_vni(text: str) -> str:
    """Decode text written in a VNI font to Unicode Vietnamese (NFC)."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: _VNI_ALL[m.group(0)], text))


def is_syllable(word: str) -> bool:
    """Whether a word is one well-formed Vietnamese syllable (any case, NFC or not)."""
    nfd = unicodedata.normalize("NFD", word.lower())
    marks = [i for i, ch in enumerate(nfd) if ch in _TONES]
    if len(marks) > 1 or marks == [0]:
        return False
    tone = nfd[marks[0]] if marks else ""
    base = unicodedata.normalize("NFC", nfd.replace(tone, "") if tone else nfd)
    if not base or not set(base) <= _VI_LETTERS:
        return False
    toned = len(unicodedata.normalize("NFC", nfd[: marks[0]])) - 1 if marks else -1
    for initial in _INITIALS:
        if not base.startswith(initial):
            continue
        rime = base[len(initial) :]
        if initial == "qu":
            known = rime and (rime in _RIMES or "u" + rime in _RIMES or "o" + rime in _RIMES)
        else:
            known = rime in _RIMES
        if not known:
            continue
        at = toned - len(initial)
        if marks and (at < 0 or rime[at] not in _VI_VOWELS or (rime in _GLIDE_RIMES and at == len(rime) - 1)):
            continue
        if rime.endswith(_STOPS) and tone not in _STOP_TONES:
            continue
        return True
    return False


def _tone_marks(text: str) -> int:
    return sum(ch in _TONES for ch in unicodedata.normalize("NFD", text))


def _foreign(word: str) -> bool:
    """A plain word in lower or title case, with a vowel, that is not a Vietnamese syllable (website, Office)."""
    return (
        word.isascii()
        and len(word) > 1
        and word[1:].islower()
        and any(c in "aeiouy" for c in word.lower())
        and not is_syllable(word)
    )


def _foreign_shape(word: str) -> bool:
    """A word no Vietnamese syllable could be spelt like: f/j/w/z, or consonants where Vietnamese has none
    (Café, Hôtel, Crème)."""
    word = unicodedata.normalize("NFD", word.lower())
    if any(ch in "fjwz" for ch in word):
        return True
    runs = [(m.start(), m.group()) for m in _CONSONANTS.finditer(word)]
    for start, run in runs:
        if start == 0 and run in _INITIALS:
            continue
        if start + len(run) == len(word) and run in _FINALS:
            continue
        return True
    return False


def _as_written(word: str) -> bool:
    """A Vietnamese syllable in lower case, capitals or title case (not vÝ, where a code sits in a word)."""
    return is_syllable(word) and (word.islower() or word.isupper() or word.istitle())


def _weigh(text: str, codes: frozenset[str], convert, symbols: frozenset[str]) -> float:
    """Evidence that ``text`` is in this encoding: words that become Vietnamese, less those that become neither
    Vietnamese nor Latin (CafÐ → Café counts neither way) and half the plain foreign words; 0 or less means
    no evidence."""
    evidence = against = 0.0
    for start, end in _word_spans(text, codes):
        word = text[start:end]
        if not any(ch in codes for ch in word):
            against += 0.5 if _foreign(word) else 0
            continue
        if word in symbols or _MICRO_UNIT.fullmatch(word):
            continue  # a lone ×, ©, ½ or µm is a symbol
        converted = convert(word)
        if is_syllable(converted):
            evidence += 0 if converted == word or _as_written(word) else 1
        elif any(ord(ch) > 0xFF or ch in symbols for ch in converted) or not _foreign_shape(converted):
            against += 1  # it becomes neither Vietnamese nor a foreign word (café → TCVN3 "cafộ")
    return evidence - against if evidence else 0.0


def _clean(text: str) -> str:
    """No-break spaces to spaces; zero-width characters removed (joiners kept inside scripts that need them)."""
    text = _ZERO_WIDTH.sub("", text.translate(_NO_BREAK_SPACES))

    def joiner(match: re.Match) -> str:
        before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
        return match.group() if _needs_joiner(before) and _needs_joiner(after) else ""

    return _JOINERS.sub(joiner, text)


def _needs_joiner(ch: str) -> bool:
    """Emoji, symbols and letters of scripts beyond Latin (Arabic, Indic…) use ZWJ/ZWNJ between characters."""
    if not ch or ord(ch) < 0x370 or 0x1E00 <= ord(ch) <= 0x1EFF or 0x2000 <= ord(ch) <= 0x206F:
        return False
    return not ch.isspace()


# UTF-8 read as Windows-1252/Latin-1: each byte became one character; U+FFFD stands for an undefined byte.
_BYTE_OF = (
    {chr(b): b for b in range(0x80, 0x100)}
    | {bytes([b]).decode("cp1252"): b for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
    | {"\ufffd": 0x81}
)
_BYTE_RUN = re.compile("[" + "".join(sorted(_BYTE_OF)) + "]{2,}")
_UTF8_LETTER = re.compile(rb"[\xc3-\xc6][\x80-\xbf]|\xe1[\xba\xbb][\x80-\xbf]")


def _mojibake(text: str) -> bool:
    """UTF-8 byte sequences of Vietnamese or Latin-1 letters, shown one byte per character: one three-byte letter
    (á»Ÿ for ở) or two-byte one ending in a Latin-1 sign (Ã© for é), or two ending in punctuation ("MÃ”" alone is
    a quoted word in capitals)."""
    weak = 0
    for run in _BYTE_RUN.finditer(text):
        data = bytes(_BYTE_OF[ch] for ch in run.group())
        for match in _UTF8_LETTER.finditer(data):
            sequence = match.group()
            letter = sequence.decode("utf-8")
            if not letter.isalpha() or not (letter.lower() in _VI_ACCENTED or sequence[0] == 0xC3):
                continue
            if len(sequence) == 3 or 0xA1 <= sequence[-1] <= 0xBF:
                return True
            weak += 1
    return weak >= 2


_CANDIDATES: tuple[tuple[Any, ...], ...] = (
    ("TCVN3", _TCVN3_CODES, _TCVN3_SYMBOLS, lambda w: _tcvn3_word(w, False), from_tcvn3),
    ("VNI", _VNI_CODES, frozenset(), from_vni, from_vni),
)


@lru_cache(maxsize=65536)
def decode(text: str) -> tuple[str, str | None]:
    """The cell's text in Unicode and the legacy encoding it was in (None when it was Unicode already)."""
    text = unicodedata.normalize("NFC", text)
    if _mojibake(text):  # before the clean-up: a no-break space can be the second byte of "à"
        raise LegacyTextError(text)
    clean = _clean(text)
    if not any(ch in _UNICODE_ONLY for ch in clean):
        # Ties go to the encoding that uses more of the cell's Latin-1 characters (TCVN3 "Xö lý": VNI writes
        # ý as "yù"), then to the reading with fewer tone marks (Chöa: VNI "Chưa", not TCVN3 "Chửa"), then TCVN3.
        readings = []
        for rank, (name, codes, symbols, word, convert) in enumerate(_CANDIDATES):
            converted = convert(clean)
            unused = sum(1 for ch in clean if 0x80 <= ord(ch) <= 0xFF and ch not in codes)
            readings.append(
                (
                    _weigh(clean, codes, word, symbols),
                    -unused,
                    -_tone_marks(converted),
                    -rank,
                    name,
                    converted,
                )
            )
        weight, *_, name, converted = max(readings, key=lambda r: r[:4])
        if weight > 0:
            return converted, name
    return clean, None
