"""The self-score judge, per assigned criterion and on both sides: the report scores it, the software has it
submitted (not a draft) before the deadline with evidence or an explanation, and both scores agree. Every
expected text is derived from what each test plants (which unit, which criteria, which scores)."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from par_index import reminders
from par_index.notify import render
from par_index.phases import evaluate
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import IntakeIssue, ReceivedFile, Score
from par_index.text import code_list
from sqlalchemy import select

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
UNIT = "STP"
SIGNED = datetime(2024, 1, 14, 9, 0, tzinfo=HCM)  # report and software entries, before the 16/01 deadline
AFTER = datetime(2024, 1, 20, 9, 0, tzinfo=HCM)  # the phase is judged after its deadline


def _criteria(campaign) -> list[str]:
    return [code for code, unit in campaign.assignment_of.items() if unit == UNIT]


def _file(s, campaign, kind: str, arrived: datetime) -> ReceivedFile:
    row = ReceivedFile(
        campaign_id=campaign.id,
        sha256=f"{kind:0<64}"[:64],
        original_name=f"{kind}_{UNIT}.xlsx",
        archived_as=f"{kind}_{UNIT}.xlsx",
        size_bytes=1,
        arrived_at=arrived,
        registered_at=arrived,
        form_kind=kind,
        unit_code=UNIT,
        status="accepted",
    )
    s.add(row)
    s.flush()
    return row


def _plant(rt, campaign, report: dict, portal: dict, report_arrives: datetime = SIGNED) -> None:
    """``report``: criterion → score; ``portal``: criterion → (score, status, evidence count, updated_at)."""
    with session_scope(rt.store_url) as s:
        paper = _file(s, campaign, "appendix_ii", report_arrives)
        export = _file(s, campaign, "portal_export", SIGNED)
        for code, score in report.items():
            s.add(
                Score(
                    campaign_id=campaign.id,
                    source="report",
                    unit_code=UNIT,
                    criterion_code=code,
                    score=score,
                    evidence="Số 1/KH-UBND",
                    updated_at=report_arrives,
                    file_id=paper.id,
                )
            )
        for code, (score, status, evidence, updated) in portal.items():
            s.add(
                Score(
                    campaign_id=campaign.id,
                    source="portal",
                    unit_code=UNIT,
                    criterion_code=code,
                    score=score,
                    evidence_count=evidence,
                    status=status,
                    updated_at=updated,
                    file_id=export.id,
                )
            )


def _status(rt, campaign, now: datetime = AFTER):
    with session_scope(rt.store_url) as s:
        return evaluate(s, campaign, "self_scores", now).units[UNIT]


@pytest.fixture
def stp(campaign, runtime):
    prepare(campaign, runtime)
    criteria = _criteria(campaign)
    assert len(criteria) == 10  # Appendix I gives STP area 2's ten sub-criteria
    return criteria


def _full(criteria, **change):
    """Every criterion scored 1 in the report and submitted as 1 with one document on 14/01."""
    report = {c: Decimal(1) for c in criteria}
    portal = {c: (Decimal(1), "submitted", 1, SIGNED) for c in criteria}
    for code, value in change.items():
        portal[code.replace("_", ".")] = value
    return report, portal


def test_a_unit_with_every_criterion_scored_submitted_and_matching_is_done(campaign, runtime, stp):
    _plant(runtime, campaign, *_full(stp))
    status = _status(runtime, campaign)
    assert (status.reason, status.done, status.expected, status.problems) == ("ok", 10, 10, [])
    assert status.detail == "Đủ 10/10 tiêu chí trong báo cáo và trên phần mềm, điểm trùng khớp, đúng hạn."


def test_a_report_scoring_one_of_ten_criteria_is_not_done_and_names_the_nine(campaign, runtime, stp):
    first = stp[0]
    _plant(runtime, campaign, {first: Decimal(1)}, {first: (Decimal(1), "submitted", 1, SIGNED)})
    status = _status(runtime, campaign)
    rest = ", ".join(stp[1:])
    assert (status.reason, status.done, status.expected) == ("incomplete", 1, 10)
    assert status.detail == (
        f"Báo cáo còn thiếu 9/10 tiêu chí: {rest}; phần mềm còn thiếu 9/10 tiêu chí: {rest}."
    )
    assert status.problems == [
        f"Báo cáo còn thiếu 9/10 tiêu chí: {rest} — chấm điểm các tiêu chí này trong Phụ lục II và gửi lại "
        "báo cáo.",
        f"Phần mềm còn thiếu 9/10 tiêu chí: {rest} — nhập điểm trên phần mềm chấm điểm của Bộ Nội vụ.",
    ]
    # before the deadline the same unit is "pending", with the same words
    before = _status(runtime, campaign, datetime(2024, 1, 15, 9, 0, tzinfo=HCM))
    assert (before.reason, before.detail) == ("pending", status.detail)


def test_a_draft_entry_keeps_the_unit_from_done(campaign, runtime, stp):
    draft = stp[3]
    _plant(runtime, campaign, *_full(stp, **{draft.replace(".", "_"): (Decimal(1), "draft", 1, SIGNED)}))
    status = _status(runtime, campaign)
    assert (status.reason, status.done) == ("incomplete", 9)
    assert status.detail == f"1 tiêu chí trên phần mềm còn ở trạng thái “Chưa nộp”: {draft}."


def test_an_entry_made_after_the_deadline_is_late(campaign, runtime, stp):
    late = stp[9]
    entered = datetime(2024, 1, 18, 15, 30, tzinfo=HCM)
    _plant(runtime, campaign, *_full(stp, **{late.replace(".", "_"): (Decimal(1), "submitted", 1, entered)}))
    status = _status(runtime, campaign)
    assert (status.reason, status.done) == ("late", 10)
    assert status.detail == f"1 tiêu chí cập nhật trên phần mềm sau hạn: {late} (muộn nhất ngày 18/01/2024)."
    # as of 17/01 the late entry was not made yet: the software lacks it
    on_17 = _status(runtime, campaign, datetime(2024, 1, 17, 9, 0, tzinfo=HCM))
    assert (on_17.reason, on_17.detail) == ("incomplete", f"Phần mềm còn thiếu 1/10 tiêu chí: {late}.")


def test_scores_that_differ_keep_the_unit_from_done(campaign, runtime, stp):
    differs = stp[1]
    _plant(
        runtime,
        campaign,
        *_full(stp, **{differs.replace(".", "_"): (Decimal("0.75"), "submitted", 1, SIGNED)}),
    )
    status = _status(runtime, campaign)
    assert (status.reason, status.done) == ("incomplete", 9)
    assert (
        status.detail
        == f"Điểm trên phần mềm khác báo cáo ở 1 tiêu chí: {differs} (báo cáo 1, phần mềm 0,75)."
    )


def test_a_software_score_that_is_not_a_number_is_named_with_its_cell(campaign, runtime, stp):
    unreadable = stp[4]
    report, portal = _full(stp)
    del portal[unreadable]  # the export's row was refused: no software score stored for it
    _plant(runtime, campaign, report, portal)
    with session_scope(runtime.store_url) as s:
        export = s.scalars(select(ReceivedFile).where(ReceivedFile.form_kind == "portal_export")).one()
        s.add(
            IntakeIssue(
                file_id=export.id,
                severity="error",
                code="INT013",
                sheet="Sheet1",
                row=9,
                cell="E9",
                message="Điểm “tám” không phải là số.",
                unit_code=UNIT,
                criterion_code=unreadable,
            )
        )
    status = _status(runtime, campaign)
    assert (status.reason, status.done) == ("incomplete", 9)
    assert status.problems == [
        f"Điểm trên phần mềm của 1 tiêu chí không đọc được: {unreadable} (ô E9) — sửa điểm trên phần mềm thành số "
        "rồi xuất lại."
    ]
    # judged before the report and the export arrived, nothing is there yet: no cell to name
    before = _status(runtime, campaign, datetime(2024, 1, 13, 9, 0, tzinfo=HCM))
    assert before.detail == (
        f"Chưa gửi báo cáo tự chấm điểm (Phụ lục II); phần mềm còn thiếu 10/10 tiêu chí: {', '.join(stp)}."
    )


def test_an_entry_without_evidence_or_explanation_is_not_done(campaign, runtime, stp):
    bare = stp[2]
    _plant(runtime, campaign, *_full(stp, **{bare.replace(".", "_"): (Decimal(1), "submitted", 0, SIGNED)}))
    status = _status(runtime, campaign)
    assert (status.reason, status.done) == ("incomplete", 9)
    assert status.detail == f"1 tiêu chí trên phần mềm chưa có tài liệu kiểm chứng hay giải trình: {bare}."


def test_a_late_report_with_everything_else_in_order_is_late(campaign, runtime, stp):
    _plant(runtime, campaign, *_full(stp), report_arrives=datetime(2024, 1, 18, 8, 0, tzinfo=HCM))
    status = _status(runtime, campaign)
    assert (status.reason, status.detail) == ("late", "Nộp báo cáo ngày 18/01/2024 (sau hạn).")


def test_no_report_is_missing_after_the_deadline(campaign, runtime, stp):
    with session_scope(runtime.store_url) as s:
        assert s.get(ReceivedFile, 1) is None
    status = _status(runtime, campaign)
    assert (status.reason, status.done) == ("missing", 0)
    assert status.detail == (
        f"Chưa gửi báo cáo tự chấm điểm (Phụ lục II); phần mềm còn thiếu 10/10 tiêu chí: {', '.join(stp)}."
    )


def test_a_long_list_of_codes_stays_readable():
    codes = [f"1.p{n}" for n in range(1, 16)]
    assert code_list(codes) == ", ".join(codes[:12]) + ", … (thêm 3 mã)"
    assert code_list(codes[:12]) == ", ".join(codes[:12])


def test_the_reminder_says_what_to_fix(campaign, runtime, stp):
    first = stp[0]
    _plant(runtime, campaign, {first: Decimal(1)}, {first: (Decimal(1), "submitted", 1, SIGNED)})
    now = datetime(2024, 1, 15, 8, 0, tzinfo=HCM).astimezone(UTC)  # the 1-day reminder
    with session_scope(runtime.store_url) as s:
        mails = [
            m for m in reminders.plan(s, campaign, now) if m.unit_code == UNIT and m.phase == "self_scores"
        ]
    unit = campaign.unit_by_code[UNIT]
    assert [m.recipients for m in mails] == [[unit.email]]
    _, text, html = render(mails[0].template, campaign=campaign, **mails[0].context)
    rest = ", ".join(stp[1:])
    assert (
        "Cần khắc phục:\n"
        f"- Báo cáo còn thiếu 9/10 tiêu chí: {rest} — chấm điểm các tiêu chí này trong Phụ lục II và gửi lại "
        "báo cáo.\n"
        f"- Phần mềm còn thiếu 9/10 tiêu chí: {rest} — nhập điểm trên phần mềm chấm điểm của Bộ Nội vụ.\n"
    ) in text
    assert f"<li>Phần mềm còn thiếu 9/10 tiêu chí: {rest} — nhập điểm" in html


def test_the_escalation_to_the_head_says_what_to_fix(campaign, runtime, stp):
    first = stp[0]
    _plant(runtime, campaign, {first: Decimal(1)}, {first: (Decimal(1), "submitted", 1, SIGNED)})
    now = datetime(2024, 1, 22, 8, 0, tzinfo=HCM).astimezone(UTC)  # the escalation step (Monday 22/01)
    with session_scope(runtime.store_url) as s:
        mails = [
            m for m in reminders.plan(s, campaign, now) if m.unit_code == UNIT and m.phase == "self_scores"
        ]
    assert [(m.template, m.rung, m.recipients) for m in mails] == [
        ("escalation", "escalation", [campaign.unit_by_code[UNIT].head_email])
    ]
    _, text, _ = render(mails[0].template, campaign=campaign, **mails[0].context)
    rest = ", ".join(stp[1:])
    assert (
        f"Tình trạng: Chưa đầy đủ. Báo cáo còn thiếu 9/10 tiêu chí: {rest}; phần mềm còn thiếu 9/10 tiêu chí: "
        f"{rest}.\nCần khắc phục:\n- Báo cáo còn thiếu 9/10 tiêu chí: {rest} — chấm điểm các tiêu chí này trong "
        "Phụ lục II và gửi lại báo cáo.\n"
    ) in text
