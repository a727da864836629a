"""The sender told at once: a refused file, or one accepted with problems, is answered to the unit and its
nominees with each problem's sheet and cell; a corrected file gets its own answer; a rerun sends nothing twice.
Mail goes through a real SMTP server on loopback."""

import os
from datetime import UTC, datetime, timedelta

from par_index import feedback
from par_index.intake.forms import SPEC_BY_KIND
from par_index.notify import SmtpSettings
from par_index.paths import inbox_dir
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import Notification
from par_index.text import vn_weekday_datetime
from par_index_dev.sample_data import IV_MINIMAL_COLUMNS as IV
from par_index_dev.writer import write_xlsx
from sqlalchemy import select
from support.received_mail import read_mails

II = ["Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Tài liệu kiểm chứng"]
NOW = datetime.now(UTC)
DONE = "Sửa lỗi này trong tệp rồi gửi lại cả tệp vào hộp thư đến."
CHECK = "Tệp vẫn được tiếp nhận; kiểm tra lại, nếu cần sửa thì gửi lại cả tệp."


def _drop(path, ago: timedelta):
    when = (NOW - ago).timestamp()
    os.utime(path, (when, when))
    return path


def _stp_report(campaign, name: str, score: str, ago: timedelta):
    return _drop(
        write_xlsx(
            inbox_dir(campaign.id) / name,
            "PHỤ LỤC II",
            [("Đơn vị", "Sở Tư pháp (STP)")],
            II,
            [["2.p1.1", "…", 0.75, score, "Số 1/KH-UBND"]],
        ),
        ago,
    )


def _mails(folder) -> dict[str, list]:
    found: dict[str, list] = {}
    for m in read_mails(folder):
        found.setdefault(m["To"], []).append(m)
    return found


