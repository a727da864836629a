"""What was received, visible: the dashboard lists each unit's files with their problems as of a moment, the
phase-close mail lists the files still refused with their reasons, the sensor's log says what the store holds
whoever registered it, and the survey roster counts only from its arrival. Expectations come from the sample inbox
(par_index_dev.sample_data): its planted password file, unreadable file and nominee warnings."""

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from par_index.dashboard.data import build_overview
from par_index.dashboard.html import render_overview
from par_index.notify import SmtpSettings
from par_index.phases import evaluate
from par_index.runtime import Runtime
from par_index.service import collect, notify_phase_closed, prepare, received_log
from par_index.store import session_scope
from par_index_dev import sample_data as sd
from par_index_dev.sample_data import generate_inbox
from support.databases import fresh_database
from support.received_mail import read_mails

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CHECKED_AT = datetime(2024, 1, 18, 10, 0, tzinfo=HANOI)
# Before the nominees' deadline: the PL3 files (20/12, 21/12), the roster (21/12), the 23/12 progress snapshot,
# then the Appendix IV files of SKHDT (26/12), SNV and VPUBND (27/12 09:00) have arrived; STP's (28/12) has not.
MOMENT = datetime(2023, 12, 27, 12, 0, tzinfo=HANOI)
APPENDIX_IV = "Phụ lục IV — Danh sách công chức đầu mối"
APPENDIX_III = "Phụ lục III — Danh sách tài khoản"
PASSWORD_PROBLEMS = [
    (
        "error",
        "INT010",
        "trang Biểu mẫu, ô E3, cột “Mật khẩu”",
        "Tệp có cột mật khẩu: không bao giờ gửi mật khẩu. Tệp bị từ chối và không được lưu; xóa cột này rồi gửi lại.",
    ),
]
UNREADABLE_REASON = (
    "cả tệp: Tệp không mở được: không phải tệp Excel .xlsx hợp lệ (có thể bị hỏng hoặc đổi đuôi). Mở lại bằng "
    "Excel, lưu .xlsx và gửi lại."
)


@pytest.fixture(scope="module")
def received(tmp_path_factory, campaign):
    """The sample inbox read by the nominees' and the survey's collection (as their sensors would), once."""
    folder = tmp_path_factory.mktemp("received") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAR_DATA_DIR", str(folder))
        generate_inbox(campaign)
        rt = Runtime(fresh_database(folder, "store"))
        prepare(campaign, rt)
        first = collect(campaign, rt, "nominees", CHECKED_AT)
        collect(campaign, rt, "survey", CHECKED_AT)
        yield rt, folder, first


def test_the_dashboard_lists_each_units_files_with_their_problems_as_of_a_moment(received, campaign):
    rt, _, _ = received
    o = build_overview(campaign, rt.store_url, MOMENT)
    files = {
        g["unit_code"]: [
            (f["name"], f["form_vi"], f["status"], f["errors"], f["warnings"]) for f in g["files"]
        ]
        for g in o["files"]
    }
    assert files == {
        "VPUBND": [("PL4_VPUBND.xlsx", APPENDIX_IV, "accepted", 0, 2)],
        sd.NOMINEE_NOT_ON_COUNCIL: [("PL4_SNV.xlsx", APPENDIX_IV, "accepted", 0, 3)],
        "SKHDT": [("PL4_SKHDT.xlsx", APPENDIX_IV, "accepted", 0, 0)],
        None: [  # SNV's survey files and the account lists name no sending unit in their header
            ("PL3_tai_khoan.xlsx", APPENDIX_III, "accepted", 0, 0),
            (sd.PASSWORD_FILE, APPENDIX_III, "rejected", 1, 1),
            ("khao_sat_danh_sach.xlsx", "Danh sách người trả lời phiếu khảo sát", "accepted", 0, 0),
            # replaced by the 27/12 evening snapshot, which had not arrived at noon: shown as it stood then
            ("khao_sat_tien_do_23-12.csv", "Tiến độ trả lời phiếu khảo sát", "accepted", 0, 0),
        ],
    }
    password = next(f for g in o["files"] for f in g["files"] if f["name"] == sd.PASSWORD_FILE)
    errors = [(p["severity"], p["code"], p["where_vi"], p["message"]) for p in password["problems"]]
    assert errors[:1] == PASSWORD_PROBLEMS and [p["code"] for p in password["problems"]] == [
        "INT010",
        "INT072",
    ]
    assert (password["arrived_vi"], password["unit_name"]) == ("21/12/2023 09:00", "Chưa rõ đơn vị gửi")
    vpubnd = o["files"][0]["files"][0]
    assert [(p["where_vi"], p["message"]) for p in vpubnd["problems"]] == [
        (
            "trang Biểu mẫu, ô B8, cột “Họ và tên”",
            "Nguyễn Thị Trung không có trong danh sách Hội đồng thẩm định (Quyết định số 994/QĐ-UBND ngày "
            "28/4/2023 của UBND tỉnh).",
        ),
        (
            "trang Biểu mẫu, ô B9, cột “Họ và tên”",
            "Hồ Thị Trung không có trong danh sách Hội đồng thẩm định (Quyết định số 994/QĐ-UBND ngày "
            "28/4/2023 của UBND tỉnh).",
        ),
    ]
    cells = {u["code"]: u["files"] for u in o["units"]}
    assert cells["SNV"] == {
        "received": 1,
        "refused": 0,
        "status": "ok",
        "text_vi": "1 tệp",
        "anchor": "tep-SNV",
    }
    assert cells["STP"] == {  # its file arrives on 28/12
        "received": 0,
        "refused": 0,
        "status": "none",
        "text_vi": "Chưa nhận tệp nào",
        "anchor": None,
    }
    page = render_overview(o, campaigns=[], base="/par", ui_base="/", nonce="n")
    assert '<a href="#tep-SNV">1 tệp</a>' in page and '<section class="group" id="tep-khac">' in page
    assert "Tệp đã nhận theo đơn vị (7 tệp, 1 bị từ chối)" in page
    # at the check, STP's file has come; the 23/12 snapshot is superseded and the unreadable file refused
    later = {g["unit_code"]: g for g in build_overview(campaign, rt.store_url, CHECKED_AT)["files"]}
    assert [(f["name"], f["status"]) for f in later["STP"]["files"]] == [("PL4_STP.xlsx", "accepted")]
    assert [(f["name"], f["status"]) for f in later[None]["files"] if f["status"] != "accepted"] == [
        (sd.PASSWORD_FILE, "rejected"),
        ("khao_sat_tien_do_23-12.csv", "superseded"),
        ("khao_sat_tien_do_27-12.csv", "superseded"),
        ("khao_sat_tien_do_29-12.csv", "superseded"),
        ("khao_sat_tien_do_31-12.csv", "superseded"),
        (sd.UNREADABLE_FILE, "rejected"),
    ]


