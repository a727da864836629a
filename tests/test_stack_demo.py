"""The README's first command, on real Airflow components (api-server, scheduler, dag-processor, triggerer) and a
real SMTP sink, isolated in temporary folders and free ports."""

import email
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from openpyxl import load_workbook
from par_index import sample_data as sd

ROOT = Path(__file__).resolve().parents[1]



@pytest.mark.slow
def test_demo_runs_the_sample_campaign_through_the_rest_api(tmp_path, campaign, stack_env):
    reason = "Bổ sung giải trình tiêu chí 5.p2.2"
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "stack.py"), "demo", "--reject-first", reason],
                         env=stack_env, capture_output=True, text=True, timeout=900)
    print(out.stdout[-4000:])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert f"Lần chạy DAG {campaign.dag_id}: success; 11/11 tác vụ thành công" in out.stdout
    # the leader rejected the first report through the REST API, the coordinator rebuilt it, the leader approved
    assert "Bản lần 1: Bị từ chối; admin, " in out.stdout and f"lý do: {reason}" in out.stdout
    assert "Bản lần 2: Đã gửi UBND tỉnh; admin, " in out.stdout
    assert f"[nominees] {sd.NOMINEES_NEVER_SENT}: Không nộp" in out.stdout
    assert sd.UNREADABLE_FILE in out.stdout and "[INT001]" in out.stdout
    assert "Điểm khác nhau: 2" in out.stdout
    mails = sorted((tmp_path / "out" / "mail").glob("*.eml"))
    subjects = [str(email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"]) for p in mails]
    assert f"Thư: đã gửi {len(mails)}, lỗi 0" in out.stdout  # every mail in the ledger reached the SMTP sink
    # the deadline alerts fired by the scheduler and the triggerer: 4 deadlines × (3 days, 1 day, at the deadline)
    assert sum(s.startswith("[Cảnh báo hạn") for s in subjects) == 12
    assert sum(s.startswith("[Báo cáo lãnh đạo]") for s in subjects) > 0  # escalations
    assert sum(s.startswith("[Quá hạn]") for s in subjects) > 0  # overdue reminders (the replayed calendar)
    assert sum("Cử công chức đầu mối" in s and "hạn 30/12/2023" in s for s in subjects) > 0
    archive = tmp_path / "out" / "reports" / campaign.id / "luu_tru" / "lan_02"
    assert load_workbook(archive / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx").sheetnames[0] == "Tổng hợp"
    assert (archive / f"bao_cao_tu_danh_gia_{campaign.id}.docx").stat().st_size > 10_000
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in mails]
    [delivery] = [m for m in messages if str(m["Subject"]).startswith("Sở Nội vụ trình báo cáo")]
    assert delivery["To"].startswith(campaign.contacts.ppc_office.email)
    assert sorted(a.get_filename() for a in delivery.iter_attachments()) == [
        f"bao_cao_tu_danh_gia_{campaign.id}.docx", f"bao_cao_tu_danh_gia_{campaign.id}.xlsx"]
    assert sum(s.startswith("[Trình duyệt]") for s in subjects) == 2
    assert sum(s.startswith("[Báo cáo bị từ chối]") for s in subjects) == 1
    assert "Stopped every process the stack started." in out.stdout
