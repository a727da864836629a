"""Plain-text summary of a campaign's state, in Vietnamese: what the demo prints and a coordinator reads."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from par_index.campaign import Campaign
from par_index.intake.issue import location
from par_index.mismatches import CATEGORY_TITLES
from par_index.phase_registry import COLLECTED
from par_index.phases import BUILD_STATUS_TITLES, REASON_TITLES
from par_index.readers import MAIL_KINDS
from par_index.report import builds
from par_index.store import session_scope
from par_index.store.models import (
    IntakeIssue,
    LateUnit,
    Mismatch,
    Notification,
    PhaseOutcome,
    ReceivedFile,
    ReportBuild,
)
from par_index.text import vn_datetime


# A report printed section by section, each with its own optional lines: long, but straight.
def campaign_summary(campaign: Campaign, store_url: str) -> str:  # noqa: C901
    """The campaign's summary as printed by the demo: phases, late units, files, mismatches, report."""
    lines = [f"=== {campaign.title_vi} ==="]
    with session_scope(store_url) as s:
        outcomes = {
            o.phase: o for o in s.scalars(select(PhaseOutcome).where(PhaseOutcome.campaign_id == campaign.id))
        }
        late = s.scalars(select(LateUnit).where(LateUnit.campaign_id == campaign.id)).all()
        mismatches = s.scalars(select(Mismatch).where(Mismatch.campaign_id == campaign.id)).all()
        files = s.scalars(select(ReceivedFile).where(ReceivedFile.campaign_id == campaign.id)).all()
        issues = s.scalars(
            select(IntakeIssue)
            .join(ReceivedFile)
            .where(ReceivedFile.campaign_id == campaign.id, ReceivedFile.status == "rejected")
        ).all()
        mails = s.scalars(select(Notification).where(Notification.campaign_id == campaign.id)).all()
        build_rows = s.scalars(
            select(ReportBuild).where(ReportBuild.campaign_id == campaign.id).order_by(ReportBuild.number)
        ).all()
        build_files = {
            b.id: builds.files_of(s, b)
            | {f"archived_{k}": v for k, v in builds.files_of(s, b, "archived_").items()}
            for b in build_rows
        }

        lines.append("\nCác nội dung:")
        for phase in COLLECTED:
            title = campaign.phase_title(phase)
            o = outcomes.get(phase)
            state = (
                "chưa khép lại"
                if o is None
                else (
                    f"{'hoàn thành' if o.status == 'complete' else 'khép lại khi chưa đủ'}, "
                    f"{o.complete_units}/{o.expected_units} đơn vị đạt"
                )
            )
            lines.append(f"  - {title} (hạn {vn_datetime(campaign.deadline_at(phase))}): {state}")

        lines.append("\nĐơn vị chậm hoặc chưa đạt:")
        for lu in sorted(late, key=lambda x: (COLLECTED.index(x.phase), x.unit_code)):
            lines.append(
                f"  - [{lu.phase}] {lu.unit_code}: {REASON_TITLES.get(lu.reason, lu.reason)} — {lu.detail}"
            )
        if not late:
            lines.append("  (không có)")

        lines.append(f"\nSai lệch phần mềm ↔ báo cáo: {len(mismatches)}")
        for category, count in sorted(Counter(m.category for m in mismatches).items()):
            lines.append(f"  - {CATEGORY_TITLES.get(category, category)}: {count}")

        rejected = [f for f in files if f.status == "rejected"]
        lines.append(f"\nTệp nhận: {len(files)}; bị từ chối: {len(rejected)}")
        for f in rejected:
            for issue in (i for i in issues if i.file_id == f.id):
                where = location(issue.sheet, issue.row, issue.column, issue.cell)
                lines.append(
                    f"  - {f.original_name}: [{issue.code}] {where + ': ' if where else ''}{issue.message}"
                )

        warnings = s.scalars(
            select(IntakeIssue)
            .join(ReceivedFile)
            .where(
                ReceivedFile.campaign_id == campaign.id,
                ReceivedFile.status != "rejected",
                IntakeIssue.severity == "warning",
            )
        ).all()
        if warnings:
            lines.append(
                f"Cảnh báo trong các tệp đã nhận: {len(warnings)} (trang “Lỗi tiếp nhận” của bảng tổng hợp)"
            )
            for code, count in sorted(Counter(w.code for w in warnings).items()):
                example = next(w.message for w in warnings if w.code == code)
                lines.append(f"  - [{code}] ×{count}, ví dụ: {example}")

        by_outcome = Counter(m.outcome for m in mails)
        lines.append(
            f"\nThư: đã gửi {by_outcome.get('sent', 0)}, lỗi (sẽ gửi lại) {by_outcome.get('failed', 0)}, "
            f"chờ gửi {by_outcome.get('queued', 0)}, không gửi nữa {by_outcome.get('dropped', 0)}"
        )
        for template, count in Counter(m.template for m in mails).most_common():
            lines.append(f"  - {MAIL_KINDS.get(template, template)}: {count}")
        lines.append("\nBáo cáo tự đánh giá:")
        for b in build_rows:
            decided = (
                f"; {b.decided_by}, {vn_datetime(b.decided_at.astimezone(campaign.tz))}"
                if b.decided_at
                else ""
            )
            why = f"; lý do: {b.reason}" if b.status == "rejected" else ""
            lines.append(f"  - Bản lần {b.number}: {BUILD_STATUS_TITLES[b.status]}{decided}{why}")
        if build_rows:
            latest = build_files[build_rows[-1].id]
            for kind, label in (
                ("workbook", "Bảng tổng hợp"),
                ("docx", "Báo cáo Word"),
                ("archived_workbook", "Lưu bản gửi (Excel)"),
                ("archived_docx", "Lưu bản gửi (Word)"),
            ):
                if kind in latest:
                    lines.append(f"    {label}: {latest[kind].path} (SHA-256 {latest[kind].sha256[:12]}…)")
        else:
            lines.append("  (chưa lập)")
    return "\n".join(lines)
