"""Provenance of received files: SHA-256, arrival time, duplicates, superseding versions, refused files; and files
from a hundred offices: half-copied, huge, oddly named, holding passwords, failing the reader — none stops the
others, only finished files are read, and a check reads only what is new or changed."""

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from par_index.intake import inbox
from par_index.intake.inbox import PARTIAL_GRACE, SETTLE, ingest
from par_index.paths import archive_dir, inbox_dir, quarantine_dir
from par_index.store import session_scope
from par_index.store.models import IntakeIssue, ReceivedFile, Score
from par_index_dev.writer import write_csv, write_xlsx
from sqlalchemy import select

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)

COLS = ["Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Tài liệu kiểm chứng"]


def _report(campaign, name: str, score: str, day: int):
    path = write_xlsx(
        inbox_dir(campaign.id) / name,
        "PHỤ LỤC II",
        [("Đơn vị", "Sở Tư pháp (STP)")],
        COLS,
        [["2.p1.1", "…", 0.75, score, "Số 1/KH-UBND"]],
    )
    when = datetime(2024, 1, day, 9, tzinfo=campaign.tz).timestamp()
    os.utime(path, (when, when))
    return path


def _arrived(path, when: datetime = AN_HOUR_AGO):
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _ingest(rt, campaign, phase=None, now=None):
    with session_scope(rt.store_url) as s:
        return ingest(s, campaign, phase, now)


def _issues(rt, name: str) -> list[tuple]:
    with session_scope(rt.store_url) as s:
        file = s.scalar(select(ReceivedFile).where(ReceivedFile.original_name == name))
        return [
            (i.code, i.severity) for i in s.scalars(select(IntakeIssue).where(IntakeIssue.file_id == file.id))
        ]


def _files(rt, campaign):
    with session_scope(rt.store_url) as s:
        return s.scalars(select(ReceivedFile).order_by(ReceivedFile.id)).all()


def _stp_score(rt):
    with session_scope(rt.store_url) as s:
        return [str(x) for x in s.scalars(select(Score.score).where(Score.unit_code == "STP"))]


def _prepare(rt, campaign):
    from par_index.service import prepare

    prepare(campaign, rt)


def test_same_file_twice_changes_nothing_and_a_copy_under_another_name_is_recorded_once(runtime, campaign):
    _prepare(runtime, campaign)
    path = _report(campaign, "bao_cao.xlsx", "0,5", 10)
    _arrived(
        _copy(path, inbox_dir(campaign.id) / "copy of bao_cao.xlsx"), datetime(2024, 1, 11, 9, tzinfo=UTC)
    )
    first = _ingest(runtime, campaign)
    second = _ingest(runtime, campaign)
    assert (len(first.results), second.results, second.pending) == (2, [], [])
    files = _files(runtime, campaign)
    assert [(f.original_name, f.status) for f in files] == [
        ("bao_cao.xlsx", "superseded"),
        ("copy of bao_cao.xlsx", "accepted"),
    ]
    assert files[0].sha256 == files[1].sha256 and len(files[0].sha256) == 64
    assert (archive_dir(campaign.id) / f"{files[0].sha256}.xlsx").read_bytes() == path.read_bytes()
    assert _stp_score(runtime) == ["0.50"]


def _copy(source, target):
    target.write_bytes(source.read_bytes())
    return target


def test_newer_version_supersedes_and_both_stay_in_history(runtime, campaign):
    _prepare(runtime, campaign)
    _report(campaign, "v1.xlsx", "0,25", 10)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    _report(campaign, "v2.xlsx", "0,75", 12)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    files = _files(runtime, campaign)
    assert [(f.original_name, f.status) for f in files] == [
        ("v1.xlsx", "superseded"),
        ("v2.xlsx", "accepted"),
    ]
    assert files[0].superseded_by == files[1].id
    assert _stp_score(runtime) == ["0.75"]


