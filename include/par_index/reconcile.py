"""Mismatch detection: the scores on MoHA's software must equal the unit's report (Appendix II).

One function serves the campaign DAG and on-demand reruns; it replaces the previous result of the same scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.store.models import Mismatch, Score

CATEGORY_TITLES = {
    "value_differs": "Điểm khác nhau",
    "only_portal": "Chỉ có trên phần mềm",
    "only_report": "Chỉ có trong báo cáo",
    "above_maximum": "Vượt điểm tối đa",
    "survey_self_scored": "Mục điều tra XHH bị tự chấm",
    "not_assigned": "Tiêu chí không giao cho đơn vị",
    "no_evidence": "Không có tài liệu kiểm chứng và giải trình",
    "evidence_one_side": "Tài liệu kiểm chứng chỉ có ở một bên",
}


@dataclass(frozen=True)
class Finding:
    unit_code: str
    criterion_code: str
    category: str
    report_score: Decimal | None
    portal_score: Decimal | None
    message: str

    @property
    def difference(self) -> Decimal | None:
        if self.report_score is None or self.portal_score is None:
            return None
        return self.portal_score - self.report_score


def find_mismatches(campaign: Campaign, report: list[Score], portal: list[Score],
                    tolerance: Decimal = Decimal("0.01")) -> list[Finding]:
    """Compare both sources key by key (unit, criterion); pure function, no I/O."""
    catalogue = campaign.catalogue
    rep = {(s.unit_code, s.criterion_code): s for s in report}
    por = {(s.unit_code, s.criterion_code): s for s in portal}
    findings: list[Finding] = []
    for key in sorted(rep.keys() | por.keys()):
        unit, code = key
        r, p = rep.get(key), por.get(key)
        rs, ps = (r.score if r else None), (p.score if p else None)
        item = catalogue.items.get(code)
        if item is not None and item.method == "survey":
            findings.append(Finding(unit, code, "survey_self_scored", rs, ps,
                                    f"{code} do Bộ Nội vụ chấm qua điều tra XHH: xóa điểm tự chấm trên phần mềm."))
            continue
        if campaign.assignment_of.get(code) != unit:
            findings.append(Finding(unit, code, "not_assigned", rs, ps,
                                    f"{code} không giao cho {unit} (Phụ lục I giao cho "
                                    f"{campaign.assignment_of.get(code, 'không đơn vị nào')}): xóa điểm này."))
            continue
        for source, score in (("phần mềm", ps), ("báo cáo", rs)):
            if score is not None and item is not None and score > item.max_points:
                findings.append(Finding(unit, code, "above_maximum", rs, ps,
                                        f"Điểm {score} trên {source} vượt điểm tối đa {item.max_points}."))
        if r is None:
            findings.append(Finding(unit, code, "only_portal", None, ps,
                                    f"{code} có {ps} điểm trên phần mềm nhưng không có trong báo cáo: bổ sung vào "
                                    "báo cáo hoặc xóa trên phần mềm."))
        elif p is None:
            findings.append(Finding(unit, code, "only_report", rs, None,
                                    f"{code} có {rs} điểm trong báo cáo nhưng chưa có trên phần mềm: cập nhật phần "
                                    "mềm."))
        elif rs is not None and ps is not None and abs(ps - rs) > tolerance:
            findings.append(Finding(unit, code, "value_differs", rs, ps,
                                    f"{code}: báo cáo {rs} điểm, phần mềm {ps} điểm (chênh {ps - rs:+}). Sửa cho "
                                    "trùng khớp."))
        if r is not None and not r.evidence and not r.explanation:
            findings.append(Finding(unit, code, "no_evidence", rs, ps,
                                    f"{code} không có tài liệu kiểm chứng và không có giải trình."))
        elif r is not None and p is not None and bool(r.evidence) != bool(p.evidence_count):
            side = "báo cáo" if r.evidence else "phần mềm"
            findings.append(Finding(unit, code, "evidence_one_side", rs, ps,
                                    f"{code}: tài liệu kiểm chứng chỉ có trên {side}."))
    return findings


def reconcile(session: Session, campaign: Campaign, units: list[str] | None = None,
              tolerance: Decimal = Decimal("0.01")) -> list[Finding]:
    """Run mismatch detection for the campaign (or some units) and store it, replacing that scope's result."""
    scope = "campaign" if not units else "units:" + ",".join(sorted(units))
    query = select(Score).where(Score.campaign_id == campaign.id)
    if units:
        query = query.where(Score.unit_code.in_(units))
    scores = session.scalars(query).all()
    findings = find_mismatches(campaign, [s for s in scores if s.source == "report"],
                               [s for s in scores if s.source == "portal"], tolerance)
    session.execute(delete(Mismatch).where(Mismatch.campaign_id == campaign.id, Mismatch.scope == scope))
    found_at = datetime.now(UTC)
    for f in findings:
        session.add(Mismatch(campaign_id=campaign.id, scope=scope, unit_code=f.unit_code,
                             criterion_code=f.criterion_code, category=f.category, report_score=f.report_score,
                             portal_score=f.portal_score, difference=f.difference, message=f.message,
                             found_at=found_at))
    session.flush()
    return findings
