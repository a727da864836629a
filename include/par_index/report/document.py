"""The Word report to the PPC, filled from the staff-editable template ``include/templates/report/`` (docxtpl)
with the same figures as the workbook."""

from __future__ import annotations

from pathlib import Path

from par_index.paths import TEMPLATES_DIR
from par_index.report.figures import ReportFigures
from par_index.text import decree_date, vn_date, vn_number

TEMPLATE = TEMPLATES_DIR / "report" / "bao_cao_tu_danh_gia.docx"


def _lower_first(text: str) -> str:
    """'Tỉnh Hà Tĩnh' → 'tỉnh Hà Tĩnh' (inside a sentence; proper names keep their capitals)."""
    return text[:1].lower() + text[1:]


def _software_line(figures: ReportFigures) -> str:
    """How many units have every assigned item scored, submitted with evidence on the software, matching and on
    time (the self-score phase's judge), and which have not."""
    state = figures.self_scores
    units = state.units
    names = figures.campaign.unit_names
    done = [s for s in units.values() if s.reason in ("ok", "late")]
    short = [s for s in units.values() if s.reason not in ("ok", "late")]
    line = (
        f"{len(done)}/{len(units)} đơn vị đã cập nhật đầy đủ điểm và tài liệu kiểm chứng trên phần mềm, trùng "
        "khớp với báo cáo"
    )
    if not short:
        return line + "."
    return line + "; còn thiếu: " + ", ".join(names.get(s.unit_code, s.unit_code) for s in short) + "."


def _on_time_line(figures: ReportFigures) -> list[str]:
    """No unit in the criticism list: said only of the deadlines already closed."""
    closed = [figures.campaign.phase_title(p) for p in figures.late if p in figures.outcomes]
    if not closed:
        return []
    return [
        "Các cơ quan, đơn vị đều hoàn thành đúng hạn các nội dung đã khép lại: "
        + "; ".join(f"“{title}”" for title in closed)
        + "."
    ]


def _mismatch_line(figures: ReportFigures) -> str:
    """What reconciliation found at its last run (or that the scores were never compared)."""
    if figures.reconciled_at is None:
        return "Chưa đối chiếu điểm giữa phần mềm chấm điểm và báo cáo của các đơn vị."
    if figures.open_mismatches:
        return (
            f"Còn {figures.open_mismatches} sai lệch giữa điểm trên phần mềm và báo cáo của đơn vị ("
            + ", ".join(f"{title.lower()}: {n}" for title, n in figures.mismatches.most_common())
            + ")."
        )
    return "Điểm trên phần mềm trùng khớp với báo cáo của các đơn vị (theo lần đối chiếu gần nhất)."


def difficulty_lines(difficulties: dict[str, str], names: dict[str, str]) -> list[str]:
    """The units' "Khó khăn, vướng mắc, đề xuất" (Appendix II) as report paragraphs, grouped by unit: a heading,
    then per unit "- <unit>: <first line>" and each further line written as its own paragraph (blank lines
    dropped); nothing when no unit wrote any."""
    if not difficulties:
        return []
    lines = ["Khó khăn, vướng mắc, đề xuất của các cơ quan, đơn vị (Phụ lục II):"]
    for code, text in difficulties.items():
        first, *rest = [line.strip() for line in text.splitlines() if line.strip()]
        lines += [f"- {names.get(code, code)}: {first}", *rest]
    return lines


