"""``make rehearse``: the real 2023 campaign lived through its whole calendar on a simulated clock, on real Airflow
components (api-server, scheduler, dag-processor, triggerer under libfaketime) and a real SMTP sink. Run once in
CI (marker ``rehearsal``: the Makefile leaves it out of the PostgreSQL pass)."""

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

LAST_LINE = re.compile(
    r"^rehearsal: alerts on time (\d+)/(\d+), failed tasks (\d+), mails sent twice (\d+), "
    r"report delivered (\S+) \(due (\S+)\)$"
)


def expected_alerts(campaign, leader_decides: datetime) -> int:
    """The alerts the coordinators must get: every notice before a deadline of the directive, and the one at
    each deadline some unit missed (the sample misses each of the three: planted faults), but none of the
    report's after its delivery (the leader approves on 19/01/2024, the day before its deadline)."""
    return sum(
        1
        for phase, _, moment in campaign.alert_moments()
        if not (phase == "report" and moment >= leader_decides)
    )


@pytest.mark.slow
@pytest.mark.rehearsal
def test_the_2023_campaign_lives_through_its_real_calendar(campaign, stack_env, tmp_path):
    from par_index_dev.sample_data import UNREADABLE_FILE, generate_inbox
    from rehearse import LEADER_DECIDES, calendar_events

    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "rehearse.py")],
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(out.stdout[-6000:])
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    match = LAST_LINE.match(last)
    assert match, out.stdout[-3000:] + out.stderr[-3000:]
    on_time, alerts, failed, twice, delivered, due = match.groups()
    assert (int(on_time), int(alerts)) == (
        expected_alerts(campaign, LEADER_DECIDES.replace(tzinfo=campaign.tz)),
    ) * 2
    assert (int(failed), int(twice)) == (0, 0)
    assert (
        due == "20/01/2024" and delivered == "19/01/2024"
    )  # the day the leader approved, before the deadline
    assert out.returncode == 0
    # the sensors waited in the triggerer and were woken by what happened: a first check at the start, one per
    # moment files arrived before their deadline, one at the deadline (never complete: planted faults), and one
    # more look at the broken workbook (refused once it had stayed broken for the grace a copy may need)
    events = calendar_events(campaign, generate_inbox(campaign, tmp_path / "planned"))
    line = out.stdout.split("để xem lại tệp chưa xong): ", 1)[1].splitlines()[0]
    checks = {
        task: tuple(map(int, n))
        for task, *n in re.findall(r"(collect_\w+) (\d+) \((\d+), (\d+), (\d+)\)", line)
    }
    expected = {}
    for phase in ("nominees", "survey", "self_scores"):
        before = [
            what for moment, what in events if campaign.starts_at < moment < campaign.deadline_at(phase)
        ]
        arrivals = sum("tệp " in what for what in before)
        rechecks = sum(f"tệp {UNREADABLE_FILE}" in what for what in before)
        expected[f"collect_{phase}"] = (1 + arrivals + 1 + rechecks, arrivals, 1, rechecks)
    assert checks == expected
