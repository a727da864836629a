"""``make rehearse``: the real 2023 campaign file lived through its whole calendar on a simulated clock.

The embedded stack (api-server, scheduler, dag-processor, triggerer, the SMTP sink; SQLite) runs under
libfaketime (Debian's ``faketime``): every process reads one offset from a file (``FAKETIME_TIMESTAMP_FILE``,
re-read on every time call with ``FAKETIME_NO_CACHE=1``). This driver runs on the real clock and moves the offset,
always forward, from one due event to the next: a reminder cron tick, a deadline or coordinator alert, a unit's
file arriving, the leader's decision. It jumps only while no task is running, and waits for the stack to react
before the next jump. Nothing is compressed: the campaign file, its DAGs, poke intervals, timeouts and ladders are
the real ones; only the idle time between events is skipped (a check between two events would find nothing new).

The simulator drops the sample units' files (``par_index_dev.sample_data``) at their planned moments: on time, late,
never, refused. The leader approves the report through the REST API on 19/01/2024. The figures printed at the end
come from the run's own records (Airflow's metadata DB, the campaign store's ledger, the mails the sink saved).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


stack = None  # tools/stack.py, imported by main() once the rehearsal's own folders and ports are set

SIMULATION_START = datetime(2023, 12, 19, 9, 0)  # local time: the day before the directive
SIMULATION_END = datetime(2024, 1, 22, 18, 0)
LEADER_DECIDES = datetime(2024, 1, 19, 9, 30)  # SNV's leader approves the report (local time)
AFTER_EVENT = timedelta(seconds=20)  # each jump lands this long after its event
ON_TIME = timedelta(minutes=15)  # an alert is on time when mailed within this after its moment, never before
QUIET_CHECKS = 3  # consecutive quiet looks, one second apart, before the next jump
# a waiting phase sensor's trigger lists the inbox every 2 s and wakes it once a new file's listing is unchanged for
# one step (after a drop, the first look waits that long: two listings and a margin), or within one listing once
# its moment (deadline, second look at an unfinished file) has passed
WAKE_WAIT = 5
WAKES = ("inbox", "deadline", "recheck")  # what woke a phase sensor (par_index.airflow.triggers.InboxTrigger)
ACTIVE = ("scheduled", "queued", "running", "restarting")


def libfaketime() -> str:
    """The path of Debian's libfaketime."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise SystemExit(
            "libfaketime is missing: apt-get install faketime (tools/debian_packages.sh installs it)"
        )
    return found[0]


class SimulatedClock:
    """The offset every stack process adds to the real clock, kept in one file; it only ever moves forward."""

    def __init__(self, path: Path, start: datetime):
        self.path = path
        self.offset = 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write(start.timestamp() - time.time())

    def _write(self, offset: float) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{offset:+.0f}\n")
        tmp.replace(self.path)  # atomic: a process never reads half an offset
        self.offset = round(offset)

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, UTC)

    def jump_to(self, moment: datetime) -> None:
        if moment > self.now():
            self._write(moment.timestamp() - time.time())

    def env(self) -> dict[str, str]:
        """Every stack process reads this clock. A jump makes each component's last heartbeat look hours old
        until its next beat, and Airflow would take that for a dead scheduler or triggerer (resetting "orphaned"
        tasks, moving triggers). No task runs during a jump (the driver waits for quiet), so those liveness
        checks have nothing to protect here: they are pushed out of the simulated calendar's reach."""
        never = str(10 * 365 * 86400)
        return {
            "LD_PRELOAD": libfaketime(),
            "FAKETIME_TIMESTAMP_FILE": str(self.path),
            "FAKETIME_NO_CACHE": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": never,
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": never,
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": never,
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": never,
            "AIRFLOW__TRIGGERER__RUNNER_HEALTH_CHECK_THRESHOLD": "0",
            "AIRFLOW__DAG_PROCESSOR__HEALTH_CHECK_THRESHOLD": never,
        }