def context(figures: ReportFigures) -> dict:
    """What the template says, in Vietnamese, from the figures (and the campaign file's report section)."""
    campaign = figures.campaign
    d, r = campaign.directive, campaign.report
    local = figures.as_of.astimezone(campaign.tz)
    names = campaign.unit_names
    agency = names.get(campaign.budget_unit, r.agency_vi.capitalize())
    inferred = " (số, ngày văn bản suy luận)" if "inferred" in (d.number_status, d.issued_on_status) else ""
    provisional = campaign.catalogue.has_provisional
    areas = [
        {
            "code": a.code,
            "name": a.name_vi + (" (có mục tạm tính)" if a.provisional else ""),
            "max": vn_number(a.self_max),
            "score": vn_number(a.self_score),
            "percent": vn_number(a.percent),
        }
        for a in figures.areas
    ]
    late_lines = [
        f"{campaign.phase_title(phase)} (hạn {vn_date(campaign.deadline_at(phase))}): "
        + "; ".join(f"{names.get(lu.unit_code, lu.unit_code)} ({lu.detail.rstrip('.')})" for lu in rows)
        + "."
        for phase, rows in figures.late.items()
        if rows
    ] + request_lines(figures)
    lacking = figures.lacking_evidence
    limitations = [
        *figures.phase_warnings,
        *(
            ["Cơ quan, đơn vị chậm hoặc chưa đầy đủ theo từng hạn:"] + [f"- {line}" for line in late_lines]
            if late_lines
            else _on_time_line(figures)
        ),
        _mismatch_line(figures),
        *r.difficulties_vi,
        *difficulty_lines(figures.difficulties, names),
    ]
    if lacking:
        limitations.append(f"{len(lacking)} tiêu chí thành phần chưa có tài liệu kiểm chứng:")
        for leaf in lacking:  # lacking_evidence: leaves with a report and a unit
            unit, explanation = leaf.unit_code or "", leaf.report.explanation if leaf.report else None
            limitations.append(
                f"- {leaf.code} ({names.get(unit, unit)}): "
                + (f"giải trình: {explanation}" if explanation else "chưa có giải trình.")
            )
    return {
        "r": r.model_copy(update={"number": campaign.report_number}),
        "agency": agency,
        "year": campaign.campaign.year,
        "province": _lower_first(campaign.campaign.province.name_vi),
        "date_line": decree_date(local.date()),
        "opening": ("(Bản thử nghiệm, không có giá trị ban hành.) " if campaign.campaign.trial else "")
        + (
            f"Thực hiện Văn bản số {d.number} ngày {vn_date(d.issued_on)}{inferred} của {d.issuer_vi} "
            f"{_lower_first(d.title_vi.removeprefix('V/v '))}, {agency} báo cáo kết quả "
            f"tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm {campaign.campaign.year} như sau:"
        ),
        "general": [
            f"{len(campaign.active_units)} cơ quan, đơn vị tham gia; {figures.nominee_units} đơn vị cử "
            f"{figures.nominees} công chức đầu mối; {figures.survey_rate:g}".replace(".", ",")
            + " % lãnh đạo được khảo sát đã trả lời phiếu đúng hạn.",
            f"{figures.scored}/{len(figures.leaves)} tiêu chí thành phần tự chấm đã có điểm trong báo cáo của các "
            f"đơn vị phụ trách; {figures.on_portal}/{len(figures.leaves)} tiêu chí đã được nộp trên phần mềm của "
            "Bộ Nội vụ kèm tài liệu kiểm chứng hoặc giải trình.",
            _software_line(figures),
            figures.budget_line,
        ],
        "results_intro": (
            f"Tổng điểm tự đánh giá của tỉnh là {vn_number(figures.self_total)}/"
            f"{vn_number(figures.self_max)} điểm; {vn_number(figures.survey_max)} điểm điều tra xã hội học "
            "do Bộ Nội vụ chấm. Kết quả theo lĩnh vực:"
        ),
        "areas": areas,
        "self_max": vn_number(figures.self_max),
        "self_total": vn_number(figures.self_total),
        "self_percent": vn_number(round(float(100 * figures.self_total / figures.self_max), 1))
        if figures.self_max
        else "0",
        "results": [
            f"Điểm điều tra xã hội học ({vn_number(figures.survey_max)} điểm) do Bộ Nội vụ chấm, tỉnh không tự "
            "chấm."
        ]
        + (
            [
                "Danh mục tiêu chí có mục tạm tính (suy luận, chưa đối chiếu Bảng 2 chính thức): "
                "các lĩnh vực có ghi chú “có mục tạm tính”."
            ]
            if provisional
            else []
        ),
        "limitations": limitations,
        "proposals": [
            *r.proposals_vi,
            *(
                [
                    "Đề nghị UBND tỉnh xem xét, giải quyết các khó khăn, vướng mắc, đề xuất của "
                    f"{len(figures.difficulties)} cơ quan, đơn vị nêu tại mục III."
                ]
                if figures.difficulties
                else []
            ),
        ]
        or ["Không có."],
    }


def request_lines(figures: ReportFigures) -> list[str]:
    """The criticism list's lines on requests: each request past its due day, with the units that have not
    answered it."""
    names = figures.campaign.unit_names
    by_request: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for o in figures.overdue_requests:
        by_request.setdefault(o.label, []).append(names.get(o.unit_code, o.unit_code))
        titles[o.label] = f"Yêu cầu {o.label} — {o.kind_title} (hạn {vn_date(o.due)})"
    return [f"{titles[n]}: chưa trả lời: {'; '.join(units)}." for n, units in by_request.items()]


def build_document(figures: ReportFigures, path: Path, template: Path = TEMPLATE) -> Path:
    """Fill the template and write ``path`` atomically."""
    from docxtpl import DocxTemplate

    doc = DocxTemplate(str(template))
    doc.render(context(figures), autoescape=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.docx")
    doc.save(str(tmp))
    tmp.replace(path)
    return path
