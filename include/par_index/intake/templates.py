"""Blank, fillable templates of each form for a campaign (drop-down lists for unit, area and criterion codes;
locked headers; a filled example), kept up to date by the pipeline in ``<data>/forms/<campaign>/``: every place
that attaches or serves a form asks :func:`blank_forms`, which regenerates them when the campaign file or its
catalogue changed. No command is needed; this one only shows where they are:

    python -m par_index.intake.templates include/campaigns/ha_tinh_2023.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from par_index.campaign import Campaign, load_campaign
from par_index.paths import forms_dir
from par_index.phase_registry import BLANK_FORMS

log = logging.getLogger(__name__)

INPUT_ROWS = 200
FINGERPRINT_FILE = ".fingerprint"  # beside the forms: the fingerprint they were made from
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFFFF0")
UNLOCKED = Protection(locked=False)
# Appendix II's last header line: the unit's difficulties and proposals, free text in the cell right of the label
# (line breaks kept; docs/forms.md)
DIFFICULTIES_LABEL = "Khó khăn, vướng mắc, đề xuất"
EXAMPLE_DIFFICULTIES = (
    "1. Phần mềm chấm điểm của Bộ Nội vụ chậm khi tải tài liệu kiểm chứng dung lượng lớn.\n"
    "2. Đề xuất Sở Nội vụ tổ chức tập huấn cách cung cấp tài liệu kiểm chứng trên phần mềm."
)


@dataclass(frozen=True)
class Template:
    """A blank form: file name, title, header labels, columns and code lists."""

    kind: str
    file_name: str
    title: str
    header_labels: tuple[str, ...]  # 'Label:' lines above the table (the first is the unit)
    columns: tuple[tuple[str, int], ...]  # (title, width)
    code_lists: dict[int, str]  # column index → list name in the "Danh mục" sheet
    example_header: tuple[str, ...]
    example_rows: tuple[tuple, ...]


def _templates(campaign: Campaign) -> list[Template]:
    stp = campaign.example  # the example sheet's unit: the campaign file's example_unit
    stp_label = f"{stp.name_vi} ({stp.code})"
    person_email = f"nva@{stp.email.partition('@')[2]}"  # an example person in the unit's mail domain
    leaves = [c for c, u in campaign.assignment_of.items() if u == stp.code][:2]
    cat = campaign.catalogue
    return [
        Template(
            "appendix_ii",
            *BLANK_FORMS["appendix_ii"],
            ("Đơn vị", "Số", "Ngày", "Người ký", DIFFICULTIES_LABEL),
            (
                ("STT", 6),
                ("Mã tiêu chí", 12),
                ("Nội dung", 60),
                ("Điểm tối đa", 10),
                ("Điểm tự chấm", 10),
                ("Tài liệu kiểm chứng", 45),
                ("Giải trình", 35),
                ("Ghi chú", 20),
            ),
            {1: "criteria"},
            (stp_label, f"12/BC-{stp.code}", "15/01/2024", "Nguyễn Văn A", EXAMPLE_DIFFICULTIES),
            tuple(
                (
                    n,
                    code,
                    cat[code].name_vi,
                    float(cat[code].max_points),
                    float(cat[code].max_points),
                    f"Số {n}/KH-UBND ngày 0{n}/02/2023",
                    None,
                    None,
                )
                for n, code in enumerate(leaves, 1)
            ),
        ),
        Template(
            "appendix_iv",
            *BLANK_FORMS["appendix_iv"],
            ("Đơn vị",),
            (
                ("STT", 6),
                ("Họ và tên", 26),
                ("Chức vụ", 22),
                ("Phòng/Ban", 24),
                ("Lĩnh vực phụ trách", 14),
                ("Điện thoại", 14),
                ("Email", 30),
                ("Thành viên Hội đồng thẩm định", 14),
                ("Ghi chú", 20),
            ),
            {4: "areas", 7: "yes"},
            (stp_label,),
            (
                (
                    1,
                    "Nguyễn Văn A",
                    "Trưởng phòng",
                    "Phòng Văn bản",
                    ",".join(campaign.area_owners.get(stp.code, ["2"])),
                    "0912345678",
                    person_email,
                    "x",
                    None,
                ),
            ),
        ),
        Template(
            "appendix_iii",
            *BLANK_FORMS["appendix_iii"],
            (),
            (
                ("STT", 6),
                ("Đơn vị", 36),
                ("Mã đơn vị", 12),
                ("Tên đăng nhập", 20),
                ("Lĩnh vực/tiêu chí được phân quyền", 30),
                ("Người quản lý tài khoản", 26),
                ("Email", 30),
            ),
            {2: "units"},
            (),
            ((1, stp.name_vi, stp.code, f"{stp.code.lower()}.cchc", "2", "Nguyễn Văn A", person_email),),
        ),
        Template(
            "survey_roster",
            *BLANK_FORMS["survey_roster"],
            (),
            (
                ("STT", 6),
                ("Họ và tên", 26),
                ("Chức vụ", 22),
                ("Mã đơn vị", 12),
                ("Email", 30),
                ("Nhóm đối tượng", 24),
            ),
            {3: "units"},
            (),
            ((1, "Nguyễn Văn A", "Giám đốc", stp.code, person_email, "Lãnh đạo, quản lý"),),
        ),
    ]


def _lists_sheet(wb: Workbook, campaign: Campaign) -> dict[str, str]:
    """The 'Danh mục' sheet; returns list name → absolute range formula for data validation."""
    ws = wb.create_sheet("Danh mục")
    columns = {
        "units": [u.code for u in campaign.active_units],
        "unit_names": [f"{u.name_vi} ({u.code})" for u in campaign.active_units],
        "criteria": list(campaign.assignment_of),
        "criteria_names": [campaign.catalogue[c].name_vi for c in campaign.assignment_of],
        "areas": [a.code for a in campaign.catalogue.areas],
        "yes": ["x"],
    }
    titles = {
        "units": "Mã đơn vị",
        "unit_names": "Đơn vị",
        "criteria": "Mã tiêu chí (tự chấm)",
        "criteria_names": "Nội dung",
        "areas": "Lĩnh vực",
        "yes": "Có",
    }
    ranges = {}
    for col, (name, values) in enumerate(columns.items(), 1):
        letter = get_column_letter(col)
        ws.cell(1, col, titles[name]).font = Font(bold=True)
        for row, value in enumerate(values, 2):
            ws.cell(row, col, value)
        ws.column_dimensions[letter].width = 14 if name not in ("unit_names", "criteria_names") else 50
        ranges[name] = f"'Danh mục'!${letter}$2:${letter}${len(values) + 1}"
    ws.protection.sheet = True
    return ranges


def _form_sheet(ws, template: Template, ranges: dict[str, str], header: tuple = (), rows: tuple = ()) -> None:
    ws.cell(1, 1, template.title).font = Font(bold=True, size=13)
    for i, label in enumerate(template.header_labels, 2):
        ws.cell(i, 1, f"{label}:").font = Font(bold=True)
        cell = ws.cell(i, 2, header[i - 2] if header else None)
        cell.protection, cell.fill = UNLOCKED, INPUT_FILL
        if label == DIFFICULTIES_LABEL:  # several lines, pasted from Word: the cell spans the table's width
            ws.merge_cells(start_row=i, start_column=2, end_row=i, end_column=len(template.columns))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.row_dimensions[i].height = 60
    if template.header_labels:
        unit_list = DataValidation(
            type="list",
            formula1=ranges["unit_names"],
            allow_blank=True,
            error="Chọn đơn vị trong danh sách.",
            errorTitle="Đơn vị",
        )
        ws.add_data_validation(unit_list)
        unit_list.add(ws.cell(2, 2))
    head_row = len(template.header_labels) + 3
    for col, (title, width) in enumerate(template.columns, 1):
        cell = ws.cell(head_row, col, title)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    first, last = head_row + 1, head_row + max(INPUT_ROWS, len(rows))
    for r in range(first, last + 1):
        for c in range(1, len(template.columns) + 1):
            cell = ws.cell(r, c)
            cell.protection = UNLOCKED
    for offset, values in enumerate(rows):
        for c, value in enumerate(values, 1):
            ws.cell(first + offset, c, value)
    for col, list_name in template.code_lists.items():
        strict = list_name in ("criteria", "units")
        dv = DataValidation(
            type="list",
            formula1=ranges[list_name],
            allow_blank=True,
            errorStyle="stop" if strict else "information",
            error="Chọn mã trong danh sách (trang “Danh mục”).",
            errorTitle="Mã không hợp lệ",
        )
        ws.add_data_validation(dv)
        letter = get_column_letter(col + 1)
        dv.add(f"{letter}{first}:{letter}{last}")
    ws.freeze_panes = ws.cell(first, 1)
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # clerks may widen columns


def build(campaign: Campaign, template: Template, path: Path) -> Path:
    """Write one blank form template (form sheet, example sheet, lists) to ``path``."""
    wb = Workbook()
    form = wb.active
    form.title = "Biểu mẫu"
    ranges = _lists_sheet(wb, campaign)
    _form_sheet(form, template, ranges)
    example = wb.create_sheet("Ví dụ", 1)
    _form_sheet(example, template, ranges, template.example_header, template.example_rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def filled_form(campaign: Campaign, kind: str, rows: list[tuple], path: Path) -> Path:
    """A form of ``kind`` filled with ``rows`` (its template's layout and lists, no example sheet): what a unit
    would send, for a file the pipeline itself drops into the inbox (the setup workbook's survey roster)."""
    template = next(t for t in _templates(campaign) if t.kind == kind)
    wb = Workbook()
    form = wb.active
    form.title = "Biểu mẫu"
    _form_sheet(form, template, _lists_sheet(wb, campaign), (), tuple(rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_templates(campaign: Campaign, folder: Path) -> dict[str, Path]:
    """Write every form template of ``campaign`` into ``folder``; returns form kind → path."""
    return {t.kind: build(campaign, t, folder / t.file_name) for t in _templates(campaign)}


def fingerprint(campaign: Campaign) -> str:
    """SHA-256 of what the blank forms are made from: the campaign file's validated content, its catalogue's items
    and totals, and this module's source (a changed layout regenerates them too)."""
    digest = hashlib.sha256()
    digest.update(campaign.model_dump_json().encode())
    digest.update(
        json.dumps(dataclasses.asdict(campaign.catalogue), default=str, ensure_ascii=False).encode()
    )
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def _current(folder: Path, digest: str) -> bool:
    marker = folder / FINGERPRINT_FILE
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == digest


def blank_forms(campaign: Campaign) -> Path:
    """The folder of ``campaign``'s blank forms (``<data>/forms/<campaign>/``), up to date: regenerated when the
    campaign file or its catalogue changed since they were written (their :func:`fingerprint`, kept beside them in
    ``.fingerprint``), or when the folder lacks it (a half-written or older generation). A new generation is
    written to a temporary folder, then swapped in by renames under a lock: a racing process waits, then finds
    it current; a reader never sees a half-written form."""
    folder = forms_dir(campaign.id)
    digest = fingerprint(campaign)
    if _current(folder, digest):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{campaign.id}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _current(folder, digest):  # another process wrote them while this one waited
            return folder
        for leftover in folder.parent.glob(f".{campaign.id}.[no][el][wd].*"):  # of a process killed mid-swap
            shutil.rmtree(leftover, ignore_errors=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{campaign.id}.new.", dir=folder.parent))
        stale = folder.parent / f"{fresh.name.replace('.new.', '.old.')}"
        try:
            fresh.chmod(0o755)  # mkdtemp's folder is owner-only; the forms are not secret
            write_templates(campaign, fresh)
            (fresh / FINGERPRINT_FILE).write_text(digest + "\n", encoding="utf-8")
            if folder.exists():
                folder.rename(stale)
            fresh.rename(folder)
            log.info("Đã tạo lại biểu mẫu trống của chiến dịch %s: %s", campaign.id, folder)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
            shutil.rmtree(stale, ignore_errors=True)
    return folder


def template_for(campaign: Campaign, kind: str) -> Path:
    """The up-to-date blank form of one kind (``appendix_iv``…) to attach or serve (:func:`blank_forms`)."""
    return blank_forms(campaign) / BLANK_FORMS[kind][0]


def main() -> None:
    """Print where the campaign's blank forms are (regenerated first when stale); the pipeline needs no command."""
    parser = argparse.ArgumentParser(description="Show (and refresh) the blank forms of a campaign")
    parser.add_argument("campaign", type=Path)
    args = parser.parse_args()
    campaign = load_campaign(args.campaign)
    folder = blank_forms(campaign)
    for template in _templates(campaign):
        print(f"{template.kind}: {folder / template.file_name}")


if __name__ == "__main__":
    main()
