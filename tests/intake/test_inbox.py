"""Provenance of received files: SHA-256, arrival time, duplicates, superseding versions, refused files."""

import os
from datetime import datetime

from par_index.intake.inbox import ingest
from par_index.intake.writer import write_xlsx
from par_index.paths import archive_dir, inbox_dir
from par_index.store import session_scope
from par_index.store.models import IntakeIssue, ReceivedFile, Score
from sqlalchemy import select

COLS = ["Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Tài liệu kiểm chứng"]


def _report(campaign, name: str, score: str, day: int):
    path = write_xlsx(inbox_dir(campaign.id) / name, "PHỤ LỤC II", [("Đơn vị", "Sở Tư pháp (STP)")], COLS,
                      [["2.p1.1", "…", 0.75, score, "Số 1/KH-UBND"]])
    when = datetime(2024, 1, day, 9, tzinfo=campaign.tz).timestamp()
    os.utime(path, (when, when))
    return path


def _files(rt, campaign):
    with session_scope(rt.store_url) as s:
        return s.scalars(select(ReceivedFile).order_by(ReceivedFile.id)).all()


def _stp_score(rt):
    with session_scope(rt.store_url) as s:
        return [str(x) for x in s.scalars(select(Score.score).where(Score.unit_code == "STP"))]


def _prepare(rt, campaign):
    from par_index.service import prepare

    prepare(campaign, rt)


def test_same_file_twice_changes_nothing(runtime, campaign):
    _prepare(runtime, campaign)
    path = _report(campaign, "bao_cao.xlsx", "0,5", 10)
    (inbox_dir(campaign.id) / "copy of bao_cao.xlsx").write_bytes(path.read_bytes())
    with session_scope(runtime.store_url) as s:
        first = ingest(s, campaign)
    with session_scope(runtime.store_url) as s:
        second = ingest(s, campaign)
    assert len(first) == 1 and second == []
    files = _files(runtime, campaign)
    assert len(files) == 1 and len(files[0].sha256) == 64
    assert (archive_dir(campaign.id) / f"{files[0].sha256}.xlsx").read_bytes() == path.read_bytes()
    assert _stp_score(runtime) == ["0.50"]


def test_newer_version_supersedes_and_both_stay_in_history(runtime, campaign):
    _prepare(runtime, campaign)
    _report(campaign, "v1.xlsx", "0,25", 10)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    _report(campaign, "v2.xlsx", "0,75", 12)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    files = _files(runtime, campaign)
    assert [(f.original_name, f.status) for f in files] == [("v1.xlsx", "superseded"), ("v2.xlsx", "accepted")]
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
    assert {f.original_name: f.status for f in _files(runtime, campaign)} == {"v2.xlsx": "accepted",
                                                                             "v1.xlsx": "superseded"}
    assert _stp_score(runtime) == ["0.75"]


def test_rejected_file_is_kept_with_its_errors_and_others_go_on(runtime, campaign):
    _prepare(runtime, campaign)
    _report(campaign, "good.xlsx", "0,5", 10)
    bad = write_xlsx(inbox_dir(campaign.id) / "bad.xlsx", "PHỤ LỤC II", [("Đơn vị", "VPUBND")], COLS,
                     [["3.p1.1", "…", 1.0, "5", "Số 2"]])
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    files = {f.original_name: f for f in _files(runtime, campaign)}
    assert files["bad.xlsx"].status == "rejected" and files["good.xlsx"].status == "accepted"
    assert (archive_dir(campaign.id) / files["bad.xlsx"].archived_as).read_bytes() == bad.read_bytes()
    with session_scope(runtime.store_url) as s:
        issues = s.scalars(select(IntakeIssue).where(IntakeIssue.file_id == files["bad.xlsx"].id)).all()
        assert [(i.code, i.row, i.column) for i in issues] == [("INT026", 5, "Điểm tự chấm")]
    assert _stp_score(runtime) == ["0.50"]


def test_file_with_passwords_is_refused_and_not_kept(runtime, campaign):
    _prepare(runtime, campaign)
    write_xlsx(inbox_dir(campaign.id) / "pl3.xlsx", "PHỤ LỤC III", [], ["Mã đơn vị", "Tên đăng nhập", "Mật khẩu"],
               [["STP", "stp.cchc", "Secret#2024"]])
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
    [file] = _files(runtime, campaign)
    assert file.status == "rejected" and file.archived_as == ""
    assert not archive_dir(campaign.id).exists() or not any(archive_dir(campaign.id).iterdir())


def test_concurrent_phases_register_each_file_once(runtime, campaign):
    from concurrent.futures import ThreadPoolExecutor

    _prepare(runtime, campaign)
    (inbox_dir(campaign.id)).mkdir(parents=True, exist_ok=True)
    for n in range(5):
        (inbox_dir(campaign.id) / f"unknown_{n}.xlsx").write_bytes(b"garbage %d" % n)

    def run(phase):
        with session_scope(runtime.store_url) as s:
            return len(ingest(s, campaign, phase))

    with ThreadPoolExecutor(3) as pool:
        registered = list(pool.map(run, ["nominees", "survey", "self_scores"]))
    assert sum(registered) == 5
    assert len(_files(runtime, campaign)) == 5
