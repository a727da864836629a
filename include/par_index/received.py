"""What was received, as a coordinator reads it: each file with its sender, form, status and problems (where in
the file and why). The dashboard, the phase-close mails and the phase sensor's log all show files through
:func:`file_view`, read by :func:`par_index.store.queries.received_files`."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from par_index.intake.forms import SPEC_BY_KIND
from par_index.intake.issue import location
from par_index.text import vn_datetime

if TYPE_CHECKING:
    from par_index.campaign import Campaign
    from par_index.store.models import IntakeIssue, ReceivedFile

FILE_STATUS_TITLES = {
    "accepted": "Đã nhận",
    "rejected": "Bị từ chối",
    "superseded": "Đã có bản thay thế",
}
SEVERITY_TITLES = {"error": "Lỗi", "warning": "Cảnh báo"}
UNKNOWN_FORM_VI = "Không nhận ra biểu mẫu"
UNKNOWN_SENDER_VI = "Chưa rõ đơn vị gửi"


def file_view(
    campaign: Campaign, f: ReceivedFile, issues: list[IntakeIssue], superseded_yet: bool = True
) -> dict:
    """One received file for people: JSON-able, Vietnamese, times in the campaign's time zone. With
    ``superseded_yet`` false (the file that replaced it had not arrived at the moment shown), a superseded file
    shows as it stood before: refused if intake found an error in it, else received."""
    unit = campaign.unit_by_code.get(f.unit_code or "")
    spec = SPEC_BY_KIND.get(f.form_kind or "")
    status = f.status
    if status == "superseded" and not superseded_yet:
        status = "rejected" if any(i.severity == "error" for i in issues) else "accepted"
    return {
        "id": f.id,
        "name": f.original_name,
        "arrived_vi": vn_datetime(f.arrived_at.astimezone(campaign.tz)),
        "unit_code": f.unit_code,
        "unit_name": unit.name_vi if unit else (f.unit_code or UNKNOWN_SENDER_VI),
        "form_kind": f.form_kind,
        "form_vi": spec.title_vi if spec else UNKNOWN_FORM_VI,
        "status": status,
        "status_vi": FILE_STATUS_TITLES.get(status, status),
        "errors": sum(1 for i in issues if i.severity == "error"),
        "warnings": sum(1 for i in issues if i.severity != "error"),
        "problems": [
            {
                "severity": i.severity,
                "severity_vi": SEVERITY_TITLES.get(i.severity, i.severity),
                "code": i.code,
                "where_vi": location(i.sheet, i.row, i.column, i.cell) or "cả tệp",
                "message": i.message,
            }
            for i in issues
        ],
    }


def status_counts_vi(files: list[ReceivedFile]) -> str:
    """'12 tệp: 5 đã nhận, 6 bị từ chối, 1 đã có bản thay thế' (statuses in a fixed order)."""
    counts = Counter(f.status for f in files)
    parts = [f"{counts[s]} {t.lower()}" for s, t in FILE_STATUS_TITLES.items() if counts[s]]
    return f"{len(files)} tệp" + (f": {', '.join(parts)}" if parts else "")