def _body(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_refused_and_warned_files_are_answered_once_and_a_corrected_file_gets_its_own_answer(
    runtime, campaign, sink
):
    controller, folder = sink
    rt = type(runtime)(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example")
    )
    prepare(campaign, rt)
    _stp_report(campaign, "bao_cao_STP.xlsx", "5", timedelta(hours=2))  # 5 points where 0.75 is the most
    member = next(m for m in campaign.council.members if m.unit == "SKHDT")
    _drop(
        write_xlsx(
            inbox_dir(campaign.id) / "PL4 SKHDT.xlsx",
            "PHỤ LỤC IV",
            [("Đơn vị", "SKHDT")],
            IV,
            [
                [1, member.name, "Phó Trưởng phòng", "6,8", member.email],
                [2, "Phan Thị Hà", "Chuyên viên", "6", "ha.pt.skhdt@hatinh.example"],
            ],
        ),
        timedelta(hours=2),
    )

    first = feedback.run(campaign, rt, NOW)
    assert (first["new_files"], first["rejected"], first["answered_files"]) == (2, ["bao_cao_STP.xlsx"], 2)
    assert first["mail"] == {"sent": 4}
    stp, skhdt = campaign.unit_by_code["STP"], campaign.unit_by_code["SKHDT"]
    mails = _mails(folder)
    assert sorted(mails) == sorted([stp.email, skhdt.email, member.email, "ha.pt.skhdt@hatinh.example"])
    assert all(len(m) == 1 for m in mails.values())

    [refused] = mails[stp.email]
    assert refused["Subject"] == (f"[{campaign.title_vi}] Tệp “bao_cao_STP.xlsx” bị từ chối: 1 lỗi cần sửa")
    body = _body(refused)
    arrived = (NOW - timedelta(hours=2)).astimezone(campaign.tz)
    assert (
        f"Sở Nội vụ đã nhận tệp “bao_cao_STP.xlsx” ({SPEC_BY_KIND['appendix_ii'].title_vi}) lúc "
        f"{arrived:%d/%m/%Y %H:%M} (giờ Việt Nam).\n" in body
    )
    assert (
        f"\n1. [INT026] trang Biểu mẫu, ô D5, cột “Điểm tự chấm”: Điểm 5 của 2.p1.1 ngoài khoảng 0–0.75. {DONE}\n"
        in body
    )
    assert (
        "Sửa các lỗi trên rồi gửi lại cả tệp trước "
        f"{vn_weekday_datetime(campaign.deadline_at('self_scores'))} (giờ Việt Nam); tệp gửi sau thay cho tệp này"
        in body
    )

    warned = [mails[r][0] for r in (skhdt.email, member.email, "ha.pt.skhdt@hatinh.example")]
    assert {m["Subject"] for m in warned} == {
        f"[{campaign.title_vi}] Tệp “PL4 SKHDT.xlsx” đã tiếp nhận, có 2 điểm cần kiểm tra"
    }
    lines = [line for line in _body(warned[0]).splitlines() if line[:3] in ("1. ", "2. ")]
    assert lines == [
        "1. [INT045] trang Biểu mẫu, ô B6, cột “Họ và tên”: Phan Thị Hà không có trong danh sách Hội đồng thẩm "
        f"định ({campaign.council.decision}). {CHECK}",
        "2. [INT046] trang Biểu mẫu, ô B6, cột “Họ và tên”: Đơn vị cử 2 người, quy định đúng 01 người: người ở "
        f"dòng này vượt số được cử. Chỉ giữ lại 01 người rồi gửi lại tệp. {CHECK}",
    ]

    again = feedback.run(campaign, rt, NOW)  # the same files: nothing read, nothing sent
    assert (again["new_files"], again["answered_files"], again["mail"]) == (0, 0, {})
    assert len(read_mails(folder)) == 4

    _stp_report(campaign, "bao_cao_STP_da_sua.xlsx", "0,5", timedelta(hours=1))
    corrected = feedback.run(campaign, rt, NOW)
    assert (corrected["new_files"], corrected["rejected"], corrected["mail"]) == (1, [], {"sent": 1})
    [_, answer] = _mails(folder)[stp.email]
    assert answer["Subject"] == (
        f"[{campaign.title_vi}] Tệp “bao_cao_STP_da_sua.xlsx” đã tiếp nhận, thay cho tệp trước"
    )
    assert (
        "Tệp đã được tiếp nhận, không có lỗi, và thay cho tệp “bao_cao_STP.xlsx” gửi lúc "
        f"{arrived:%d/%m/%Y %H:%M} mà Sở Nội vụ đã báo cần sửa." in _body(answer)
    )
    assert feedback.run(campaign, rt, NOW)["mail"] == {}
    assert len(read_mails(folder)) == 5
    with session_scope(rt.store_url) as s:
        keys = [
            n.key for n in s.scalars(select(Notification).where(Notification.template == "file_feedback"))
        ]
    assert len(keys) == len(set(keys)) == 5


def _stp_nominees(campaign, name: str, rows: list[list[object]], ago: timedelta):
    return _drop(write_xlsx(inbox_dir(campaign.id) / name, "PHỤ LỤC IV", [("Đơn vị", "STP")], IV, rows), ago)


def test_a_nominee_accepted_later_never_receives_the_units_earlier_refusal(runtime, campaign, sink):
    controller, folder = sink
    rt = type(runtime)(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example")
    )
    prepare(campaign, rt)
    member = next(m for m in campaign.council.members if m.unit == "STP")
    stp = campaign.unit_by_code["STP"].email
    _stp_nominees(campaign, "PL4 STP.xlsx", [[1, member.name, "", "2", member.email]], timedelta(hours=3))
    assert feedback.run(campaign, rt, NOW)["mail"] == {"sent": 1}  # no position (C5): refused, to the unit
    _stp_nominees(
        campaign, "PL4 STP sửa.xlsx", [[1, member.name, "Chuyên viên", "2", member.email]], timedelta(hours=2)
    )
    assert feedback.run(campaign, rt, NOW)["mail"] == {"sent": 2}  # the correction: the unit and its nominee
    got = sorted((m["To"], m["Subject"]) for m in read_mails(folder))
    title = campaign.title_vi
    assert got == sorted(
        [
            (stp, f"[{title}] Tệp “PL4 STP.xlsx” bị từ chối: 1 lỗi cần sửa"),
            (stp, f"[{title}] Tệp “PL4 STP sửa.xlsx” đã tiếp nhận, thay cho tệp trước"),
            (member.email, f"[{title}] Tệp “PL4 STP sửa.xlsx” đã tiếp nhận, thay cho tệp trước"),
        ]
    )
    [refusal] = [m for m in read_mails(folder) if "bị từ chối" in m["Subject"]]
    assert f"\n1. [INT041] trang Biểu mẫu, ô C5, cột “Chức vụ”: Thiếu chức vụ. {DONE}\n" in _body(refusal)


def test_a_refusal_superseded_by_an_accepted_file_before_any_answer_is_not_answered(runtime, campaign, sink):
    controller, folder = sink
    rt = type(runtime)(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example")
    )
    prepare(campaign, rt)
    _stp_report(campaign, "bao_cao_STP.xlsx", "5", timedelta(hours=2))
    _stp_report(campaign, "bao_cao_STP_da_sua.xlsx", "0,5", timedelta(hours=1))
    result = feedback.run(campaign, rt, NOW)
    assert (result["rejected"], result["answered_files"], result["mail"]) == (["bao_cao_STP.xlsx"], 0, {})
    assert read_mails(folder) == []
