"""Safety checks on an .xlsx/.xlsm package before any reader opens it: decompression limits (zip bombs), XML
entity declarations (billion laughs, external entities), macros (never run), formulas without a cached value."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from par_index.intake.issue import Issue

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed size of one member
MAX_MEMBERS = 5000
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


@dataclass
class PackageChecks:
    """What the check of an Office package found: a refusal, or issues to report."""

    refusal: Issue | None = None
    issues: list[Issue] = field(default_factory=list)


def inspect(archive: zipfile.ZipFile) -> PackageChecks:
    """Check an Office package before reading it (size of its content, dangerous XML, macros…)."""
    checks = PackageChecks()
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    if (
        len(infos) > MAX_MEMBERS
        or total > MAX_UNZIPPED_BYTES
        or any(
            i.compress_size and i.file_size > 10 * 1024 * 1024 and i.file_size / i.compress_size > MAX_RATIO
            for i in infos
        )
    ):
        checks.refusal = Issue(
            "INT006", "Tệp nén có nội dung giải nén quá lớn hoặc bất thường (nghi tệp độc hại); từ chối."
        )
        return checks
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        checks.refusal = Issue(
            "INT001", "Tệp không mở được: không phải tệp Excel .xlsx hợp lệ (thiếu xl/workbook.xml)."
        )
        return checks
    for info in infos:
        if info.filename.endswith((".xml", ".rels")):
            with archive.open(info) as member:
                head = member.read(4096)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                checks.refusal = Issue(
                    "INT014",
                    "Tệp chứa khai báo XML nguy hiểm (DOCTYPE/ENTITY); từ chối. Mở "
                    "bằng Excel, lưu lại thành .xlsx mới rồi gửi lại.",
                )
                return checks
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        checks.issues.append(
            Issue("INT017", "Tệp có macro: macro không bao giờ được chạy, chỉ đọc dữ liệu.", "warning")
        )
    try:
        with_formulas = {
            n: data
            for n in names
            if n.startswith("xl/worksheets/") and n.endswith(".xml") and b"<f" in (data := archive.read(n))
        }
        if with_formulas:
            for sheet, member_path in _sheet_paths(archive).items():
                if member_path in with_formulas:
                    checks.issues += _formulas_without_values(sheet, with_formulas[member_path])
    except (DefusedXmlException, ElementTree.ParseError, KeyError) as exc:
        checks.refusal = Issue("INT001", f"Tệp không mở được: cấu trúc Excel bị hỏng ({type(exc).__name__}).")
    return checks


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → member path, from the workbook and its relationships."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets: dict[str | None, Any] = {
        r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)
    }
    paths: dict[Any, str] = {}
    for sheet in workbook.findall("m:sheets/m:sheet", NS):
        target = targets.get(sheet.get(f"{{{NS['r']}}}id"), "")
        path = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        )
        paths[sheet.get("name")] = path
    return paths


def _formulas_without_values(sheet: str, data: bytes) -> list[Issue]:
    issues = []
    for cell in ElementTree.fromstring(data).iter(f"{{{NS['m']}}}c"):
        formula = cell.find("m:f", NS)
        if formula is None:
            continue
        value = cell.find("m:v", NS)
        if value is None or value.text in (None, ""):
            ref = cell.get("r", "")
            row = int("".join(ch for ch in ref if ch.isdigit()) or 0) or None
            issues.append(
                Issue(
                    "INT018",
                    f"Ô có công thức “={formula.text or ''}” nhưng không có giá trị đã tính: mở "
                    "tệp bằng Excel, để Excel tính rồi lưu lại.",
                    "error",
                    sheet,
                    row,
                    None,
                    ref or None,
                )
            )
    return issues
