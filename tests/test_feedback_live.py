"""The sender told at once, end to end on real Airflow components (scheduler, triggerer, dag-processor,
api-server) and a real SMTP sink: files dropped in the inbox are answered through the inbox watcher's event and
the feedback DAG, each to its recipients once, within the target. Runs ``benchmarks/feedback.py`` (which waits on
each mail with a bounded poll) and checks what the sink received against the files it planted."""

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBJECT_OF = {
    "refused": "bị từ chối:",
    "warnings": "đã tiếp nhận, có",
    "corrected": "đã tiếp nhận, thay cho tệp trước",
}


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "par_feedback_benchmark", ROOT / "benchmarks" / "feedback.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_dropped_files_are_answered_through_the_watcher_once_each_within_two_minutes(campaign):
    bench = _benchmark()
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "feedback.py"), "--gap", "1", "--timeout", "400"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(out.stdout[-4000:])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [line] = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    planted = bench.batch(campaign)
    answered = {f["name"]: f for f in result["files"]}
    assert set(answered) == {p["name"] for p in planted} | {"PL4_STP_da_sua.xlsx"}
    assert all(f["seconds"] <= bench.TARGET_SECONDS for f in result["files"]), result["files"]
    mails = Counter((to, subject) for to, subject in result["mails"])
    assert set(mails.values()) == {1}  # nothing sent twice
    coordinators = [c.email for c in campaign.contacts.coordinators]
    for item in planted:
        unit_known = item["to"] not in coordinators
        nominees = (
            [row[4] for row in item["rows"]] if item["outcome"] == "warnings" else []
        )  # accepted: its people are the unit's nominees now
        expected = sorted([item["to"], *nominees] if unit_known else coordinators)
        got = sorted(to for to, subject in mails if f"“{item['name']}”" in subject)
        assert got == expected, item["name"]
        assert all(SUBJECT_OF[item["outcome"]] in s for _, s in mails if f"“{item['name']}”" in s)
    stp = campaign.unit_by_code["STP"].email
    corrected = sorted(to for to, s in mails if "“PL4_STP_da_sua.xlsx”" in s)
    member = next(m for m in campaign.council.members if m.unit == "STP")  # the corrected list's one nominee
    assert corrected == sorted([stp, member.email])
    assert all(SUBJECT_OF["corrected"] in s for _, s in mails if "“PL4_STP_da_sua.xlsx”" in s)
