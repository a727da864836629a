"""The README's first command, on real Airflow components (api-server, scheduler, dag-processor, triggerer) and a
real SMTP sink, isolated in temporary folders and free ports."""

import email
import io
import json
import re
import subprocess
import sys
import zipfile
from email import policy
from pathlib import Path

import pytest
from openpyxl import load_workbook
from par_index_dev import sample_data as sd

ROOT = Path(__file__).resolve().parents[1]
# the replayed 2023 calendar: escalations, overdue reminders, mails about the nominees (due 30/12/2023). Nine
# escalations: four for the nominees and the survey, and for the self-scores one to the head of each of the four
# units the strict judge finds incomplete (SKHDT, SNV, STC, VPUBND: sample_data's planted faults) and SNV's
# leader's digest
DEMO_LADDER = {"escalations": 9, "overdue": 18, "nominees, due 30/12/2023": 26}


@pytest.mark.slow
def test_demo_runs_the_sample_campaign_through_the_rest_api(tmp_path, campaign, stack_env):
    reason = "Bổ sung giải trình tiêu chí 5.p2.2"
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "stack.py"), "demo", "--reject-first", reason],
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(out.stdout[-4000:])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # the four deadline_* tasks are skipped: 2023's deadlines had passed, so no run of the deadlines DAG was made
    # (one made after its deadline would be marked Missed at once, whatever the units did)
    # and the rejection skipped the campaign run's delivery: the rebuild DAG made build 2, approved and delivered
    assert f"Lần chạy DAG {campaign.dag_id}: success; 11/16 tác vụ thành công, 5 bỏ qua" in out.stdout
    assert f"Lần chạy DAG {campaign.rebuild_dag_id}: success; 3/3 tác vụ thành công" in out.stdout
    assert (
        f"Deadlines panel of {campaign.dag_id}_deadlines: nominees no run, survey no run, self_scores no run, "
        "report no run"
    ) in out.stdout
    # the leader rejected the first report through the REST API, the coordinator rebuilt it, the leader approved
    # the login "admin" recorded with the person it stands for (the campaign file's approvers)
    approver = "Nguyễn Văn A, Giám đốc Sở Nội vụ"
    assert f"Bản lần 1: Bị từ chối; {approver} (admin), " in out.stdout and f"lý do: {reason}" in out.stdout
    assert f"Bản lần 2: Đã gửi UBND tỉnh; {approver} (admin), " in out.stdout
    assert f"[nominees] {sd.NOMINEES_NEVER_SENT}: Không nộp" in out.stdout
    assert sd.UNREADABLE_FILE in out.stdout and "[INT001]" in out.stdout
    assert "Điểm khác nhau: 2" in out.stdout
    mails = sorted((tmp_path / "out" / "mail").glob("*.eml"))
    subjects = [
        str(email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"]) for p in mails
    ]
    assert (
        f"Thư: đã gửi {len(mails)}, lỗi (sẽ gửi lại) 0, chờ gửi 0," in out.stdout
    )  # all reached the SMTP sink
    # read as each recipient's mail client would: no header, attachment, link or salutation problem in any
    sys.path.insert(0, str(ROOT / "tools"))
    from check_mail import problems_of

    insiders = {c.email for c in campaign.contacts.coordinators} | {campaign.contacts.snv_leader.email}
    assert {p.name: problems_of(p, insiders) for p in mails} == {p.name: [] for p in mails}
    # the coordinators' notices 3 days and 1 day before each of the 4 deadlines, sent by the replayed reminder
    # calendar; none "at the deadline": that one comes from a missed run of the deadlines DAG, and a replay has none
    assert sum(s.startswith("[Cảnh báo hạn — còn 3 ngày]") for s in subjects) == 4
    assert sum(s.startswith("[Cảnh báo hạn — còn 1 ngày]") for s in subjects) == 4
    assert sum(s.startswith("[Cảnh báo hạn") for s in subjects) == 8
    ladder = {
        "escalations": sum(s.startswith("[Báo cáo lãnh đạo]") for s in subjects),
        "overdue": sum(s.startswith("[Quá hạn]") for s in subjects),  # the replayed calendar
        "nominees, due 30/12/2023": sum(
            "Cử công chức đầu mối" in s and "hạn 30/12/2023" in s for s in subjects
        ),
    }
    print(f"{len(mails)} mails: {ladder}")
    archive = tmp_path / "out" / "reports" / campaign.id / "luu_tru" / "lan_02"
    assert load_workbook(archive / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx").sheetnames[0] == "Tổng hợp"
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in mails]
    [delivery] = [m for m in messages if str(m["Subject"]).startswith("Sở Nội vụ trình báo cáo")]
    assert delivery["To"].startswith(campaign.contacts.ppc_office.email)
    delivered = delivery.get_body(("plain",)).get_content()
    assert (
        f"phê duyệt: {approver}, " in delivered and "admin" not in delivered and "localhost" not in delivered
    )
    # what went to the PPC is, byte for byte, the approved version kept in the archive
    assert {a.get_filename(): a.get_content() for a in delivery.iter_attachments()} == {
        p.name: p.read_bytes()
        for p in (
            archive / f"bao_cao_tu_danh_gia_{campaign.id}.docx",
            archive / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx",
        )
    }
    assert sum(s.startswith("[Trình duyệt]") for s in subjects) == 2
    assert sum(s.startswith("[Báo cáo bị từ chối]") for s in subjects) == 1
    assert "Stopped every process the stack started." in out.stdout
    _no_secret_in_logs_mails_or_outputs(tmp_path, campaign, out.stdout + out.stderr)
    assert ladder == DEMO_LADDER


def _no_secret_in_logs_mails_or_outputs(tmp_path, campaign, printed: str) -> None:
    """The stack's JWT and API secrets, the admin password and the passwords someone sent in a refused Appendix III
    appear in no log, mail, report, archived file or printed line."""
    home, out = tmp_path / "airflow", tmp_path / "out"
    secrets = list(json.loads((home / "stack-secrets.json").read_text()).values())
    secrets += list(json.loads((home / "simple_auth_manager_passwords.json.generated").read_text()).values())
    [moved] = (out / "quarantine" / campaign.id).glob(
        "*.xlsx"
    )  # out of the inbox: owner-only, never backed up
    assert not (out / "inbox" / campaign.id / sd.PASSWORD_FILE).exists() and moved.stat().st_mode & 0o077 == 0
    refused = load_workbook(moved).active
    header = next(r for r in refused.iter_rows() if any(c.value == "Mật khẩu" for c in r))
    column = next(c.column for c in header if c.value == "Mật khẩu")
    secrets += [
        refused.cell(r, column).value
        for r in range(header[0].row + 1, refused.max_row + 1)
        if refused.cell(r, column).value
    ]
    # the JWT and API keys (64 bytes, URL-safe base64: 86 characters), the admin password the stack made (16 bytes:
    # 22 characters) and the 2 passwords of the refused Appendix III (sample_data: Hatinh@ and 4 digits)
    assert [len(s) for s in secrets] == [86, 86, 22, 11, 11]
    assert all(re.fullmatch(r"Hatinh@[0-9]{4}", s) for s in secrets[3:])
    scanned = [
        p
        for folder in (home / "logs", out / "mail", out / "reports", out / "archive")
        for p in folder.rglob("*")
        if p.is_file()
    ]
    leaks = [
        (p.name, s[:3] + "…")
        for p in scanned
        for blob in _contents(p.read_bytes())
        for s in secrets
        if s.encode() in blob
    ]
    leaks += [("stdout", s[:3] + "…") for s in secrets if s in printed]
    print(f"{len(secrets)} secrets looked for in {len(scanned)} logs, mails and outputs: {len(leaks)} found")
    assert scanned and leaks == []


def _contents(data: bytes):
    """The bytes a reader can get at: a mail's decoded parts, an Office file's unzipped members, or the file."""
    if data.startswith(b"PK") and zipfile.is_zipfile(io.BytesIO(data)):  # not the sample's broken "workbook"
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield archive.read(name)
    elif b"MIME-Version:" in data[:4000]:
        for part in email.message_from_bytes(data, policy=policy.default).walk():
            payload = part.get_payload(decode=True)
            if payload:
                yield from _contents(payload)
    else:
        yield data