def test_an_older_version_arriving_later_does_not_win(runtime, campaign):
    _prepare(runtime, campaign)
    _report(campaign, "v2.xlsx", "0,75", 12)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    _report(campaign, "v1.xlsx", "0,25", 10)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    assert {f.original_name: f.status for f in _files(runtime, campaign)} == {
        "v2.xlsx": "accepted",
        "v1.xlsx": "superseded",
    }
    assert _stp_score(runtime) == ["0.75"]


def test_rejected_file_is_kept_with_its_errors_and_others_go_on(runtime, campaign):
    _prepare(runtime, campaign)
    _report(campaign, "good.xlsx", "0,5", 10)
    bad = _arrived(
        write_xlsx(
            inbox_dir(campaign.id) / "bad.xlsx",
            "PHỤ LỤC II",
            [("Đơn vị", "VPUBND")],
            COLS,
            [["3.p1.1", "…", 1.0, "5", "Số 2"]],
        )
    )
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    files = {f.original_name: f for f in _files(runtime, campaign)}
    assert files["bad.xlsx"].status == "rejected" and files["good.xlsx"].status == "accepted"
    assert (archive_dir(campaign.id) / files["bad.xlsx"].archived_as).read_bytes() == bad.read_bytes()
    with session_scope(runtime.store_url) as s:
        issues = s.scalars(select(IntakeIssue).where(IntakeIssue.file_id == files["bad.xlsx"].id)).all()
        assert [(i.code, i.row, i.column) for i in issues] == [("INT026", 5, "Điểm tự chấm")]
    assert _stp_score(runtime) == ["0.50"]


def test_file_with_passwords_is_moved_out_of_the_inbox_and_not_kept(runtime, campaign):
    _prepare(runtime, campaign)
    path = _arrived(
        write_xlsx(
            inbox_dir(campaign.id) / "pl3.xlsx",
            "PHỤ LỤC III",
            [],
            ["Mã đơn vị", "Tên đăng nhập", "Mật khẩu"],
            [["STP", "stp.cchc", "Secret#2024"]],
        )
    )
    content = path.read_bytes()
    now = datetime(2024, 1, 2, 8, 30, tzinfo=UTC)
    _ingest(runtime, campaign, now=now)
    [file] = _files(runtime, campaign)
    assert (file.status, file.archived_as) == ("rejected", "")
    assert not archive_dir(campaign.id).exists() or not any(archive_dir(campaign.id).iterdir())
    assert not path.exists()  # out of the inbox (and so of its backups)
    [moved] = quarantine_dir(campaign.id).iterdir()
    assert moved.name == f"{file.sha256[:16]}.xlsx" and moved.read_bytes() == content
    assert stat.S_IMODE(moved.stat().st_mode) == 0o600
    assert _issues(runtime, "pl3.xlsx") == [("INT010", "error"), ("INT072", "warning")]
    with session_scope(runtime.store_url) as s:
        told = s.scalar(select(IntakeIssue.message).where(IntakeIssue.code == "INT072"))
    assert told == (
        f"Tệp đã được chuyển khỏi hộp thư đến vào {moved} (chỉ quản trị viên đọc được, không lưu trữ, "
        "không sao lưu). Xóa tệp đó khi đã xử lý xong."
    )


def test_concurrent_phases_register_each_file_once(runtime, campaign):
    from concurrent.futures import ThreadPoolExecutor

    _prepare(runtime, campaign)
    (inbox_dir(campaign.id)).mkdir(parents=True, exist_ok=True)
    for n in range(5):
        garbage = inbox_dir(campaign.id) / f"unknown_{n}.xlsx"
        garbage.write_bytes(b"garbage %d" % n)
        _arrived(garbage)

    def run(phase):
        with session_scope(runtime.store_url) as s:
            return len(ingest(s, campaign, phase).results)

    with ThreadPoolExecutor(3) as pool:
        registered = list(pool.map(run, ["nominees", "survey", "self_scores"]))
    assert sum(registered) == 5
    assert len(_files(runtime, campaign)) == 5


