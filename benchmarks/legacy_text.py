"""False refusals of legacy-font detection: generate N realistic cells of a Vietnamese office workbook (unit and
people's names, criterion titles, documents with dates, numbers with comma decimals, product names, symbols,
other scripts, emoji; no-break and zero-width spaces sprinkled in) from a fixed seed, read each one as
``fix_legacy_text`` does, then read the same cells encoded with TCVN3 and with VNI.

Prints: cells, refused (must be 0), wrongly converted (must be 0), and per encoding the cells whose encoding
shows (it brings in characters that are not Vietnamese letters) and how many of them were detected (must be all).
Cells whose encoding reads as ordinary Vietnamese (TCVN3 "Số" is "Sè", VNI "Hồng" is "Hoàng") cannot be told
from Unicode without a dictionary; they are counted apart. TCVN3 has no capitals with tone marks, so a
TCVN3 cell counts as right when its letters are (capitals differing are counted apart).

    .venv/bin/python benchmarks/legacy_text.py [--cells 5000] [--seed 14]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT / "dev"))  # par_index_dev: the legacy-font encoders

from par_index.intake import legacy  # noqa: E402
from par_index_dev import legacy_fonts  # noqa: E402

CAMPAIGN = ROOT / "include" / "campaigns" / "ha_tinh_2023.yaml"
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Phan",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Trương",
    "Đinh",
    "Hà",
    "Lương",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quang", "Ngọc", "Xuân", "Hồng", "Thế", "Công", "Bảo"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Hương",
    "Hường",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tuấn",
    "Vinh",
    "Yến",
    "Khánh",
    "Nguyệt",
    "Thủy",
    "Oanh",
    "Huyền",
    "Quỳnh",
    "Đạt",
]
POSITIONS = [
    "Giám đốc",
    "Phó Giám đốc",
    "Trưởng phòng",
    "Phó Trưởng phòng",
    "Chuyên viên",
    "Chánh Văn phòng",
    "Chủ tịch UBND",
    "Phó Chủ tịch UBND",
    "Trưởng phòng Tổ chức cán bộ",
    "Công chức một cửa",
]
DOCUMENTS = [
    ("Quyết định", "QĐ-UBND"),
    ("Kế hoạch", "KH-UBND"),
    ("Báo cáo", "BC-SNV"),
    ("Công văn", "UBND-NC"),
    ("Tờ trình", "TTr-SNV"),
    ("Thông báo", "TB-VPUB"),
    ("Chỉ thị", "CT-UBND"),
    ("Hướng dẫn", "HD-STP"),
]
ISSUERS = ["của UBND tỉnh Hà Tĩnh", "của Chủ tịch UBND tỉnh", "của Sở Nội vụ", "của Bộ Nội vụ", ""]
PRODUCTS = [
    "VNeID",
    "eCabinet",
    "iOffice",
    "eGov",
    "iGate",
    "DVCQG",
    "Zalo OA",
    "VNPT-iOffice",
    "eDoc",
    "iHANOI",
    "Cổng DVC quốc gia",
    "PAKN",
    "ISO 9001:2015",
]
PRODUCT_PHRASES = [
    "Triển khai {p} tại 100 % đơn vị",
    "Tích hợp {p} với hệ thống một cửa",
    "Phần mềm {p}",
    "Số hồ sơ nộp qua {p}: {n}",
    "Đăng nhập bằng tài khoản {p} mức 2",
    "Đã kết nối {p}",
]
MEASURES = [
    "Diện tích {d} m²",
    "Kinh phí {m} ₫",
    "Kinh phí {m} đồng",
    "Tỷ lệ hồ sơ đúng hạn ≥ {d} %",
    "Thời gian giải quyết ≤ {i} ngày",
    "Giảm {d} ‰ so với năm 2022",
    "Tăng {i} × so với kỳ trước",
    "Sai số ± {d}",
    "½ ngày làm việc",
    "Chi phí {m} €",
    "Nhiệt độ {d} °C",
    "{d} km²",
    "Đạt {d}/{i} điểm",
    "Mức ≥ {d} và ≤ {i}",
]
STATUSES = [
    "Đạt",
    "Chưa đạt",
    "Không đạt",
    "Hoàn thành",
    "Đúng hạn",
    "Trễ hạn",
    "✓ Đạt",
    "✗ Chưa đạt",
    "Đã nộp",
    "Đang xử lý",
    "Không áp dụng",
    "Đề nghị xem xét lại",
    "Đồng ý",
    "Có",
]
NOTES = [
    "• Đã triển khai “một cửa” tại {i} xã",
    "– Theo Mục {i}.{j} của Kế hoạch",
    "→ Xem Phụ lục {i}",
    "Ghi chú: “{t}”",
    "© 2024 {u}",
    "VNPT® – {t}",
    "✅ {t}",
    "👍 {t}",
    "Hộ gia đình 👨‍👩‍👧 ({i} người)",
    "Tài liệu kèm theo: {i} tệp (PDF…)",
    "❗ Thiếu tài liệu kiểm chứng",
    "★ {t}",
]
FOREIGN = [
    "Đối tác: 王小明 (Trung Quốc)",
    "Tỉnh Khăm Muộn (ຄໍາມ່ວນ), Lào",
    "Đoàn công tác tỉnh Xiêm Riệp (សៀមរាប)",
    "Thành phố kết nghĩa: Москва",
    "Café de la Paix",
    "Hôtel de Ville – Pháp",
    "Ông François Dupont",
    "Grüße aus München",
    "Đường Straße 12",
    "Señor García",
    "Đại sứ quán Pháp – Ambassade de France",
    "JICA (Nhật Bản) 日本国際協力機構",
    "Dự án KOICA 한국국제협력단",
    "Chuyên gia Jürgen Müller",
    "Hội thảo tại Genève",
    "Lò Văn Pá (dân tộc Thái)",
    "Crème brûlée",
    "Zoë Noël",
    "São Paulo",
]
ZERO_WIDTH = ["\u200b", "\ufeff", "\u200c", "\u200d", "\u2060"]


@dataclass
class Figures:
    cells: int = 0
    refused: int = 0
    wrong: int = 0
    examples: list[str] = field(default_factory=list)
    shown: dict[str, int] = field(default_factory=dict)  # encoding → cells whose encoding shows
    detected: dict[str, int] = field(default_factory=dict)
    hidden: dict[str, int] = field(default_factory=dict)  # encoding reads as ordinary Vietnamese
    hidden_detected: dict[str, int] = field(default_factory=dict)
    wrong_legacy: dict[str, int] = field(default_factory=dict)
    capitals: dict[str, int] = field(default_factory=dict)  # TCVN3: letters right, capitals differ
    seconds: float = 0.0


def _vocabulary() -> tuple[list[str], list[str]]:
    from par_index.campaign import load_campaign

    campaign = load_campaign(CAMPAIGN)
    units = [u.name_vi for u in campaign.unit_by_code.values()]
    titles = [item.name_vi for item in campaign.catalogue.items.values()]
    return units, titles


def _number(rng: random.Random) -> str:
    whole = rng.choice([rng.randint(0, 99), rng.randint(100, 9999)])
    return f"{whole},{rng.randint(0, 99):02d}".rstrip("0").rstrip(",")


def _money(rng: random.Random) -> str:
    return f"{rng.randint(1, 999):,}.000".replace(",", ".")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.choice([2022, 2023, 2024])}"


def _cell(rng: random.Random, units: list[str], titles: list[str]) -> str:
    kind = rng.choices(
        ["unit", "person", "title", "document", "measure", "product", "status", "note", "foreign", "plain"],
        weights=[12, 14, 14, 14, 9, 8, 8, 9, 8, 4],
    )[0]
    if kind == "unit":
        unit = rng.choice(units)
        return rng.choice([unit, f"{unit} ({rng.choice(['STP', 'SNV', 'UBND'])})", f"Đơn vị: {unit}"])
    if kind == "person":
        name = _person(rng)
        return rng.choice(
            [
                name,
                f"Ông {name}",
                f"Bà {name}",
                f"{name} – {rng.choice(POSITIONS)}",
                f"{rng.choice(POSITIONS)} {rng.choice(units)}",
                f"{name}, {_date(rng)}",
            ]
        )
    if kind == "title":
        words = rng.choice(titles).split()
        return " ".join(words[: rng.randint(3, len(words))]) if len(words) > 3 else " ".join(words)
    if kind == "document":
        doc, code = rng.choice(DOCUMENTS)
        return f"{doc} số {rng.randint(1, 2500)}/{code} ngày {_date(rng)} {rng.choice(ISSUERS)}".strip()
    if kind == "measure":
        return rng.choice(MEASURES).format(d=_number(rng), m=_money(rng), i=rng.randint(1, 30))
    if kind == "product":
        return rng.choice(PRODUCT_PHRASES).format(
            p=rng.choice(PRODUCTS), n=f"{rng.randint(1, 99)}.{rng.randint(100, 999)}"
        )
    if kind == "status":
        return rng.choice(STATUSES)
    if kind == "note":
        return rng.choice(NOTES).format(
            i=rng.randint(1, 40), j=rng.randint(1, 9), t=rng.choice(STATUSES), u=rng.choice(units)
        )
    if kind == "foreign":
        return rng.choice(FOREIGN)
    return rng.choice(["STT", "2.p1.1", "KH-UBND", "Tổng cộng", "x", "0,75", "Mã tiêu chí", "Ghi chú"])


def _sprinkle(rng: random.Random, text: str) -> str:
    """The same text as it arrives from Word or the web: no-break or zero-width spaces, decomposed accents."""
    if rng.random() < 0.15 and " " in text:
        at = rng.choice([i for i, ch in enumerate(text) if ch == " "])
        text = text[:at] + rng.choice(["\u00a0", "\u202f"]) + text[at + 1 :]
    if rng.random() < 0.10:
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(ZERO_WIDTH) + text[at:]
    if rng.random() < 0.05:
        text = "\ufeff" + text
    if rng.random() < 0.05:
        text += "\u00a0"
    if rng.random() < 0.05:
        text = unicodedata.normalize("NFD", text)
    return text


def generate(count: int, seed: int = 14) -> list[tuple[str, str]]:
    """``count`` cells as (what the workbook holds, the text expected back), the same for the same seed."""
    rng = random.Random(seed)
    units, titles = _vocabulary()
    cells = []
    for _ in range(count):
        text = _cell(rng, units, titles)
        if rng.random() < 0.08:
            text = text.upper()
        raw = _sprinkle(rng, text)
        cells.append((raw, _expected(raw)))
    return cells


def _expected(raw: str) -> str:
    """NFC, no-break spaces as spaces, zero-width characters gone (a ZWJ inside an emoji sequence stays)."""
    text = unicodedata.normalize("NFC", raw).replace("\u00a0", " ").replace("\u202f", " ")
    for ch in ("\u200b", "\ufeff", "\u2060"):
        text = text.replace(ch, "")
    out = []
    for i, ch in enumerate(text):
        if ch in "\u200c\u200d" and not (
            0 < i < len(text) - 1 and _joins(text[i - 1]) and _joins(text[i + 1])
        ):
            continue
        out.append(ch)
    return "".join(out)


def _joins(ch: str) -> bool:
    """Emoji and scripts beyond Latin keep their ZWJ/ZWNJ."""
    code = ord(ch)
    return (
        code >= 0x370 and not 0x1E00 <= code <= 0x1EFF and not 0x2000 <= code <= 0x206F and not ch.isspace()
    )


_VI_LETTERS = {ch for ch in legacy._VI_ACCENTED} | {ch.upper() for ch in legacy._VI_ACCENTED}
_CODES = {"TCVN3": legacy._TCVN3_CODES, "VNI": legacy._VNI_CODES}
_ENCODERS = {"TCVN3": legacy_fonts.to_tcvn3, "VNI": legacy_fonts.to_vni}


def _encodable(expected: str, name: str) -> bool:
    """The cell has a Vietnamese word with an accented letter (not only Café or Noël), and no character that the
    encoding uses as a code (×, ½, ü…: such a cell has no form in that encoding)."""
    words = "".join(ch if ch.isalpha() else " " for ch in expected).split()
    return any(not w.isascii() and legacy.is_syllable(w) for w in words) and not any(
        ch in _CODES[name] and ch not in _VI_LETTERS for ch in expected
    )


def legacy_forms(cells: list[tuple[str, str]], name: str) -> list[tuple[str, str, bool]]:
    """(the cell in this encoding, the text expected back, whether the encoding shows) for each cell that has a
    form in the encoding; it shows when it brings in characters that are not Vietnamese letters."""
    out = []
    for raw, expected in cells:
        encoded = _ENCODERS[name](raw)
        if encoded != raw and _encodable(expected, name):
            out.append((encoded, expected, any(ch not in raw and ch not in _VI_LETTERS for ch in encoded)))
    return out


def measure(cells: list[tuple[str, str]]) -> Figures:
    """Decode each cell as the intake does and count the outcomes against the expected text."""
    figures = Figures(cells=len(cells))
    start = time.perf_counter()
    for raw, expected in cells:
        try:
            text, encoding = legacy.decode(raw)
        except legacy.LegacyTextError:
            figures.refused += 1
            figures.examples.append(f"refused: {raw!r}")
            continue
        if (text, encoding) != (expected, None):
            figures.wrong += 1
            figures.examples.append(f"changed: {raw!r} → {text!r} ({encoding})")
    for name in _ENCODERS:
        for key in ("shown", "detected", "hidden", "hidden_detected", "wrong_legacy", "capitals"):
            getattr(figures, key)[name] = 0
        for encoded, expected, shows in legacy_forms(cells, name):
            try:
                text, encoding = legacy.decode(encoded)
            except legacy.LegacyTextError:
                text, encoding = "", "refused"
            found = encoding == name
            right = text == expected or (name == "TCVN3" and found and text.lower() == expected.lower())
            if shows:
                figures.shown[name] += 1
                figures.detected[name] += found
            else:
                figures.hidden[name] += 1
                figures.hidden_detected[name] += found
            if encoding is not None and not (found and right):
                figures.wrong_legacy[name] += 1
                figures.examples.append(f"{name} misread: {encoded!r} → {text!r} ({encoding})")
            elif found and text != expected:
                figures.capitals[name] += 1
                figures.examples.append(f"{name} capitals: {encoded!r} → {text!r}")
            elif shows and not found:
                figures.examples.append(f"{name} missed: {encoded!r}")
    figures.seconds = time.perf_counter() - start
    return figures


def main() -> int:
    """Parse the command line, generate the cells and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    f = measure(generate(args.cells, args.seed))
    print(f"Legacy-font detection on {f.cells} generated office cells (seed {args.seed}), {f.seconds:.2f} s")
    print(f"{'cells':<44}{f.cells:>8}")
    print(f"{'refused (INT016)':<44}{f.refused:>8}")
    print(f"{'wrongly converted':<44}{f.wrong:>8}")
    for name in _ENCODERS:
        shown, found = f.shown[name], f.detected[name]
        rate = 100 * found / shown if shown else 100.0
        print(f"{name}: {'encoding shows':<37}{shown:>8}   detected {found} ({rate:.1f} %)")
        print(
            f"{name}: {'encoding reads as plain Vietnamese':<37}{f.hidden[name]:>8}   "
            f"detected {f.hidden_detected[name]}"
        )
        print(f"{name}: {'misread (wrong text or encoding)':<37}{f.wrong_legacy[name]:>8}")
        if name == "TCVN3":
            print(f"{name}: {'letters right, capitals differ':<37}{f.capitals[name]:>8}")
    for line in f.examples[:20]:
        print("  " + line)
    ok = (
        f.refused == f.wrong == 0
        and all(f.detected[n] == f.shown[n] for n in _ENCODERS)
        and not any(f.wrong_legacy.values())
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