class MetadataDb:
    """Read-only looks at Airflow's SQLite metadata DB (what the scheduler is doing, and the run's records)."""

    def __init__(self, path: Path):
        self.path = path

    def query(self, sql: str, *args) -> list[tuple]:
        for _ in range(30):
            try:
                with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10) as conn:
                    return conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:  # locked while the scheduler writes
                if "locked" not in str(exc) and "no such table" not in str(exc):
                    raise
                time.sleep(0.5)
        raise TimeoutError(f"metadata DB stayed locked: {sql}")

    def busy(self, now: datetime) -> list[str]:
        """What is still to happen at ``now``: task instances in flight, runs queued, retries due, deadlines passed
        and not yet handled. (A sensor waiting in the triggerer is *deferred*: quiet until its trigger fires.)"""
        moment = now.strftime("%Y-%m-%d %H:%M:%S")
        rows = self.query(
            f"SELECT dag_id || '.' || task_id || ':' || state FROM task_instance WHERE state IN "
            f"({','.join('?' * len(ACTIVE))})",
            *ACTIVE,
        )
        rows += self.query("SELECT dag_id || ':queued run' FROM dag_run WHERE state = 'queued'")
        rows += self.query(
            "SELECT dag_id || '.' || task_id || ':retry due' FROM task_instance WHERE state = "
            "'up_for_retry' AND datetime(end_date, '+' || 300 || ' seconds') <= ?",
            moment,
        )
        rows += self.query(
            "SELECT 'deadline ' || id || ':unhandled' FROM deadline WHERE missed = 0 AND deadline_time <= ?",
            moment,
        )
        rows += self.query(
            "SELECT 'callback ' || c.id || ':' || c.state FROM callback c JOIN deadline d ON "
            "d.callback_id = c.id WHERE d.missed = 1 AND c.state IN ('pending', 'queued', 'running')"
        )
        return [r[0] for r in rows]


def calendar_events(campaign, staging: Path) -> list[tuple[datetime, str]]:
    """Every moment the stack must live through, merged when equal: the campaign's start, each reminder cron
    tick, each coordinator alert, each deadline, each file's planned arrival (its mtime in ``staging``), the
    leader's decision and the end of the simulation."""
    from croniter import croniter

    tz = campaign.tz
    found: list[tuple[datetime, str]] = [(campaign.starts_at, "chiến dịch bắt đầu")]
    ticks = croniter(campaign.reminders.schedule, campaign.starts_at.astimezone(tz))
    while (tick := ticks.get_next(datetime)) <= min(campaign.ends_at, SIMULATION_END.replace(tzinfo=tz)):
        found.append((tick, "nhắc việc (cron)"))
    found += [
        (moment, f"cảnh báo {phase} {before or 'đến hạn'}")
        for phase, before, moment in campaign.alert_moments()
    ]
    found += [(campaign.deadline_at(phase), f"hạn {phase}") for phase in campaign.deadlines]
    for path in staging.rglob("*"):
        if path.is_file():
            found.append((datetime.fromtimestamp(path.stat().st_mtime, UTC), f"tệp {path.name}"))
    found.append((LEADER_DECIDES.replace(tzinfo=tz), "lãnh đạo Sở quyết định"))
    found.append((SIMULATION_END.replace(tzinfo=tz), "kết thúc"))
    merged: dict[datetime, list[str]] = {}
    for moment, what in sorted(found, key=lambda item: item[0]):
        merged.setdefault(moment.astimezone(UTC), []).append(what)
    return [(moment, "; ".join(whats)) for moment, whats in merged.items()]