def test_a_report_noted_by_another_phase_while_its_own_phase_reads_it_is_still_registered(
    runtime, campaign, monkeypatch
):
    """The self-score check reads an Appendix II while the nominee check, at the same moment, notes the same path as
    another phase's form and commits first: the self-score check's note then collides with it. It must look again
    and register the report, not take the collision for "already registered" (the phase would close without it).
    On PostgreSQL the two checks interleave exactly so; on SQLite each check holds the write lock from its first
    statement (BEGIN IMMEDIATE), so they run one after the other and the outcome must be the same."""
    import threading

    _prepare(runtime, campaign)
    _report(campaign, "STP_phu_luc_II.xlsx", "0,5", 10)
    interleave = runtime.store_url.startswith("postgresql")
    reading, noted = threading.Event(), threading.Event()
    real_read = inbox.read_sheets

    def read(path):
        if threading.current_thread().name == "self_scores" and interleave and not reading.is_set():
            reading.set()
            assert noted.wait(60), "the nominee check did not commit its note"
        return real_read(path)

    monkeypatch.setattr(inbox, "read_sheets", read)
    outcome = {}

    def check(phase):
        with session_scope(runtime.store_url) as s:
            outcome[phase] = [(r.name, r.status) for r in ingest(s, campaign, phase).results]
        if phase == "nominees":
            noted.set()

    scores = threading.Thread(target=check, args=("self_scores",), name="self_scores")
    scores.start()
    if interleave:
        assert reading.wait(60)
    check("nominees")
    scores.join(120)
    assert outcome == {"nominees": [], "self_scores": [("STP_phu_luc_II.xlsx", "accepted")]}
    assert _stp_score(runtime) == ["0.50"]
    assert [(f.original_name, f.form_kind) for f in _files(runtime, campaign)] == [
        ("STP_phu_luc_II.xlsx", "appendix_ii")
    ]


def _software_export(campaign) -> bytes:
    """A full export of MoHA's software as SNV downloads it: one row per assigned criterion."""
    rows = [
        [unit, code, 0.5, 1, "Đã nộp", "10/01/2024 09:00"]
        for code, unit in sorted(campaign.assignment_of.items())
    ]
    path = write_csv(
        inbox_dir(campaign.id) / ".export.tmp",
        [
            "Mã đơn vị",
            "Mã tiêu chí",
            "Điểm tự đánh giá",
            "Số tài liệu kiểm chứng",
            "Trạng thái",
            "Cập nhật lúc",
        ],
        rows,
    )
    content = path.read_bytes()
    path.unlink()
    return content


def _portal_rows(rt) -> int:
    with session_scope(rt.store_url) as s:
        return len(s.scalars(select(Score).where(Score.source == "portal")).all())


