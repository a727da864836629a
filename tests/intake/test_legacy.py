"""Legacy-font text (TCVN3, VNI) is converted only on evidence; ordinary office text is never refused."""

import importlib.util
import sys
from pathlib import Path

import pytest
from par_index.intake.legacy import LegacyTextError, decode, from_tcvn3, from_vni
from par_index.intake.sheets import Sheet, fix_legacy_text
from par_index_dev.legacy_fonts import to_tcvn3, to_vni

ROOT = Path(__file__).resolve().parents[2]

# (what the cell holds, the text kept): accepted, never converted, only spaces and zero-width characters tidied.
ORDINARY = [
    ("Sở\u00a0Nội vụ", "Sở Nội vụ"),
    ("Số 12/BC-STP\u00a0", "Số 12/BC-STP "),
    ("Kế hoạch\u202fsố 1", "Kế hoạch số 1"),
    ("Tài khoản VNeID mức 2", "Tài khoản VNeID mức 2"),
    ("Đã kết nối VNeID", "Đã kết nối VNeID"),
    ("Hệ thống eCabinet", "Hệ thống eCabinet"),
    ("Phần mềm iOffice", "Phần mềm iOffice"),
    ("Cổng eGov tỉnh", "Cổng eGov tỉnh"),
    ("Một cửa iGate", "Một cửa iGate"),
    ("Hồ sơ trên DVCQG", "Hồ sơ trên DVCQG"),
    ("Diện tích 120,5 m²", "Diện tích 120,5 m²"),
    ("Thời gian ≤ 5 ngày", "Thời gian ≤ 5 ngày"),
    ("Tỷ lệ ≥ 95 %", "Tỷ lệ ≥ 95 %"),
    ("Chi phí 200 €", "Chi phí 200 €"),
    ("Kinh phí 1.250.000 ₫", "Kinh phí 1.250.000 ₫"),
    ("✓ Đạt", "✓ Đạt"),
    ("× 2", "× 2"),
    ("±0,5", "±0,5"),
    ("Giảm 3 ‰", "Giảm 3 ‰"),
    ("½ ngày", "½ ngày"),
    ("© 2024", "© 2024"),
    ("VNPT®", "VNPT®"),
    ("5 µm", "5 µm"),
    ("Đối tác 王小明", "Đối tác 王小明"),
    ("王小明", "王小明"),
    ("ສະບາຍດີ", "ສະບາຍດີ"),
    ("សៀមរាប", "សៀមរាប"),
    ("Москва", "Москва"),
    ("Café de la Paix", "Café de la Paix"),
    ("Hôtel de Ville", "Hôtel de Ville"),
    ("Crème brûlée", "Crème brûlée"),
    ("François", "François"),
    ("Grüße aus München", "Grüße aus München"),
    ("Straße", "Straße"),
    ("Señor García", "Señor García"),
    ("👍 Tốt", "👍 Tốt"),
    ("Hộ gia đình 👨\u200d👩\u200d👧", "Hộ gia đình 👨\u200d👩\u200d👧"),
    ("• Mục 1", "• Mục 1"),
    ("“Một cửa” – ‘liên thông’…", "“Một cửa” – ‘liên thông’…"),
    ("Sở Nội vụ\u200b", "Sở Nội vụ"),
    ("Sở\u200b Nội vụ", "Sở Nội vụ"),
    ("\ufeffSở Nội vụ", "Sở Nội vụ"),
    ("Sở Nội\ufeff vụ", "Sở Nội vụ"),
    ("Sở Nội\u2060 vụ", "Sở Nội vụ"),
    ("Sở\u200c Nội\u200d vụ", "Sở Nội vụ"),
    ("So\u031b\u0309 Tu\u031b pha\u0301p", "Sở Tư pháp"),
    ("Pháp", "Pháp"),
    ("Có", "Có"),
    ("Tòa án", "Tòa án"),
    ("Hoàng", "Hoàng"),
    ("Cô Lan", "Cô Lan"),
    ("Bà Mão", "Bà Mão"),
    ("São Paulo", "São Paulo"),
    ("Cột “MÃ”", "Cột “MÃ”"),  # a capital Ã before a closing quote is not UTF-8 read as Windows-1252
]

PHRASES = [
    "Sở Nội vụ",
    "Ủy ban nhân dân tỉnh Hà Tĩnh",
    "Nguyễn Thị Hường",
    "Cải cách thủ tục hành chính",
    "Trưởng phòng Tổ chức cán bộ",
    "Sở Tư pháp",
    "Sở Thông tin và Truyền thông",
    "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
    "Sở Lao động - Thương binh và Xã hội",
    "Huyện Hương Khê",
    "Thị xã Kỳ Anh",
    "Trần Văn Quỳnh",
    "Phạm Ngọc Yến",
    "Đỗ Hữu Cường",
    "Bùi Thị Nguyệt",
    "Kế hoạch số 1/KH-UBND ngày 05/01/2023",
    "Quyết định số 1234/QĐ-UBND của Chủ tịch UBND tỉnh",
    "Chỉ đạo, điều hành công tác cải cách hành chính",
    "Ứng dụng công nghệ thông tin trong giải quyết thủ tục hành chính",
    "Tỷ lệ hồ sơ giải quyết đúng hạn",
    "Xử lý phản ánh, kiến nghị của người dân",
    "Điểm tự chấm",
    "Tài liệu kiểm chứng",
    "Giải trình",
    "Phó Chánh Văn phòng",
    "Chưa đạt",
]

