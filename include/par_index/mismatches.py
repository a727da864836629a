"""What reconciliation finds, in words: its mismatch categories, those that mean the software and the report
disagree, and the default tolerance. Light on purpose (the dashboard and DAG parsing read it); the comparison
itself is :mod:`par_index.reconcile` (pandas)."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_TOLERANCE = Decimal("0.01")  # points: two scores closer than this agree
CATEGORY_TITLES = {
    "value_differs": "Điểm khác nhau",
    "only_portal": "Chỉ có trên phần mềm",
    "only_report": "Chỉ có trong báo cáo",
    "above_maximum": "Vượt điểm tối đa",
    "survey_self_scored": "Mục điều tra XHH bị tự chấm",
    "not_assigned": "Tiêu chí không giao cho đơn vị",
    "evidence_one_side": "Tài liệu kiểm chứng chỉ có ở một bên",
    "no_evidence": "Không có tài liệu kiểm chứng và giải trình",
    "stale_report": "Phần mềm cập nhật sau khi ký báo cáo",
    "subtotal_inconsistent": "Tổng của mục cha không khớp",
    "duplicate_rows": "Một tiêu chí có nhiều dòng",
}
DISAGREEMENTS = ("value_differs", "only_portal", "only_report")  # the software does not equal the report
