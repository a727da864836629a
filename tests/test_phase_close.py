"""Closing always runs: after a failed collection it still reads the inbox, records the late list and says so to
the coordinators (once); a report built before a phase closed, or after a failed collection, says so too."""

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from par_index.notify import SmtpSettings
from par_index.report.document import context
from par_index.report.figures import compute
from par_index.service import close_phase, collect, deadline_alert, notify_phase_closed, prepare
from par_index.store import session_scope
from par_index.store.models import CollectionFailure, LateUnit, PhaseOutcome
from sqlalchemy import select
from support.received_mail import read_mails

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_phase_closes_after_a_failed_collection_and_the_coordinators_are_told_once(campaign, runtime, sink):
    controller, folder = sink
    rt = replace(runtime, smtp=SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example"))
    prepare(campaign, rt)
    closed_at = datetime(2023, 12, 27, 10, 0, tzinfo=HANOI)  # the sensor died three days before the deadline
    result = close_phase(campaign, rt, "nominees", closed_at, collection_failed=True)
    assert result["collection_failed"] is True
    assert result["late"] == {code: "pending" for code in campaign.area_owners}
    with session_scope(rt.store_url) as s:
        outcome = s.get(PhaseOutcome, (campaign.id, "nominees"))
        late = s.scalar(select(LateUnit.unit_code).where(LateUnit.phase == "nominees").limit(1))
        failures = [(f.code, f.message) for f in s.scalars(select(CollectionFailure))]
    assert (outcome.status, outcome.collection_failed, late is not None) == ("closed_incomplete", True, True)
    assert failures == [
        (
            "COL001",
            "Tác vụ thu nhận “Cử công chức đầu mối (Phụ lục IV)” kết thúc lỗi; nội dung "
            "được khép lại lúc 27/12/2023 10:00 (TRƯỚC hạn) với dữ liệu đã có. Xem nhật ký "
            "tác vụ, sửa lỗi rồi Clear tác vụ thu nhận để thu nhận tiếp.",
        )
    ]

    notify_phase_closed(campaign, rt, "nominees", closed_at)
    deadline_alert(campaign, rt, "survey", "1d", datetime(2023, 12, 30, 8, 0, tzinfo=HANOI))
    first, second = read_mails(folder)
    body = first.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "LƯU Ý: tác vụ thu nhận của nội dung này kết thúc lỗi" in body
    assert (
        "Lỗi khi thu nhận từ lần báo trước (1):\n- 27/12/2023 10:00 — Cử công chức đầu mối (Phụ lục IV), Tác vụ "
        "thu nhận [COL001]: Tác vụ thu nhận"
    ) in body
    assert (
        "Lỗi khi thu nhận" not in second.get_body(("plain",)).get_content()
    )  # named once, in the next mail only


def test_the_report_says_which_phases_it_cannot_vouch_for(campaign, runtime):
    prepare(campaign, runtime)
    now = datetime(2024, 1, 18, 9, 0, tzinfo=HANOI)
    for phase in ("nominees", "survey"):
        collect(campaign, runtime, phase, now)
    close_phase(campaign, runtime, "nominees", now)
    close_phase(campaign, runtime, "survey", now, collection_failed=True)
    with session_scope(runtime.store_url) as s:
        limitations = context(compute(s, campaign, now))["limitations"]
    assert limitations[:2] == [
        "Nội dung “Trả lời phiếu khảo sát xã hội học” được khép lại sau khi tác vụ thu nhận bị lỗi: số liệu có thể "
        "chưa đầy đủ.",
        "Nội dung “Tự chấm điểm và báo cáo (Phụ lục II)” chưa khép lại khi lập báo cáo: số liệu của nội dung này "
        "chưa phải số liệu cuối cùng.",
    ]


def test_the_dashboard_lists_collection_failures_and_whether_they_were_reported(campaign, runtime):
    from par_index.dashboard.data import build_overview

    prepare(campaign, runtime)
    moment = datetime(2024, 1, 10, 9, 0, tzinfo=HANOI)
    close_phase(campaign, runtime, "survey", moment, collection_failed=True)
    overview = build_overview(campaign, runtime.store_url, datetime(2024, 1, 10, 9, 5, tzinfo=HANOI))
    assert [
        (f["time_vi"], f["phase_title"], f["code"], f["reported_vi"]) for f in overview["collection_failures"]
    ] == [("10/01/2024 09:00", "Trả lời phiếu khảo sát xã hội học", "COL001", "Chưa")]
    survey = next(d for d in overview["deadlines"] if d["phase"] == "survey")
    assert survey["closed"]["collection_failed"] is True
