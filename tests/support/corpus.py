"""A corpus of bad or awkward files, each with its exact expected outcome.

``build(folder)`` writes every case and returns ``{file name: Expected}``. Rows and cells follow from how each
builder lays its file out (title row, header lines, a blank row, the titles, then the data)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from par_index_dev.legacy_fonts import to_tcvn3, to_vni
from par_index_dev.writer import write_csv, write_xlsx


@dataclass(frozen=True)
class Expected:
    status: str  # accepted | rejected
    kind: str
    issues: frozenset[tuple[str, str | None]] = field(default_factory=frozenset)  # (code, cell)
    records: int | None = None
    difficulties: str | None = None  # Appendix II's "Khó khăn, vướng mắc, đề xuất" as read (form.header)


def ok(kind, records, *issues, difficulties=None):
    return Expected("accepted", kind, frozenset(issues), records, difficulties)


def refused(kind, *issues):
    return Expected("rejected", kind, frozenset(issues))


II_COLS = [
    "STT",
    "Mã tiêu chí",
    "Nội dung",
    "Điểm tối đa",
    "Điểm tự chấm",
    "Tài liệu kiểm chứng",
    "Giải trình",
]
STP = [("Đơn vị", "Sở Tư pháp (STP)"), ("Số", "12/BC-STP"), ("Ngày", "15/01/2024"), ("Người ký", "Lê Văn A")]
GOOD_II = [
    [1, "2.p1.1", "…", 0.75, 0.5, "Số 1/KH-UBND ngày 02/01/2023", None],
    [2, "2.p1.2", "…", 0.75, 0.75, "Số 2/KH-UBND ngày 03/01/2023", None],
]
# 30,000 characters on 300 lines (an Excel cell holds at most 32,767): stored and reported whole, never cut
LONG_DIFFICULTIES = "\n".join(
    f"{n:03}. Khó khăn, vướng mắc của đơn vị khi cập nhật tài liệu kiểm chứng.".ljust(99, "…")
    for n in range(300)
)
FIRST = 8  # first data row of an Appendix II written with the STP header (title, 4 lines, blank, titles)
IV_COLS = ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Điện thoại", "Email"]
EXPORT_COLS = [
    "Mã đơn vị",
    "Mã tiêu chí",
    "Điểm tự đánh giá",
    "Số tài liệu kiểm chứng",
    "Trạng thái",
    "Cập nhật lúc",
]


def _ii(folder, name, rows=None, header=None, cols=None):
    return write_xlsx(
        folder / name,
        "PHỤ LỤC II",
        STP if header is None else header,
        cols or II_COLS,
        GOOD_II if rows is None else rows,
    )


def _row(code, score, maximum=0.75, evidence="Số 1/KH-UBND", explanation=None):
    return [1, code, "…", maximum, score, evidence, explanation]


def _patch(path: Path, member: str, change) -> Path:
    """Rewrite one member of an xlsx package."""
    with zipfile.ZipFile(path) as src:
        items = [(i, src.read(i.filename)) for i in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            dst.writestr(info, change(data) if info.filename == member else data)
    path.write_bytes(buffer.getvalue())
    return path


def _add_member(path: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return path


def build(folder: Path) -> dict[str, Expected]:
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Expected] = {}

    def case(name: str, expected: Expected):
        cases[name] = expected

    # ---- Appendix II: awkward but acceptable ----
    _ii(folder, "ii_basic.xlsx")
    case("ii_basic.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_comma_decimals.xlsx", [_row("2.p1.1", "0,5", "0,75"), _row("2.p1.2", "0,25", "0,75")])
    case("ii_comma_decimals.xlsx", ok("appendix_ii", 2))
    _ii(
        folder,
        "ii_unaccented_titles.xlsx",
        cols=[
            "stt",
            "MA TIEU CHI",
            "noi dung",
            "Diem toi da",
            "DIEM TU CHAM",
            "tai lieu kiem chung",
            "giai trinh",
        ],
    )
    case("ii_unaccented_titles.xlsx", ok("appendix_ii", 2))
    _ii(
        folder,
        "ii_reordered_extra_columns.xlsx",
        cols=["Điểm tự chấm", "Mã tiêu chí", "Cột riêng", "Tài liệu kiểm chứng"],
        rows=[[0.5, "2.p1.1", "x", "Số 1"], [None, None, None, None], [0.75, "2.p1.2", "y", "Số 2"]],
    )
    case("ii_reordered_extra_columns.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_totals_row.xlsx", rows=GOOD_II + [[None, "Tổng cộng", None, None, 1.25, None, None]])
    case("ii_totals_row.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_subtotal_right.xlsx", rows=[[0, "2.p1", "…", 2.0, 1.25, None, None], *GOOD_II])
    case("ii_subtotal_right.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_unit_by_name.xlsx", header=[("Đơn vị", "Sở Tư pháp")])
    case("ii_unit_by_name.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_unit_by_code.xlsx", header=[("Đơn vị", "stp")])
    case("ii_unit_by_code.xlsx", ok("appendix_ii", 2))

    wb = Workbook()
    wb.active.title = "Công văn"
    wb.active.append(["Kính gửi: Sở Nội vụ"])
    ws = wb.create_sheet("Báo cáo")
    ws.append(["UBND TỈNH HÀ TĨNH"])
    ws.merge_cells("A1:E1")
    ws.append(["SỞ TƯ PHÁP"])
    ws.append(["Đơn vị: Sở Tư pháp (STP)"])
    ws.append([])
    ws.append(II_COLS)
    for row in GOOD_II:
        ws.append(row)
    wb.save(folder / "ii_second_sheet_merged_title.xlsx")
    case("ii_second_sheet_merged_title.xlsx", ok("appendix_ii", 2))

    _ii(
        folder,
        "ii_decomposed_unicode.xlsx",
        header=[("Đơn vị", "So\u031b\u0309 Tu\u031b pha\u0301p")],
        cols=[c.replace("ể", "ê\u0309") for c in II_COLS],
    )
    case("ii_decomposed_unicode.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_tcvn3_unit.xlsx", header=[("Đơn vị", to_tcvn3("Sở Tư pháp"))])
    case("ii_tcvn3_unit.xlsx", ok("appendix_ii", 2, ("INT015", "B2")))
    _ii(
        folder,
        "ii_vni_evidence.xlsx",
        rows=[_row("2.p1.1", 0.5, evidence=to_vni("Kế hoạch số 1/KH-UBND")), GOOD_II[1]],
    )
    case("ii_vni_evidence.xlsx", ok("appendix_ii", 2, ("INT015", f"F{FIRST}")))
    _ii(
        folder,
        "ii_office_text.xlsx",  # pasted from Word and the web: no-break and zero-width spaces, symbols
        header=[
            ("Đơn vị", "Sở\u00a0Tư pháp"),
            ("Số", "12/BC-STP"),
            ("Ngày", "15/01/2024"),
            ("Người ký", "Lê Văn\u00a0A"),
        ],
        rows=[
            _row("2.p1.1", 0.5, evidence="Tài khoản VNeID\u200b; diện tích 120 m²", explanation="≤ 5 ngày ✓"),
            _row("2.p1.2", 0.75, evidence="Hệ thống eCabinet – “một cửa” © VNPT"),
        ],
    )
    case("ii_office_text.xlsx", ok("appendix_ii", 2))
    # ---- Appendix II: the unit's difficulties and proposals (docs/forms.md) ----
    difficulties = "Khó khăn, vướng mắc, đề xuất"
    _ii(  # pasted from Word: Windows line breaks, an empty paragraph, no-break spaces, decomposed accents
        folder,
        "ii_difficulties.xlsx",
        header=[
            *STP,
            (
                difficulties,
                "1. Phần mềm chậm khi tải tài liệu kiê\u0309m chứng.\r\n\r\n2. Đề xuất\u00a0tập huấn.  \r\n",
            ),
        ],
    )
    case(
        "ii_difficulties.xlsx",
        ok(
            "appendix_ii",
            2,
            difficulties="1. Phần mềm chậm khi tải tài liệu kiểm chứng.\n\n2. Đề xuất tập huấn.",
        ),
    )
    _ii(folder, "ii_difficulties_blank.xlsx", header=[*STP, (difficulties, " \u00a0\r\n\t ")])
    case("ii_difficulties_blank.xlsx", ok("appendix_ii", 2))  # only white space: no difficulties
    _ii(  # the label's own cell, unaccented: the text after its colon
        folder,
        "ii_difficulties_inline.xlsx",
        header=[*STP, ("Kho khan, vuong mac, de xuat", None)],
    )
    _patch(
        folder / "ii_difficulties_inline.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"Kho khan, vuong mac, de xuat:", "Kho khan, vuong mac, de xuat: Thiếu máy scan.".encode()
        ),
    )
    case("ii_difficulties_inline.xlsx", ok("appendix_ii", 2, difficulties="Thiếu máy scan."))
    _ii(folder, "ii_difficulties_long.xlsx", header=[*STP, (difficulties, LONG_DIFFICULTIES)])
    case("ii_difficulties_long.xlsx", ok("appendix_ii", 2, difficulties=LONG_DIFFICULTIES))  # kept whole
    _ii(folder, "ii_no_evidence_warning.xlsx", rows=[_row("2.p1.1", 0.5, evidence=None), GOOD_II[1]])
    case("ii_no_evidence_warning.xlsx", ok("appendix_ii", 2, ("INT028", f"F{FIRST}")))
    _ii(
        folder,
        "ii_explanation_only.xlsx",
        rows=[_row("2.p1.1", 0.5, evidence=None, explanation="Chưa có số liệu"), GOOD_II[1]],
    )
    case("ii_explanation_only.xlsx", ok("appendix_ii", 2))

    path = _ii(folder, "ii_formula_cached.xlsx", rows=[_row("2.p1.1", "=0.25*2"), GOOD_II[1]])
    _patch(
        path,
        "xl/worksheets/sheet1.xml",
        lambda x: re.sub(rb"<f>0.25\*2</f><v\s*/?>(</v>)?", b"<f>0.25*2</f><v>0.5</v>", x),
    )
    case("ii_formula_cached.xlsx", ok("appendix_ii", 2))
    _ii(folder, "ii_formula_no_value.xlsx", rows=[_row("2.p1.1", "=0.25*2"), GOOD_II[1]])
    case("ii_formula_no_value.xlsx", refused("appendix_ii", ("INT018", f"E{FIRST}")))
    path = _ii(folder, "ii_macro.xlsm")
    _add_member(path, "xl/vbaProject.bin", b'Attribute VB_Name = "Module1"\nSub AutoOpen()\nEnd Sub')
    case("ii_macro.xlsm", ok("appendix_ii", 2, ("INT017", None)))

    # ---- Appendix II: refused, with the cell at fault ----
    for name, row, code, col in [
        ("ii_above_maximum", _row("2.p1.1", 1.0), "INT026", "E"),
        ("ii_negative", _row("2.p1.1", -0.25), "INT026", "E"),
        ("ii_not_a_step", _row("2.p1.1", 0.3), "INT027", "E"),
        ("ii_score_words", _row("2.p1.1", "một nửa"), "INT013", "E"),
        ("ii_unknown_criterion", _row("9.p9.9", 0.5), "INT020", "B"),
        ("ii_not_assigned", _row("3.p1.1", 0.5, 1.0), "INT024", "B"),
        ("ii_survey_item", _row("2.p5.1", 1.0, 1.5), "INT023", "E"),
        ("ii_wrong_maximum", _row("2.p1.1", 0.5, 1.0), "INT021", "D"),
        ("ii_missing_score", _row("2.p1.1", None), "INT025", "E"),
    ]:
        _ii(folder, f"{name}.xlsx", rows=[row, GOOD_II[1]])
        case(f"{name}.xlsx", refused("appendix_ii", (code, f"{col}{FIRST}")))
    _ii(folder, "ii_duplicate_row.xlsx", rows=[GOOD_II[0], GOOD_II[0]])
    case("ii_duplicate_row.xlsx", refused("appendix_ii", ("INT022", f"B{FIRST + 1}")))
    _ii(folder, "ii_subtotal_wrong.xlsx", rows=[[0, "2.p1", "…", 2.0, 2.0, None, None], *GOOD_II])
    case(
        "ii_subtotal_wrong.xlsx", refused("appendix_ii", ("INT029", f"E{FIRST}"))
    )  # the subtotal's score cell
    _ii(folder, "ii_no_unit_line.xlsx", header=[("Số", "12/BC-STP")])
    case("ii_no_unit_line.xlsx", refused("appendix_ii", ("INT008", "A1")))  # where the header block starts
    _ii(folder, "ii_unknown_unit.xlsx", header=[("Đơn vị", "Sở Du lịch")])
    case(
        "ii_unknown_unit.xlsx", refused("appendix_ii", ("INT009", "B2"))
    )  # the value of the first header line
    _ii(folder, "ii_bad_date.xlsx", header=[("Đơn vị", "STP"), ("Ngày", "32/13/2024")])
    case("ii_bad_date.xlsx", refused("appendix_ii", ("INT012", "B3")))  # the value of the second header line
    _ii(folder, "ii_empty_table.xlsx", rows=[])
    case(
        "ii_empty_table.xlsx", refused("appendix_ii", ("INT030", f"E{FIRST - 1}"))
    )  # the score column's title
    _ii(folder, "ii_mojibake.xlsx", header=[("Đơn vị", "Sở Tư pháp".encode().decode("cp1252", "replace"))])
    case("ii_mojibake.xlsx", refused("appendix_ii", ("INT016", "B2")))

    # ---- files that cannot be read ----
    (folder / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    case("legacy.xls", refused("unreadable", ("INT002", None)))
    (folder / "corrupt.xlsx").write_bytes(b"PK\x03\x04garbage" * 10)
    case("corrupt.xlsx", refused("unreadable", ("INT001", None)))
    (folder / "pdf_renamed.xlsx").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF")
    case("pdf_renamed.xlsx", refused("unreadable", ("INT001", None)))
    (folder / "letter.docx").write_bytes(b"PK\x03\x04")
    case("letter.docx", refused("unreadable", ("INT004", None)))
    path = _ii(folder, "entity_bomb.xlsx")
    _patch(
        path,
        "xl/workbook.xml",
        lambda x: (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' + re.sub(rb"^<\?xml[^>]*\?>", b"", x)
        ),
    )
    case("entity_bomb.xlsx", refused("unreadable", ("INT014", None)))
    path = _ii(folder, "zip_bomb.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (60 * 1024 * 1024))
    case("zip_bomb.xlsx", refused("unreadable", ("INT006", None)))
    (folder / "not_utf8.csv").write_bytes(";".join(EXPORT_COLS).encode("utf-16"))
    case("not_utf8.csv", refused("unreadable", ("INT005", None)))
    (folder / "empty.csv").write_bytes(b"")
    case("empty.csv", refused("unknown", ("INT007", None)))
    write_xlsx(
        folder / "cover_letter.xlsx", "CÔNG VĂN", [("Số", "1/SNV")], ["Nội dung", "Ghi chú"], [["x", "y"]]
    )
    case("cover_letter.xlsx", refused("unknown", ("INT007", None)))

    # ---- Appendix IV ----
    def iv(name, rows, unit="STP"):
        return write_xlsx(folder / name, "PHỤ LỤC IV", [("Đơn vị", unit)], IV_COLS, rows)

    iv("iv_not_on_council.xlsx", [[1, "Lê Văn A", "Trưởng phòng", "2", "0912345678", "a@hatinh.example"]])
    case("iv_not_on_council.xlsx", ok("appendix_iv", 1, ("INT045", "B5")))
    iv("iv_bad_email.xlsx", [[1, "Lê Văn A", "Trưởng phòng", "2", "0912345678", "a(at)hatinh"]])
    case("iv_bad_email.xlsx", refused("appendix_iv", ("INT042", "F5")))
    iv(
        "iv_markup_email.xlsx",
        [[1, "Lê Văn A", "Trưởng phòng", "2", "0912345678", 'x"><svg/onload=alert(1)>@hatinh.example']],
    )
    case("iv_markup_email.xlsx", refused("appendix_iv", ("INT042", "F5")))
    iv("iv_bad_phone.xlsx", [[1, "Lê Văn A", "Trưởng phòng", "2", "12345", "a@hatinh.example"]])
    case("iv_bad_phone.xlsx", refused("appendix_iv", ("INT043", "E5")))
    iv("iv_area_not_owned.xlsx", [[1, "Lê Văn A", "Trưởng phòng", "2,3", "0912345678", "a@hatinh.example"]])
    case("iv_area_not_owned.xlsx", refused("appendix_iv", ("INT044", "D5")))
    iv("iv_no_position.xlsx", [[1, "Lê Văn A", None, "2", "0912345678", "a@hatinh.example"]])
    case("iv_no_position.xlsx", refused("appendix_iv", ("INT041", "C5")))
    iv(
        "iv_unit_owns_nothing.xlsx",
        [[1, "Lê Văn A", "Trưởng phòng", "2", None, "a@hatinh.example"]],
        unit="SYT",
    )
    case("iv_unit_owns_nothing.xlsx", refused("appendix_iv", ("INT040", "B2")))  # the "Đơn vị:" value

    # ---- Appendix III ----
    write_xlsx(
        folder / "iii_accounts.xlsx",
        "PHỤ LỤC III",
        [],
        ["STT", "Đơn vị", "Mã đơn vị", "Tên đăng nhập", "Email"],
        [[1, "Sở Tư pháp", "STP", "stp.cchc", "a@hatinh.example"]],
    )
    case("iii_accounts.xlsx", ok("appendix_iii", 1))
    write_xlsx(
        folder / "iii_with_password.xlsx",
        "PHỤ LỤC III",
        [],
        ["STT", "Mã đơn vị", "Tên đăng nhập", "Mật khẩu"],
        [[1, "STP", "stp.cchc", "Abc@12345"]],
    )
    case("iii_with_password.xlsx", refused("appendix_iii", ("INT010", "D3")))

    # ---- multi-unit exports: bad rows refused, good rows kept ----
    (folder / "export_semicolon_bom.csv").write_bytes(
        ("\ufeff" + ";".join(EXPORT_COLS) + "\n" + "STP;2.p1.1;0,5;1;Đã nộp;12/01/2024 09:30\n").encode()
    )
    case("export_semicolon_bom.csv", ok("portal_export", 1))
    write_xlsx(
        folder / "export_bad_rows.xlsx",
        "XUẤT DỮ LIỆU",
        [],
        EXPORT_COLS,
        [
            ["STP", "2.p1.1", 0.5, 1, "Đã nộp", "12/01/2024 09:30"],
            ["SXYZ", "2.p1.2", 0.5, 1, "Đã nộp", "12/01/2024 09:30"],
            ["STP", "2.p9.9", 0.5, 1, "Đã nộp", "12/01/2024 09:30"],
            ["STP", "2.p1.2", "nửa", 1, "Đã nộp", "12/01/2024 09:30"],
            ["STP", "2.p1.3", 0.5, 1, "Đã nộp", "hôm qua"],
        ],
    )
    # one good row: a row with an error (here a score that is not a number, C7) never becomes a record
    case(
        "export_bad_rows.xlsx",
        ok("portal_export", 1, ("INT050", "A5"), ("INT020", "B6"), ("INT013", "C7"), ("INT051", "F8")),
    )
    write_csv(
        folder / "roster_duplicate.csv",
        ["STT", "Họ và tên", "Chức vụ", "Mã đơn vị", "Email", "Nhóm đối tượng"],
        [
            [1, "Lê Văn A", "Giám đốc", "STP", "a@hatinh.example", "Lãnh đạo"],
            [2, "Lê Văn A", "Giám đốc", "STP", "a@hatinh.example", "Lãnh đạo"],
        ],
    )
    case("roster_duplicate.csv", ok("survey_roster", 1, ("INT052", "E3")))
    write_csv(
        folder / "progress_bad_status.csv",
        ["Email", "Trạng thái", "Hoàn thành lúc", "Số câu đã trả lời", "Tổng số câu"],
        [
            ["a@hatinh.example", "Đã hoàn thành", "28/12/2023 10:00", 40, 40],
            ["b@hatinh.example", "Bỏ dở", "", 3, 40],
        ],
    )
    case("progress_bad_status.csv", ok("survey_progress", 1, ("INT053", "B3")))
    return cases