class Rehearsal:
    def __init__(self, campaign_file: Path):
        stack._library()
        from par_index.campaign import load_campaign

        self.campaign = load_campaign(campaign_file)
        self.tz = self.campaign.tz
        self.clock = SimulatedClock(stack.HOME / "clock" / "offset", self.local(SIMULATION_START))
        self.db = MetadataDb(stack.HOME / "airflow.db")
        self.api: stack.Api | None = None
        self.jumps = 0
        self.decided = False

    def local(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.tz)

    def deliver_files(self, staging: Path, inbox: Path, until: datetime) -> list[str]:
        """Copy the files due by ``until`` into the inbox, keeping their planned arrival time (mtime)."""
        dropped = []
        for path in sorted(staging.rglob("*")):
            if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) <= until:
                target = inbox / path.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                path.unlink()
                dropped.append(path.name)
        return dropped

    def task_processes(self) -> list[str]:
        """Task processes still alive: children of the scheduler's executor workers. A task reports its state
        before its process has finished; jumping then would make the executor's late report look like a task
        that ended behind the scheduler's back."""
        import json

        import psutil

        scheduler = json.loads(stack.PIDS.read_text())["scheduler"]
        try:
            workers = psutil.Process(scheduler).children(recursive=False)
        except psutil.NoSuchProcess:
            return []
        return [
            f"task process {child.pid}" for worker in workers for child in worker.children(recursive=True)
        ]

    def settle(self, timeout: float = 240, first_look: float = 2) -> None:
        """Wait until the stack has reacted to the clock: nothing in flight or due, several looks in a row."""
        deadline, quiet = time.time() + timeout, 0
        time.sleep(first_look)  # one scheduler loop at least; a trigger's wake after a drop or a deadline
        last: list[str] = []
        while time.time() < deadline:
            last = self.db.busy(self.clock.now()) + self.task_processes()
            quiet = 0 if last else quiet + 1
            if quiet >= QUIET_CHECKS:
                return
            time.sleep(1)
        raise TimeoutError(f"the stack did not settle within {timeout:.0f} s: {last}")

    def decide(self) -> None:
        """SNV's leader approves the report awaiting a decision, as on the Required actions page."""
        dag_id = self.campaign.dag_id
        runs = self.api.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
        for run in runs:
            tis = self.api.call("GET", f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")[
                "task_instances"
            ]
            for ti in tis:
                if ti["task_id"] == "approve_report" and ti["state"] in ("awaiting_input", "deferred"):
                    self.api.call(
                        "PATCH",
                        f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances/approve_report"
                        "/-1/hitlDetails",
                        json={"chosen_options": ["Phê duyệt"], "params_input": {"reason": ""}},
                    )
                    self.decided = True
                    stack.say("  Lãnh đạo Sở: Phê duyệt (qua REST API)")

    # ---- the run -----------------------------------------------------------------------------------------
    def run(self) -> int:
        from par_index_dev.sample_data import generate_inbox

        started = time.time()
        stack._fresh()
        staging = generate_inbox(self.campaign, stack.HOME / "staging")
        inbox = stack.OUT / "inbox" / self.campaign.id
        inbox.mkdir(parents=True, exist_ok=True)
        events = calendar_events(self.campaign, staging)
        stack.say(
            f"Rehearsal of {self.campaign.dag_id}: {len(events)} events from "
            f"{self._vn(self.clock.now())} to {self._vn(events[-1][0])}"
        )
        env = stack.stack_env() | self.clock.env()
        try:
            stack.start(env)
            self.api = stack.Api()
            for dag_id in (self.campaign.dag_id, f"{self.campaign.dag_id}_reminders"):
                self.api.wait_for_dag(dag_id)
                self.api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
            self.settle()
            for moment, what in events:
                dropped = self.deliver_files(staging, inbox, moment)
                self.clock.jump_to(moment + AFTER_EVENT)
                self.jumps += 1
                stack.say(
                    f"⏩ {self._vn(self.clock.now())} — {what}"
                    + (f" ({len(dropped)} tệp vào hộp thư)" if dropped else "")
                )
                self.settle(first_look=WAKE_WAIT if dropped else 2)
                if moment >= self.local(LEADER_DECIDES) and not self.decided:
                    self.api = stack.Api()  # tokens expire in simulated time: log in again
                    self.decide()
                    self.settle()
            figures = self.figures()
        finally:
            stack.stop()
        self.report(figures, time.time() - started)
        ok = (
            figures["alerts_on_time"] == figures["alerts_expected"]
            and not figures["failed"]
            and not figures["twice"]
            and figures["delivered"]
            and figures["delivered"] <= figures["due"]
        )
        return 0 if ok else 1

    # ---- figures from the run's own records --------------------------------------------------------------
    def figures(self) -> dict:
        from par_index.runtime import Runtime
        from par_index.store import session_scope
        from par_index.store.models import LateUnit, Notification, ReportBuild
        from sqlalchemy import select

        c = self.campaign
        store = stack.STORE_URL or Runtime.local().store_url
        with session_scope(store) as s:
            ledger = s.scalars(select(Notification).where(Notification.campaign_id == c.id)).all()
            late_phases = set(s.scalars(select(LateUnit.phase).where(LateUnit.campaign_id == c.id)))
            delivered = s.scalar(
                select(ReportBuild.delivered_at)
                .where(ReportBuild.campaign_id == c.id, ReportBuild.delivered_at.is_not(None))
                .order_by(ReportBuild.delivered_at)
                .limit(1)
            )
            rows = [(n.phase, n.rung, n.message_id) for n in ledger if n.outcome == "sent"]
        import email
        from email import policy

        mails = sorted((stack.OUT / "mail").glob("*.eml"))
        received: dict[str, list[datetime]] = {}  # Message-ID → the Date of each copy the SMTP sink got
        for path in mails:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            received.setdefault(str(message["Message-ID"]), []).append(message["Date"].datetime)
        alerts = []
        for phase, before, moment in c.alert_moments():
            # an alert is due while its obligation is open: the report's alerts until the report is delivered;
            # "đã đến hạn" only when someone had not complied by the deadline
            open_until = delivered if phase == "report" and delivered else None
            if open_until and open_until <= moment:
                continue
            if before is None and phase != "report" and phase not in late_phases:
                continue
            sent = sorted(
                at
                for p, rung, message_id in rows
                if p == phase and rung == f"alert-{before or 'due'}"
                for at in received.get(message_id, [])
            )  # the Date of the mail as received
            first = sent[0] if sent else None
            alerts.append(
                {
                    "phase": phase,
                    "alert": before or "due",
                    "moment": moment,
                    "sent": first,
                    "on_time": first is not None and moment <= first <= moment + ON_TIME,
                }
            )
        failed = self.db.query(
            "SELECT dag_id || '.' || task_id FROM task_instance WHERE state IN ('failed', 'upstream_failed')"
        )
        checks = self.sensor_checks()
        reminder_runs = Counter(
            datetime.fromisoformat(r[0]).astimezone(self.tz).date()
            for r in self.db.query(
                "SELECT logical_date FROM dag_run WHERE dag_id = ? AND state = 'success'",
                f"{c.dag_id}_reminders",
            )
        )
        return {
            "alerts": alerts,
            "alerts_expected": len(alerts),
            "alerts_on_time": sum(a["on_time"] for a in alerts),
            "failed": [r[0] for r in failed],
            "twice": sum(len(dates) - 1 for dates in received.values()),
            "mails": len(mails),
            "delivered": delivered,
            "due": c.deadline_at("report"),
            "checks": checks,
            "reminder_runs": reminder_runs,
        }

    def sensor_checks(self) -> dict[str, dict[str, int]]:
        """Each phase sensor's checks, from its task log: one line per check, and what woke it for each check
        after the first: a new file in the inbox, its deadline, or a second look at a file not finished before."""
        import json

        found = {}
        for phase in ("nominees", "survey", "self_scores"):
            counts = Counter()
            for log in (stack.HOME / "logs").glob(
                f"dag_id={self.campaign.dag_id}/run_id=*/task_id=collect_{phase}/*"
            ):
                for line in log.read_text(errors="replace").splitlines():
                    try:
                        event = str(json.loads(line).get("event", ""))
                    except (ValueError, AttributeError):
                        continue
                    if event.startswith(f"Phase {phase}: "):
                        counts["checks"] += 1
                    elif event.startswith("Woken by "):
                        counts[next((k for k in WAKES if f"'{k}'" in event), "other")] += 1
            found[f"collect_{phase}"] = {key: counts[key] for key in ("checks", *WAKES)}
        return found

    def _vn(self, moment: datetime | None) -> str:
        return moment.astimezone(self.tz).strftime("%d/%m/%Y %H:%M") if moment else "—"

    def report(self, f: dict, wall: float) -> None:
        print("\nHạn và cảnh báo (giờ Việt Nam):")
        print(f"  {'nội dung':<12} {'cảnh báo':<8} {'thời điểm':<17} {'thư gửi lúc':<17} đúng giờ")
        for a in f["alerts"]:
            print(
                f"  {a['phase']:<12} {a['alert']:<8} {self._vn(a['moment']):<17} {self._vn(a['sent']):<17} "
                f"{'có' if a['on_time'] else 'KHÔNG'}"
            )
        print(
            "Số lần kiểm tra của mỗi cảm biến (đánh thức bởi tệp mới, bởi hạn, để xem lại tệp chưa xong): "
            + ", ".join(
                f"{task} {n['checks']} ({n['inbox']}, {n['deadline']}, {n['recheck']})"
                for task, n in sorted(f["checks"].items())
            )
        )
        print(
            "Lần chạy DAG nhắc việc theo ngày mô phỏng: "
            + ", ".join(f"{day:%d/%m} {n}" for day, n in sorted(f["reminder_runs"].items()))
        )
        if f["failed"]:
            print("Tác vụ lỗi: " + ", ".join(f["failed"]))
        print(f"{f['mails']} thư; {self.jumps} bước nhảy đồng hồ; {wall:.0f} giây thực.")
        delivered = f["delivered"].astimezone(self.tz).strftime("%d/%m/%Y") if f["delivered"] else "—"
        print(
            f"rehearsal: alerts on time {f['alerts_on_time']}/{f['alerts_expected']}, failed tasks "
            f"{len(f['failed'])}, mails sent twice {f['twice']}, report delivered {delivered} "
            f"(due {f['due'].astimezone(self.tz):%d/%m/%Y})"
        )


def main() -> int:
    """Rehearse the campaign's whole calendar on a simulated clock and print its figures."""
    global stack
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaign", type=Path, default=ROOT / "include" / "campaigns" / "ha_tinh_2023.yaml")
    args = parser.parse_args()
    # a stack of its own (folders and ports), never the developer's `make up` stack
    os.environ.setdefault("PAR_AIRFLOW_HOME", str(ROOT / ".airflow" / "rehearsal"))
    os.environ.setdefault("PAR_DATA_DIR", str(ROOT / "out" / "rehearsal"))
    os.environ.setdefault("PAR_API_URL", f"http://localhost:{_free_port()}")
    os.environ.setdefault("PAR_SMTP_PORT", str(_free_port()))
    sys.path.insert(0, str(ROOT / "tools"))
    import stack as embedded

    stack = embedded
    return Rehearsal(args.campaign).run()


if __name__ == "__main__":
    sys.exit(main())