def test_a_half_copied_export_is_never_read_and_leaves_no_refusal_once_the_whole_file_arrives(
    runtime, campaign
):
    _prepare(runtime, campaign)
    full = _software_export(campaign)
    cut = full[
        : full.index(b"\r\n", len(full) // 2) + 2 + len("STTTT,2.")
    ]  # stopped inside a row, as copies stop
    path = inbox_dir(campaign.id) / "phan_mem.csv"
    path.write_bytes(cut)
    started = datetime(2024, 1, 16, 20, 0, tzinfo=UTC)
    _arrived(path, started)

    # still being written: not even opened
    assert _ingest(runtime, campaign, now=started + SETTLE / 2).pending == ["phan_mem.csv"]
    # cut off and young: a copy may resume — looked at again once the grace is over, nothing recorded meanwhile
    young = _ingest(runtime, campaign, now=started + timedelta(minutes=1))
    assert (young.results, young.pending, young.recheck_at) == ([], ["phan_mem.csv"], started + PARTIAL_GRACE)
    assert (_files(runtime, campaign), _portal_rows(runtime)) == ([], 0)
    # it stayed cut: refused whole (no row of it is used), with the reason
    stale = _ingest(runtime, campaign, now=started + PARTIAL_GRACE + timedelta(seconds=1))
    assert [(r.name, r.status) for r in stale.results] == [("phan_mem.csv", "rejected")]
    assert _issues(runtime, "phan_mem.csv") == [("INT071", "error")]
    assert _portal_rows(runtime) == 0
    # the whole file arrives at the same path: read, and the refusal of its half leaves the list of refusals
    path.write_bytes(full)
    _arrived(path, started + timedelta(minutes=15))
    whole = _ingest(runtime, campaign, now=started + timedelta(minutes=16))
    assert [(r.name, r.status) for r in whole.results] == [("phan_mem.csv", "accepted")]
    assert [(f.original_name, f.status, f.superseded_by) for f in _files(runtime, campaign)] == [
        ("phan_mem.csv", "superseded", whole.results[0].file_id),
        ("phan_mem.csv", "accepted", None),
    ]
    assert _portal_rows(runtime) == len(campaign.assignment_of)


def test_a_huge_file_is_refused_from_its_size_unread_and_the_report_beside_it_goes_on(
    runtime, campaign, monkeypatch
):
    _prepare(runtime, campaign)
    huge = inbox_dir(campaign.id) / "sao_luu.xlsx"
    huge.parent.mkdir(parents=True, exist_ok=True)
    with huge.open("wb") as handle:
        handle.truncate(30 * 1024**3)  # 30 GB, sparse
    _arrived(huge)
    _report(campaign, "bao_cao.xlsx", "0,5", 10)
    hashed = []
    real_hash = inbox.sha256_of
    monkeypatch.setattr(inbox, "sha256_of", lambda path: hashed.append(path.name) or real_hash(path))
    intake = _ingest(runtime, campaign)
    assert sorted((r.name, r.status) for r in intake.results) == [
        ("bao_cao.xlsx", "accepted"),
        ("sao_luu.xlsx", "rejected"),
    ]
    assert hashed == ["bao_cao.xlsx"]  # the huge one was never read, not even to hash it
    files = {f.original_name: f for f in _files(runtime, campaign)}
    assert (files["sao_luu.xlsx"].size_bytes, files["sao_luu.xlsx"].archived_as) == (30 * 1024**3, "")
    with session_scope(runtime.store_url) as s:
        message = s.scalar(select(IntakeIssue.message).where(IntakeIssue.file_id == files["sao_luu.xlsx"].id))
    assert message == "Tệp quá lớn (30.720 MB); giới hạn 20 MB. Tệp không được đọc hay lưu trữ."
    assert sorted(p.name for p in archive_dir(campaign.id).iterdir()) == [
        f"{files['bao_cao.xlsx'].sha256}.xlsx"
    ]
    assert _stp_score(runtime) == ["0.50"]


def test_unchanged_files_are_not_read_again(runtime, campaign, monkeypatch):
    _prepare(runtime, campaign)
    for day in (10, 11, 12):
        _report(campaign, f"v{day}.xlsx", "0,5", day)
    assert len(_ingest(runtime, campaign).results) == 3
    hashed = []
    monkeypatch.setattr(inbox, "sha256_of", lambda path: hashed.append(path.name))
    again = _ingest(runtime, campaign, "self_scores")
    assert (again.results, hashed) == ([], [])
    other_phase = _ingest(runtime, campaign, "nominees")
    assert (other_phase.results, hashed) == ([], [])


def test_any_name_is_read_and_shown_readably_with_its_sub_folder(runtime, campaign):
    _prepare(runtime, campaign)
    folder = inbox_dir(campaign.id)
    windows = os.fsdecode(b"STP/b\xe1o_c\xe1o.xlsx")  # what unzipping a Windows archive leaves: cp1258 bytes
    (folder / "STP").mkdir(parents=True)
    (folder / "STC").mkdir()
    for name in (windows, "STC/bao_cao.xlsx", "STP/bao_cao.xlsx", "STP/trống.xlsx", "STP/trống.csv"):
        (folder / name).write_bytes(
            b"" if "trống" in name else b"not a workbook: " + name.encode(errors="replace")
        )
        _arrived(folder / name)
    _report(campaign, "STP/PL2.xlsx", "0,5", 10)
    intake = _ingest(runtime, campaign)
    assert sorted((r.name, r.status) for r in intake.results) == [
        ("STC/bao_cao.xlsx", "rejected"),
        ("STP/PL2.xlsx", "accepted"),
        ("STP/bao_cao.xlsx", "rejected"),
        ("STP/báo_cáo.xlsx", "rejected"),
        ("STP/trống.csv", "rejected"),
        ("STP/trống.xlsx", "rejected"),
    ]
    assert _issues(runtime, "STP/báo_cáo.xlsx") == [("INT001", "error"), ("INT073", "warning")]
    assert _stp_score(runtime) == ["0.50"]


def test_a_file_that_breaks_the_reader_is_refused_and_the_others_go_on(runtime, campaign, monkeypatch):
    _prepare(runtime, campaign)
    _report(campaign, "good.xlsx", "0,5", 10)
    _report(campaign, "evil.xlsx", "0,25", 11)
    real_read = inbox.read_sheets

    def read(path):
        if path.name == "evil.xlsx":
            raise MemoryError
        return real_read(path)

    monkeypatch.setattr(inbox, "read_sheets", read)
    intake = _ingest(runtime, campaign)
    assert sorted((r.name, r.status) for r in intake.results) == [
        ("evil.xlsx", "rejected"),
        ("good.xlsx", "accepted"),
    ]
    with session_scope(runtime.store_url) as s:
        [message] = s.scalars(select(IntakeIssue.message).where(IntakeIssue.code == "INT070")).all()
    assert message == (
        "Không xử lý được tệp do lỗi ngoài dự kiến (MemoryError). Tệp chưa được ghi nhận; mở lại, lưu "
        "và gửi lại, hoặc báo Sở Nội vụ nếu lỗi lặp lại."
    )
    assert _stp_score(runtime) == ["0.50"]


@pytest.mark.parametrize("name", ["~$bao_cao.xlsx", ".~lock.bao_cao.xlsx#", ".DS_Store"])
def test_office_lock_files_and_hidden_files_are_not_files_a_unit_sent(runtime, campaign, name):
    _prepare(runtime, campaign)
    folder = inbox_dir(campaign.id)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"lock")
    _arrived(folder / name)
    assert _ingest(runtime, campaign).results == []


