"""Unicode Vietnamese written as a legacy 8-bit font shows it (TCVN3, VNI): the inverse of the decoder's tables
in :mod:`par_index.intake.legacy`, for sample files and tests (the runtime only reads such text)."""

from __future__ import annotations

import unicodedata

from par_index.intake.legacy import _TCVN3_LETTERS, _VNI_ALL_SINGLE, _VNI_PAIRS


def to_tcvn3(text: str) -> str:
    """Encode Unicode Vietnamese as a TCVN3 font would show it."""
    reverse = {v: k for k, v in _TCVN3_LETTERS.items()}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(reverse.get(ch) or reverse.get(ch.lower()) or ch)
    return "".join(out)


def to_vni(text: str) -> str:
    """Encode Unicode Vietnamese as a VNI font would show it."""
    reverse = {v: k for k, v in _VNI_PAIRS.items()} | {v: k for k, v in _VNI_ALL_SINGLE.items() if k != v}
    return "".join(reverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))
