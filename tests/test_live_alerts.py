"""Deadlines that fall during the test, on real Airflow components (scheduler, triggerer, dag-processor,
api-server) with a temporary SQLite home: the deadlines DAG's runs, the sensors and the reminder DAG act as each
deadline passes, and their mail arrives at a real SMTP sink. This is ``make demo-live`` with a three-minute
calendar."""

import email
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from par_index_dev import sample_data as sd

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_alerts_and_reminders_arrive_as_live_deadlines_pass(tmp_path, stack_env):
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "stack.py"), "demo", "--live", "--window", "3"],
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    print(out.stdout[-5000:])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((tmp_path / "out" / "mail").glob("*.eml"))
    ]
    subjects = [str(m["Subject"]) for m in mails]
    alerts = [s for s in subjects if s.startswith("[Cảnh báo hạn")]
    # the Deadlines panel of the deadlines DAG: one run per directive deadline, the nominees' missed (a unit never
    # sent its list); a deadline is Missed exactly when its "đã đến hạn" mail went out, Met otherwise
    [line] = [
        x for x in out.stdout.splitlines() if "Deadlines panel of par_ha_tinh_live_2023_deadlines: " in x
    ]
    panel = dict(item.split(" ") for item in line.split(": ", 1)[1].split(", "))
    assert set(panel) == {"nominees", "survey", "self_scores", "report"}
    assert panel["nominees"] == "Missed" and set(panel.values()) <= {"Missed", "Met"}, panel
    titles = {
        "nominees": "Cử công chức",
        "survey": "Trả lời phiếu khảo sát",
        "self_scores": "Tự chấm điểm",
        "report": "Sở Nội vụ trình",
    }
    for phase, title in titles.items():
        mailed = [s for s in alerts if s.startswith(f"[Cảnh báo hạn — đã đến hạn] {title}")]
        assert len(mailed) == (panel[phase] == "Missed"), (phase, panel, alerts)
    # the alert at the nominees' deadline names the unit that never sent its list
    due = [m for m in mails if str(m["Subject"]).startswith("[Cảnh báo hạn — đã đến hạn] Cử công chức")]
    assert sd.NOMINEES_NEVER_SENT in due[0].get_body(("plain",)).get_content()
    # the coordinators' notice a minute before a deadline, sent by the reminder DAG's run of that minute
    assert any(s.startswith("[Cảnh báo hạn — còn 1 phút]") for s in alerts)
    reminders = [s for s in subjects if s.startswith(("[Nhắc việc]", "[Hạn cuối hôm nay]", "[Quá hạn]"))]
    assert reminders  # the reminder DAG, run by the scheduler every minute
    assert any(s.startswith("[Báo cáo lãnh đạo]") for s in subjects)  # escalation after the overdue step
    assert "đến hộp thư" in out.stdout  # files were delivered while the sensors waited
    assert "deferred" in out.stdout  # the sensors waited in the triggerer between checks
