"""Deadlines that fall during the test, on real Airflow components (scheduler, triggerer, dag-processor,
api-server) with a temporary SQLite home: the deadline alerts, sensors and the reminder DAG act as each deadline
passes, and their mail arrives at a real SMTP sink. This is ``make demo-live`` with a three-minute calendar."""

import email
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from par_index import sample_data as sd

ROOT = Path(__file__).resolve().parents[1]



@pytest.mark.slow
def test_alerts_and_reminders_arrive_as_live_deadlines_pass(tmp_path, stack_env):
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "stack.py"), "demo", "--live", "--window", "3"],
                         env=stack_env, capture_output=True, text=True, timeout=1200)
    print(out.stdout[-5000:])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted((tmp_path / "out" / "mail").glob("*.eml"))]
    subjects = [str(m["Subject"]) for m in mails]
    alerts = [s for s in subjects if s.startswith("[Cảnh báo hạn")]
    # the alert at the nominees' deadline names the unit that never sent its list
    due = [m for m in mails if str(m["Subject"]).startswith("[Cảnh báo hạn — đã đến hạn] Cử công chức")]
    assert due, alerts
    assert sd.NOMINEES_NEVER_SENT in due[0].get_body(("plain",)).get_content()
    assert any(s.startswith("[Cảnh báo hạn — còn 1 phút]") for s in alerts)
    reminders = [s for s in subjects if s.startswith(("[Nhắc việc]", "[Hạn cuối hôm nay]", "[Quá hạn]"))]
    assert reminders  # the reminder DAG, run by the scheduler every minute
    assert any(s.startswith("[Báo cáo lãnh đạo]") for s in subjects)  # escalation after the overdue step
    assert "đến hộp thư" in out.stdout  # files were delivered while the sensors waited
    assert "up_for_reschedule" in out.stdout