# TCVN3 has no capitals with tone marks: a word that starts with one comes back in lower case.
TCVN3_AS_WRITTEN = [(p, p) for p in PHRASES if p[0] not in "ỦỨ"] + [
    ("Ủy ban nhân dân tỉnh Hà Tĩnh", "ủy ban nhân dân tỉnh Hà Tĩnh"),
    (
        "Ứng dụng công nghệ thông tin trong giải quyết thủ tục hành chính",
        "ứng dụng công nghệ thông tin trong giải quyết thủ tục hành chính",
    ),
]


@pytest.mark.parametrize(("raw", "kept"), ORDINARY)
def test_ordinary_office_text_is_accepted_unchanged(raw, kept):
    assert decode(raw) == (kept, None)
    sheet = fix_legacy_text(Sheet("Biểu mẫu", [[raw]]))
    assert (sheet.rows, sheet.issues) == ([[kept]], [])


@pytest.mark.parametrize("phrase", [p.lower() for p in PHRASES] + [p.upper() for p in PHRASES])
def test_tcvn3_in_lower_case_and_capitals_comes_back(phrase):
    assert decode(to_tcvn3(phrase)) == (phrase, "TCVN3")


@pytest.mark.parametrize(("phrase", "expected"), TCVN3_AS_WRITTEN)
def test_tcvn3_as_written_comes_back(phrase, expected):
    assert decode(to_tcvn3(phrase)) == (expected, "TCVN3")


@pytest.mark.parametrize("phrase", PHRASES + [p.lower() for p in PHRASES] + [p.upper() for p in PHRASES])
def test_vni_comes_back(phrase):
    assert decode(to_vni(phrase)) == (phrase, "VNI")


@pytest.mark.parametrize(
    ("legacy", "expected"),
    [
        ("Së T\u00ad ph¸p", ("Sở Tư pháp", "TCVN3")),
        ("Keá hoaïch soá 1/KH-UBND", ("Kế hoạch số 1/KH-UBND", "VNI")),
        ("Së Th«ng tin vµ TruyÒn th«ng", ("Sở Thông tin và Truyền thông", "TCVN3")),
        ("Tr\u00adëng phßng", ("Trưởng phòng", "TCVN3")),
        ("Tröôûng phoøng", ("Trưởng phòng", "VNI")),  # oø is ò, never read again as the single ò (ị)
        ("UBND TØNH Hµ TÜNH", ("UBND TỈNH HÀ TĨNH", "TCVN3")),
        ("Së TTTT", ("Sở TTTT", "TCVN3")),
        ("vÝ dô", ("ví dụ", "TCVN3")),  # a capital code inside a lower-case word
        ("Chöa", ("Chưa", "VNI")),  # VNI ư or TCVN3 ử: the reading without a tone mark
        ("Xö lý", ("Xử lý", "TCVN3")),  # VNI writes ý as yù
        ("§· göi", ("Đã gửi", "TCVN3")),
        ("Caäp nhaät file scan leân website", ("Cập nhật file scan lên website", "VNI")),
        ("®Þa chØ:\u00a0Hµ TÜnh", ("địa chỉ: Hà Tĩnh", "TCVN3")),
    ],
)
def test_legacy_cells_are_converted_exactly(legacy, expected):
    assert decode(legacy) == expected


@pytest.mark.parametrize("legacy", ["Sè", "Cã", "Ghi chó", "Hoàng", "Cô quan", "Sai soá"])
def test_legacy_that_reads_as_plain_vietnamese_is_kept(legacy):
    """TCVN3 Số, Có, Ghi chú; VNI Hồng, Cơ quan, Sai số: well-formed as they stand, so no evidence."""
    assert decode(legacy) == (legacy, None)


def test_public_converters_round_trip():
    assert from_tcvn3(to_tcvn3("nguyễn thị hường")) == "nguyễn thị hường"
    assert from_vni(to_vni("Nguyễn Thị Hường")) == "Nguyễn Thị Hường"


@pytest.mark.parametrize(
    "mojibake",
    [
        "Sá»Ÿ Ná»™i vá»¥",
        "Sở Tư pháp".encode().decode("cp1252", "replace"),
        "Điểm tự chấm".encode().decode("latin-1"),
        "cafÃ©",
    ],
)
def test_utf8_read_as_windows_1252_is_refused(mojibake):
    with pytest.raises(LegacyTextError):
        decode(mojibake)
    sheet = fix_legacy_text(Sheet("Biểu mẫu", [["STT", mojibake]]))
    assert [(i.code, i.severity, i.cell) for i in sheet.issues] == [("INT016", "error", "B1")]


def test_legacy_cell_gets_a_warning_naming_its_encoding():
    sheet = fix_legacy_text(Sheet("Biểu mẫu", [["Đơn vị:", "Së T\u00ad ph¸p"]]))
    assert sheet.rows == [["Đơn vị:", "Sở Tư pháp"]]
    assert [(i.code, i.cell, i.message) for i in sheet.issues] == [
        ("INT015", "B1", "Chữ gõ bằng bảng mã TCVN3 đã được chuyển sang Unicode: “Sở Tư pháp”.")
    ]


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "legacy_text_benchmark", ROOT / "benchmarks" / "legacy_text.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_generated_office_cells_are_never_refused_and_legacy_forms_are_all_found():
    bench = _benchmark()
    cells = bench.generate(2000, seed=2024)
    figures = bench.measure(cells)
    shown = {name: sum(shows for *_, shows in bench.legacy_forms(cells, name)) for name in ("TCVN3", "VNI")}
    assert (figures.cells, figures.refused, figures.wrong) == (2000, 0, 0)
    assert figures.examples == [e for e in figures.examples if " capitals: " in e]
    assert figures.detected == shown
    assert figures.wrong_legacy == {"TCVN3": 0, "VNI": 0}