def test_the_coordinators_are_told_once_where_a_file_with_passwords_went(runtime, campaign, sink):
    from par_index.notify import SmtpSettings
    from par_index.runtime import Runtime
    from par_index.service import collect, send_notices
    from support.received_mail import read_mails

    controller, folder = sink
    rt = Runtime(runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc@hatinh.example"))
    _prepare(rt, campaign)
    _arrived(
        write_xlsx(
            inbox_dir(campaign.id) / "STP/pl3.xlsx",
            "PHỤ LỤC III",
            [],
            ["Mã đơn vị", "Tên đăng nhập", "Mật khẩu"],
            [["STP", "stp.cchc", "Secret#2024"]],
        )
    )
    collect(campaign, rt, "nominees")
    send_notices(campaign, rt)  # the next reminder run does not tell it again
    [file] = _files(rt, campaign)
    mails = [m for m in read_mails(folder) if "mật khẩu" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in mails) == sorted(c.email for c in campaign.contacts.coordinators)
    moved = quarantine_dir(campaign.id) / f"{file.sha256[:16]}.xlsx"
    assert {str(m["Subject"]) for m in mails} == {
        f"[{campaign.title_vi}] Tệp có mật khẩu đã được chuyển khỏi hộp thư đến: STP/pl3.xlsx"
    }
    assert f"\r\n{moved}\r\n" in mails[0].get_body(("plain",)).get_content()  # on a line of its own
    assert moved.exists() and not (inbox_dir(campaign.id) / "STP/pl3.xlsx").exists()
