"""Write the Word template of the provincial report, ``include/templates/report/bao_cao_tu_danh_gia.docx``, laid out
per Decree 30/2020/NĐ-CP (A4; Times New Roman 14 pt; margins 20/20/30/15 mm; agency and national motto header;
page numbers at the top centre from page 2). Staff may edit the committed file in Word: the ``{{ … }}`` and
``{%p … %}`` tags are filled by docxtpl (``par_index.report.document``). Run this only to start a template afresh:

    .venv/bin/python tools/report_template.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "include" / "templates" / "report" / "bao_cao_tu_danh_gia.docx"
FONT = "Times New Roman"
CENTER, JUSTIFY, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT


def _font(run, size: float, bold=False, italic=False) -> None:
    run.font.name, run.font.size, run.bold, run.italic = FONT, Pt(size), bold, italic
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def para(
    container,
    text: str = "",
    size: float = 14,
    bold=False,
    italic=False,
    align=JUSTIFY,
    indent=True,
    after: float = 6,
):
    """Add a paragraph in the report's style to ``container``."""
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(after), 1.15
    fmt.first_line_indent = Mm(10) if indent and align == JUSTIFY else None
    if text:
        _font(p.add_run(text), size, bold, italic)
    return p


def rule(container, indent_mm: float) -> None:
    """The short line under the agency name and the motto (a bottom border on an indented empty paragraph)."""
    p = para(container, "", size=4, align=CENTER, indent=False, after=2)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Mm(indent_mm)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in {"w:val": "single", "w:sz": "6", "w:space": "1", "w:color": "000000"}.items():
        bottom.set(qn(key), value)
    border.append(bottom)
    p._p.get_or_add_pPr().append(border)


def page_number(header) -> None:
    """Put the page number, centred, in the header."""
    p = header.paragraphs[0]
    p.alignment = CENTER
    run = p.add_run()
    _font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def widths(table, sizes: list) -> None:
    """Fixed column widths (Word reads the cells, LibreOffice the grid: set both)."""
    table.autofit = False
    for col, size in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), sizes, strict=True):
        col.set(qn("w:w"), str(int(size.twips)))
    for row in table.rows:
        for cell, size in zip(row.cells, sizes, strict=True):
            cell.width = size


def borderless(table) -> None:
    """Remove every border of the table."""
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def build(target: Path = TARGET) -> Path:
    """Write the Word report's template to ``target``."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    section.different_first_page_header_footer = True  # no number on page 1
    page_number(section.header)

    head = doc.add_table(rows=1, cols=2)
    borderless(head)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    widths(head, [Mm(62), Mm(103)])
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    para(left, "{{ r.parent_agency_vi }}", 13, align=CENTER, after=0)
    para(left, "{{ r.agency_vi }}", 13, bold=True, align=CENTER, after=0)
    rule(left, 20)
    para(left, "Số: {{ r.number }}", 13, align=CENTER, after=0)
    para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12.5, bold=True, align=CENTER, after=0)
    para(right, "Độc lập - Tự do - Hạnh phúc", 13, bold=True, align=CENTER, after=0)
    rule(right, 26)
    para(right, "{{ r.place_vi }}, {{ date_line }}", 14, italic=True, align=CENTER, after=0)

    para(doc, "", after=6)
    para(doc, "BÁO CÁO", 14, bold=True, align=CENTER, after=0)
    para(
        doc,
        "Kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm {{ year }} của {{ province }}",
        14,
        bold=True,
        align=CENTER,
        after=0,
    )
    rule(doc, 65)
    para(doc, "Kính gửi: {{ r.addressee_vi }}.", 14, align=CENTER, after=12)
    para(doc, "{{ opening }}")

    para(doc, "I. TÌNH HÌNH CHUNG", bold=True, indent=True)
    para(doc, "{%p for line in general %}", indent=False)
    para(doc, "{{ line }}")
    para(doc, "{%p endfor %}", indent=False)

    para(doc, "II. KẾT QUẢ TỰ ĐÁNH GIÁ THEO TỪNG LĨNH VỰC", bold=True)
    para(doc, "{{ results_intro }}")
    table = doc.add_table(rows=4, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [
        ["TT", "Lĩnh vực", "Điểm tối đa", "Điểm tự chấm", "Tỷ lệ (%)"],
        ["{%tr for a in areas %}", "", "", "", ""],
        ["{{ a.code }}", "{{ a.name }}", "{{ a.max }}", "{{ a.score }}", "{{ a.percent }}"],
        ["{%tr endfor %}", "", "", "", ""],
    ]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.rows[r].cells[c]
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
            para(cell, value, 13, bold=r == 0, align=LEFT if c == 1 and r else CENTER, indent=False, after=0)
    total = table.add_row().cells
    for c, value in enumerate(
        ["", "Tổng điểm tự chấm", "{{ self_max }}", "{{ self_total }}", "{{ self_percent }}"]
    ):
        total[c].paragraphs[0]._p.getparent().remove(total[c].paragraphs[0]._p)
        para(total[c], value, 13, bold=True, align=LEFT if c == 1 else CENTER, indent=False, after=0)
    widths(table, [Mm(12), Mm(83), Mm(24), Mm(24), Mm(22)])
    para(doc, "", after=0)
    para(doc, "{%p for line in results %}", indent=False)
    para(doc, "{{ line }}")
    para(doc, "{%p endfor %}", indent=False)

    para(doc, "III. HẠN CHẾ, KHÓ KHĂN VÀ NGUYÊN NHÂN", bold=True)
    para(doc, "{%p for line in limitations %}", indent=False)
    para(doc, "{{ line }}")
    para(doc, "{%p endfor %}", indent=False)

    para(doc, "IV. ĐỀ XUẤT, KIẾN NGHỊ", bold=True)
    para(doc, "{%p for line in proposals %}", indent=False)
    para(doc, "{{ line }}")
    para(doc, "{%p endfor %}", indent=False)
    para(
        doc,
        "Trên đây là báo cáo kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm {{ year }} của "
        "{{ province }}, {{ agency }} kính báo cáo {{ r.addressee_vi }} xem xét, chỉ đạo./.",
    )

    sign = doc.add_table(rows=1, cols=2)
    borderless(sign)
    left, right = sign.rows[0].cells
    widths(sign, [Mm(80), Mm(85)])
    for cell in (left, right):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    para(left, "Nơi nhận:", 12, bold=True, italic=True, align=LEFT, indent=False, after=0)
    para(left, "{%p for line in r.recipients_vi %}", 11, align=LEFT, indent=False, after=0)
    para(left, "- {{ line }}", 11, align=LEFT, indent=False, after=0)
    para(left, "{%p endfor %}", 11, align=LEFT, indent=False, after=0)
    para(right, "{%p for line in r.signer_title_vi %}", 14, align=CENTER, indent=False, after=0)
    para(right, "{{ line }}", 14, bold=True, align=CENTER, indent=False, after=0)
    para(right, "{%p endfor %}", 14, align=CENTER, indent=False, after=0)
    for _ in range(4):
        para(right, "", 14, align=CENTER, indent=False, after=0)
    para(right, "{{ r.signer }}", 14, bold=True, align=CENTER, indent=False, after=0)
    doc.core_properties.title = "Báo cáo kết quả tự đánh giá Chỉ số CCHC"
    doc.core_properties.author = "Sở Nội vụ"
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET))