def test_the_log_says_what_the_store_holds_even_when_the_check_read_nothing(received, campaign):
    rt, _, first = received
    assert (first["new_files"], first["rejected"]) == (9, [sd.PASSWORD_FILE, sd.UNREADABLE_FILE])
    again = collect(campaign, rt, "nominees", CHECKED_AT)
    assert (again["new_files"], again["rejected"]) == (0, [])  # this check read nothing new...
    assert received_log(campaign, rt, "nominees") == [  # ...but the store holds the refusals
        "Kho dữ liệu, Cử công chức đầu mối (Phụ lục IV): 9 tệp: 7 đã nhận, 2 bị từ chối.",
        f"Bị từ chối: {sd.PASSWORD_FILE} — Chưa rõ đơn vị gửi, nhận lúc 21/12/2023 09:00: "
        f"{PASSWORD_PROBLEMS[0][2]}: {PASSWORD_PROBLEMS[0][3]}",
        f"Bị từ chối: {sd.UNREADABLE_FILE} — Chưa rõ đơn vị gửi, nhận lúc 12/01/2024 09:00: {UNREADABLE_REASON}",
    ]


def test_the_phase_close_mail_lists_the_files_still_refused(received, campaign, sink):
    rt, _, _ = received
    controller, folder = sink
    rt = replace(rt, smtp=SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example"))
    notify_phase_closed(campaign, rt, "nominees", CHECKED_AT)
    bodies = [m.get_body(("plain",)).get_content().replace("\r\n", "\n") for m in read_mails(folder)]
    closed = [
        b for b in bodies if "đã khép lại" in b
    ]  # the password file's own mail, queued earlier, goes too
    assert len(closed) == len(campaign.contacts.coordinators)
    section = closed[0][closed[0].index("Tệp bị từ chối, chưa có bản thay thế (2)") :]
    assert section.splitlines()[:5] == [
        "Tệp bị từ chối, chưa có bản thay thế (2); đơn vị cần gửi lại bản đã sửa:",
        f"- {sd.PASSWORD_FILE} — Chưa rõ đơn vị gửi, {APPENDIX_III}, nhận lúc 21/12/2023 09:00:",
        f"  + {PASSWORD_PROBLEMS[0][2]}: {PASSWORD_PROBLEMS[0][3]}",
        f"- {sd.UNREADABLE_FILE} — Chưa rõ đơn vị gửi, Không nhận ra biểu mẫu, nhận lúc 12/01/2024 09:00:",
        f"  + {UNREADABLE_REASON}",
    ]
    assert "PL4_SNV.xlsx" not in section  # accepted with warnings: not refused


def test_the_survey_roster_counts_from_its_arrival(received, campaign):
    rt, folder, _ = received
    roster = load_workbook(folder / "inbox" / campaign.id / "khao_sat_danh_sach.xlsx").active
    expected: dict[str, int] = {}
    for row in roster.iter_rows(
        values_only=True
    ):  # STT, Họ và tên, Chức vụ, Mã đơn vị, Email, Nhóm đối tượng
        if isinstance(row[0], int):
            expected[row[3]] = expected.get(row[3], 0) + 1
    before = datetime(2023, 12, 21, 8, 0, tzinfo=HANOI)  # the roster arrives at 09:00
    after = datetime(2023, 12, 21, 10, 0, tzinfo=HANOI)
    with session_scope(rt.store_url) as s:
        early = evaluate(s, campaign, "survey", before)
        late = evaluate(s, campaign, "survey", after)
    assert {(u.reason, u.detail, u.expected) for u in early.units.values()} == {
        ("pending", "Chưa có trong danh sách người trả lời khảo sát.", 0)
    }
    assert {code: u.expected for code, u in late.units.items() if u.expected} == expected
