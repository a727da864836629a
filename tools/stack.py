"""Embedded Airflow for one machine: ``demo`` (run the sample campaign end to end and stop), ``up`` (keep it
running, with a trial campaign dated from today), ``down``.

Each component (api-server, scheduler, dag-processor, triggerer), the two task log servers and the SMTP sink runs
in its own process group, so ``down`` stops everything it started. Everything listens on 127.0.0.1 only, unless
``PAR_BIND_HOST`` names another address (``0.0.0.0``: every interface) to publish the stack. Airflow's metadata DB
is SQLite under ``.airflow/`` (project-local) and the executor the LocalExecutor, unless ``PAR_METADATA_DB_URL``
(e.g. PostgreSQL), ``PAR_STORE_URL`` (the campaign store) or ``PAR_CELERY_BROKER`` (Redis: the CeleryExecutor, with
a Celery worker) say otherwise.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import email.parser
import email.policy
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parents[1]
# par_index_dev: the sample inbox and the SMTP sink (development only: neither in the wheel nor in the image)
DEV = ROOT / "dev"
HOME = Path(os.environ.get("PAR_AIRFLOW_HOME", ROOT / ".airflow")).resolve()
OUT = Path(os.environ.get("PAR_DATA_DIR", ROOT / "out")).resolve()
PIDS = HOME / "pids.json"
TRIAL_DIR = OUT / "campaigns"  # campaign files the stack generates (the trial of ``up``); never committed
SECRETS = HOME / "stack-secrets.json"
WILDCARDS = ("0.0.0.0", "::", "")
BIND_HOST = os.environ.get(
    "PAR_BIND_HOST", "127.0.0.1"
)  # where every listener binds (0.0.0.0 publishes the stack)
REACH_HOST = (
    "127.0.0.1" if BIND_HOST in WILDCARDS else BIND_HOST
)  # where the stack's processes reach each other
API = os.environ.get("PAR_API_URL", f"http://{'localhost' if REACH_HOST == '127.0.0.1' else REACH_HOST}:8080")
SMTP_PORT = int(os.environ.get("PAR_SMTP_PORT", "8025"))
METADATA_DB = os.environ.get("PAR_METADATA_DB_URL")
STORE_URL = os.environ.get("PAR_STORE_URL")
CELERY_BROKER = os.environ.get("PAR_CELERY_BROKER")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer") + (
    ("celery worker",) if CELERY_BROKER else ()
)
SERVE_LOGS = ("scheduler", "triggerer", "celery worker")  # would start a log server on every interface
SECRET_BYTES = (
    64  # Airflow signs its tokens (and the log servers' requests) with HS512: a key of 512 bits at least
)
SINK_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "LD_PRELOAD")  # and FAKETIME_*: a rehearsal's clock
BIN = Path(sys.executable).parent
_children: dict[int, subprocess.Popen] = {}  # processes started by this process (reaped on stop)


def say(message: str) -> None:
    """Print a timestamped progress line."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read, readable by nobody else at any moment."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)
    tmp.replace(path)


def key_bytes(key: object) -> int:
    """How many bytes a URL-safe base64 key decodes to (0 for anything else)."""
    if not isinstance(key, str) or not key:
        return 0
    try:
        return len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    except (ValueError, binascii.Error):
        return 0


def stack_secrets() -> dict[str, str]:
    """The stack's JWT secret and API secret key, :data:`SECRET_BYTES` random bytes each, made once per machine
    (never committed); a file from before whose keys are shorter is replaced (everyone logs in again)."""
    try:
        keys = json.loads(SECRETS.read_text())
    except (OSError, ValueError):
        keys = None
    if isinstance(keys, dict) and min(key_bytes(keys.get("jwt")), key_bytes(keys.get("api"))) >= SECRET_BYTES:
        return keys
    if keys is not None or SECRETS.exists():
        say(f"{SECRETS.name}: keys shorter than {SECRET_BYTES} bytes replaced by new ones (log in again)")
    keys = {"jwt": secrets.token_urlsafe(SECRET_BYTES), "api": secrets.token_urlsafe(SECRET_BYTES)}
    _write_private(SECRETS, json.dumps(keys))
    return keys


def stack_env() -> dict[str, str]:
    """The Airflow components' environment: this machine's folders, ports, secrets and connections."""
    HOME.mkdir(parents=True, exist_ok=True)
    keys = stack_secrets()
    passwords = HOME / "simple_auth_manager_passwords.json.generated"
    if not passwords.exists():  # made here, so Airflow does not generate one and print it into its log
        _write_private(passwords, json.dumps({"admin": secrets.token_urlsafe(16)}))
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if CELERY_BROKER else "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{API}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": METADATA_DB or f"sqlite:///{HOME / 'airflow.db'}",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__API__BASE_URL": API,
            "AIRFLOW_BASE_URL": API,  # the links in the coordinators' and the leader's mail (par_index.readers)
            "AIRFLOW__API__HOST": BIND_HOST,
            "AIRFLOW__API__PORT": API.rsplit(":", 1)[-1],
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": BIND_HOST,
            # the log servers listen on BIND_HOST (see children): the api-server must ask them there, not at this
            # machine's name (which may resolve to another address)
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "par_index.airflow.log_server.hostname",
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
            "AIRFLOW__API__SECRET_KEY": keys["api"],
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PAR_DATA_DIR": str(OUT),
            "PAR_EXTRA_CAMPAIGNS_DIR": str(TRIAL_DIR),
            "AIRFLOW_CONN_PAR_SMTP": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": REACH_HOST,
                    "port": SMTP_PORT,
                    "extra": {"from_email": "cchc.snv@hatinh.example"},
                }
            ),
            "PYTHONPATH": str(ROOT / "include"),
        }
    )
    if STORE_URL:  # the campaign store, as the par_campaign_db connection
        env["AIRFLOW_CONN_PAR_CAMPAIGN_DB"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": STORE_URL}}
        )
    if CELERY_BROKER:
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": CELERY_BROKER,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + METADATA_DB.replace("+psycopg2", "")
                if METADATA_DB
                else f"db+sqlite:///{HOME / 'celery.db'}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            }
        )
    return env


def sink_env(env: dict[str, str]) -> dict[str, str]:
    """The SMTP sink's whole environment: a path, the locale, the clock (libfaketime's in a rehearsal) and where
    its module is. Nothing of Airflow's: no secret, no connection, no password."""
    kept = {k: v for k, v in env.items() if k in SINK_ENV or k.startswith("FAKETIME")}
    return kept | {"PYTHONPATH": str(DEV)}  # par_index_dev.mail_sink needs nothing of the library


def log_server_env(env: dict[str, str]) -> dict[str, str]:
    """A log server's environment: Airflow's (it checks each request's signature with ``[api] secret_key`` and
    reads the logs folder), without the JWT secret and the connections it never uses."""
    return {
        k: v
        for k, v in env.items()
        if k != "AIRFLOW__API_AUTH__JWT_SECRET" and not k.startswith("AIRFLOW_CONN_")
    }


def children(env: dict[str, str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Every process the stack starts, by name: its command line and its environment. The components that
    would serve task logs on every interface are told not to; two log servers (tasks', triggers') take their
    ports on :data:`BIND_HOST`."""
    procs = {
        "smtp-sink": (
            [
                sys.executable,
                "-m",
                "par_index_dev.mail_sink",
                "--folder",
                str(OUT / "mail"),
                "--host",
                BIND_HOST,
                "--port",
                str(SMTP_PORT),
            ],
            sink_env(env),
        )
    }
    ports = {
        "worker-log-server": env.get("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", "8793"),
        "trigger-log-server": env.get("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", "8794"),
    }
    for name, port in ports.items():
        procs[name] = (
            [sys.executable, "-m", "par_index.airflow.log_server", "--host", BIND_HOST, "--port", str(port)],
            log_server_env(env),
        )
    for component in COMPONENTS:
        skip = ["--skip-serve-logs"] if component in SERVE_LOGS else []
        procs[component] = ([str(BIN / "airflow"), *component.split(), *skip], env)
    return procs


def _spawn(name: str, args: list[str], env: dict[str, str]) -> int:
    log = (HOME / "logs").joinpath(f"{name}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    proc = subprocess.Popen(
        args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
    )
    _children[proc.pid] = proc
    return proc.pid


def _alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _group_alive(pid: int) -> bool:
    """Whether any process of the group ``pid`` still exists (its leader reaped first when it is our child)."""
    if pid in _children:
        _children[pid].poll()
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def start(env: dict[str, str]) -> None:
    """Migrate the metadata DB and start the stack's processes (stopping a running one first)."""
    if PIDS.exists():
        stop()
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    pids = {
        name: _spawn(name.replace(" ", "-"), args, child_env)
        for name, (args, child_env) in children(env).items()
    }
    PIDS.write_text(json.dumps(pids))
    where = "127.0.0.1 only (PAR_BIND_HOST publishes)" if BIND_HOST == "127.0.0.1" else BIND_HOST
    say(f"Started {', '.join(pids)}; listening on {where}; logs in {HOME / 'logs'}")


def stop() -> None:
    """Stop the stack's processes, if any."""
    if not PIDS.exists():
        return
    pids = json.loads(PIDS.read_text())
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(pid) for pid in pids.values()):
        time.sleep(0.3)
    for name, pid in pids.items():
        if _alive(pid):
            say(f"{name} did not stop within 30 s: killed")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    deadline = time.time() + 15  # a group is gone once every member has died (its workers too)
    while time.time() < deadline and any(_group_alive(pid) for pid in pids.values()):
        time.sleep(0.3)
    PIDS.unlink()
    say("Stopped every process the stack started.")


def admin_password() -> str:
    """The admin password Airflow's simple auth manager generated."""
    return json.loads((HOME / "simple_auth_manager_passwords.json.generated").read_text())["admin"]


class Api:
    """Airflow's REST API v2, logged in as a person would (``POST /auth/token``)."""

    def __init__(self, base: str = API, timeout: float = 180):
        self.base = base
        self._wait(f"{base}/api/v2/monitor/health", timeout)
        deadline = time.time() + 60
        while not (HOME / "simple_auth_manager_passwords.json.generated").exists() and time.time() < deadline:
            time.sleep(1)
        token = requests.post(
            f"{base}/auth/token", json={"username": "admin", "password": admin_password()}, timeout=30
        )
        token.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        # On SQLite the API server answers 500 when the metadata DB stays locked past its busy timeout (a busy
        # scheduler); such a request changed nothing, so it is safe to send again.
        retry = Retry(
            total=5,
            status_forcelist=(500, 502, 503),
            backoff_factor=1,
            raise_on_status=False,
            allowed_methods=frozenset({"GET", "POST", "PATCH"}),
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))

    @staticmethod
    def _wait(url: str, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting up
                pass
            time.sleep(1)
        raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")

    def call(self, method: str, path: str, **kwargs):
        response = self.session.request(method, f"{self.base}/api/v2{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            response = self.session.get(f"{self.base}/api/v2/dags/{dag_id}", timeout=30)
            if response.status_code == 200:
                return response.json()
            time.sleep(2)
        raise TimeoutError(f"DAG {dag_id} was not parsed within {timeout:.0f} s")

    def run_dag(
        self,
        dag_id: str,
        logical_date: str | None,
        timeout: float = 480,
        conf: dict | None = None,
        on_input=None,
    ) -> tuple[str, str, list[dict]]:
        """Trigger, unpause and wait; returns the run id, its final state and its task instances.

        The run is created while the DAG is still paused, with the logical date of the DAG's own @once run, so
        unpausing does not add a second run."""
        response = self.session.post(
            f"{self.base}/api/v2/dags/{dag_id}/dagRuns",
            timeout=30,
            json={"logical_date": logical_date, "conf": conf or {}, "note": "Chạy thử với dữ liệu mẫu"},
        )
        if response.status_code == 409:  # the scheduler made the same run first: follow that one
            run = self.call("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 1})
            run = run["dag_runs"][0]
        else:
            response.raise_for_status()
            run = response.json()
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        say(f"Triggered {dag_id} run {run['dag_run_id']}")
        return run["dag_run_id"], *self.wait(dag_id, run["dag_run_id"], timeout, on_input)

    def wait(self, dag_id: str, run_id: str, timeout: float = 480, on_input=None) -> tuple[str, list[dict]]:
        """Follow a run to its end; ``on_input(dag_id, run_id, ti)`` answers each task that awaits a person."""
        deadline, state, seen, answered = time.time() + timeout, "queued", {}, set()
        while time.time() < deadline:
            state = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            tasks = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            for ti in tasks:
                if ti["state"] and seen.get(ti["task_id"]) != ti["state"]:
                    seen[ti["task_id"]] = ti["state"]
                    say(f"  {ti['task_id']}: {ti['state']}")
                if (
                    ti["state"] == "awaiting_input"
                    and on_input
                    and (ti["task_id"], ti["try_number"]) not in answered
                ):
                    answered.add((ti["task_id"], ti["try_number"]))
                    on_input(dag_id, run_id, ti)
            if state in ("success", "failed"):
                return state, tasks
            time.sleep(3)
        raise TimeoutError(f"run {run_id} did not finish within {timeout:.0f} s (state {state})")

    def deadline_panel(self, campaign) -> dict[str, str]:
        """What the Deadlines panel of the campaign's deadlines DAG says of each directive deadline: Upcoming or
        Missed (its row), Met (no row: the run succeeded before its deadline), or "no run" (the deadline had passed
        when the campaign started)."""
        dag_id = f"{campaign.dag_id}_deadlines"
        response = self.session.get(
            f"{self.base}/ui/dags/{dag_id}/dagRuns/~/deadlines", timeout=30, params={"limit": 100}
        )
        response.raise_for_status()
        rows = {row["dag_run_id"]: row for row in response.json()["deadlines"]}
        runs = {
            r["dag_run_id"]: r
            for r in self.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
        }
        panel = {}
        for phase in campaign.deadlines:
            if phase in rows:
                panel[phase] = "Missed" if rows[phase]["missed"] else "Upcoming"
            elif phase in runs:
                panel[phase] = "Met" if runs[phase]["state"] == "success" else runs[phase]["state"]
            else:
                panel[phase] = "no run"
        return panel


class Leader:
    """SNV's leader answering the report approval through the REST API, as in the UI's Required Actions page:
    with ``reject_first``, rejects the campaign run's build with that reason, then approves the rebuilt one.

    The leader answers as soon as the question shows. Airflow 3.3.2 may lose an answer given within a second or two
    of the task parking (https://github.com/apache/airflow/issues/72716: a stale "finished" event fails the resumed
    attempt, which retries and asks again); the question then comes back on a new try and the leader gives the same
    decision again, so each build is decided once (tests/test_report_approval_browser.py shows it in the UI)."""

    def __init__(self, api: Api, reject_first: str | None = None):
        self.api, self.reject_first, self.decisions = api, reject_first, {}

    def __call__(self, dag_id: str, run_id: str, ti: dict) -> None:
        reject = bool(self.reject_first) and not dag_id.endswith("_rebuild_report")
        option, reason = ("Từ chối", self.reject_first) if reject else ("Phê duyệt", "")
        self.api.call(
            "PATCH",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/-1/hitlDetails",
            json={"chosen_options": [option], "params_input": {"reason": reason}},
        )
        self.decisions[dag_id] = option
        say(f"  Lãnh đạo Sở: {option}{f' — lý do: {reason}' if reason else ''}")

    def run(self, campaign, logical_date: str, timeout: float = 480) -> tuple[str, list[dict]]:
        """The campaign run to its end; after a rejection the coordinator triggers the campaign's "Lập lại báo
        cáo" DAG (one action: a new build) and the leader decides again. The campaign run's state and tasks; the
        state is the rebuild run's when that one did not succeed."""
        run_id, state, tasks = self.api.run_dag(campaign.dag_id, logical_date, timeout, on_input=self)
        if state == "success" and self.decisions.get(campaign.dag_id) == "Từ chối":
            say(f"Phòng CCHC sửa theo lý do từ chối và bấm Trigger ở DAG {campaign.rebuild_dag_id}")
            self.api.wait_for_dag(campaign.rebuild_dag_id)
            _, rebuilt, steps = self.api.run_dag(campaign.rebuild_dag_id, None, timeout, on_input=self)
            say(
                f"Lần chạy DAG {campaign.rebuild_dag_id}: {rebuilt}; "
                f"{sum(t['state'] == 'success' for t in steps)}/{len(steps)} tác vụ thành công"
            )
            state = state if rebuilt == "success" else rebuilt
        return state, tasks


def _library():
    sys.path[:0] = [str(ROOT / "include"), str(DEV)]
    os.environ["PAR_DATA_DIR"] = str(OUT)


def _fresh() -> None:
    stop()
    shutil.rmtree(OUT, ignore_errors=True)
    for stale in ("airflow.db", "campaigns", "staging", "logs"):
        target = HOME / stale
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)


def _print_outcome(campaign, state: str, tasks: list[dict], started: float) -> None:
    from par_index.runtime import Runtime
    from par_index.summary import campaign_summary

    print()
    print(campaign_summary(campaign, STORE_URL or Runtime.local().store_url))
    mails = sorted((OUT / "mail").glob("*.eml"))
    print(f"  - Thư đã lưu: {len(mails)} tệp .eml trong {OUT / 'mail'}")
    skipped = sum(t["state"] == "skipped" for t in tasks)
    print(
        f"\nLần chạy DAG {campaign.dag_id}: {state}; "
        f"{sum(t['state'] == 'success' for t in tasks)}/{len(tasks)} tác vụ thành công"
        f"{f', {skipped} bỏ qua' if skipped else ''}; {time.time() - started:.0f} giây."
    )


def demo(campaign_file: Path, reject_first: str | None = None) -> int:
    """Fresh stack, sample inbox, one campaign run (the leader approves the report through the REST API; with
    ``reject_first`` it is rejected once and rebuilt) and one replay of the reminder calendar, the summary; then
    stop everything."""
    _library()
    from par_index.campaign import load_campaign
    from par_index_dev.sample_data import generate_inbox

    started = time.time()
    _fresh()
    campaign = load_campaign(campaign_file)
    inbox = generate_inbox(campaign)
    say(f"Sample inbox: {len(list(inbox.iterdir()))} files in {inbox}")
    env = stack_env()
    try:
        start(env)
        api = Api()
        api.wait_for_dag(campaign.dag_id)
        state, tasks = Leader(api, reject_first).run(campaign, campaign.starts_at.isoformat())
        reminders = f"{campaign.dag_id}_reminders"
        api.wait_for_dag(reminders)
        _, replay_state, _ = api.run_dag(reminders, None, conf={"replay": True})
        say(f"Reminder calendar replayed: {replay_state}")
        panel = api.deadline_panel(campaign)  # a replay: every deadline had passed, no deadline run was made
        say(
            f"Deadlines panel of {campaign.dag_id}_deadlines: "
            + ", ".join(f"{phase} {status}" for phase, status in panel.items())
        )
        _print_outcome(campaign, state, tasks, started)
        return 0 if state == replay_state == "success" else 1
    finally:
        stop()


def live_campaign(base: Path, window: timedelta, starts: datetime) -> tuple[Path, object]:
    """A copy of the campaign whose 2023 calendar (directive → report deadline) is compressed into ``window``
    from ``starts``, with a minute-scale reminder ladder. Returns the file and the clock that maps 2023 onto it."""
    import yaml
    from par_index.campaign import load_campaign

    original = load_campaign(base)
    begin, end = original.starts_at, original.deadline_at("report")
    scale = window / (end - begin)

    def clock(moment: datetime) -> datetime:
        return starts + (moment - begin) * scale

    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    data["campaign"].update(id="ha_tinh_live", ui_base_url=API)
    data["campaign"]["province"]["slug"] = "ha_tinh_live"
    data["directive"]["issued_on"] = starts.astimezone(original.tz).date()
    for phase in data["deadlines"]:
        data["deadlines"][phase]["due"] = clock(original.deadline_at(phase)).astimezone(original.tz)
    data["reminders"] = {
        "schedule": "* * * * *",
        "min_gap": "0m",
        "max_per_recipient": 8,
        "alerts_before": ["1m"],
        "sensor_poke": "15s",
        "ladder": {
            "at_start": True,
            "before": ["1m"],
            "on_due_day": False,
            "overdue_every": "1m",
            "overdue_times": 1,
            "escalate": True,
        },
    }
    folder = HOME / "campaigns"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ha_tinh_live.yaml"
    path.write_text(
        "# Bản chạy thử trực tiếp: lịch 2023 nén vào vài phút (tools/stack.py demo --live).\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path, clock


def demo_live(base: Path, window_minutes: float) -> int:
    """The 2023 campaign compressed into a few minutes: deadlines fall ahead, a simulator delivers the units'
    files on the compressed calendar (some on time, some late, some never), and the sensors, deadline alerts and
    reminders act as the deadlines pass. Mail lands in out/mail/."""
    _library()
    from par_index.campaign import load_campaign
    from par_index_dev.sample_data import generate_inbox

    started = time.time()
    _fresh()
    starts = datetime.now(UTC) + timedelta(seconds=75)  # the stack is up by then
    path, clock = live_campaign(base, timedelta(minutes=window_minutes), starts)
    campaign = load_campaign(path)
    staging = generate_inbox(campaign, HOME / "staging", clock=clock)
    deliveries = sorted(staging.iterdir(), key=lambda p: p.stat().st_mtime)
    say(
        f"Live campaign {campaign.dag_id}: deadlines "
        + ", ".join(
            f"{p} {campaign.deadline_at(p).astimezone(campaign.tz):%H:%M:%S}" for p in campaign.deadlines
        )
        + f"; {len(deliveries)} files to deliver"
    )
    env = stack_env() | {"PAR_CAMPAIGNS_DIR": str(path.parent)}
    stop_delivering = threading.Event()

    def deliver() -> None:
        inbox = OUT / "inbox" / campaign.id
        inbox.mkdir(parents=True, exist_ok=True)
        while deliveries and not stop_delivering.is_set():
            if deliveries[0].stat().st_mtime <= time.time():
                item = deliveries.pop(0)
                shutil.copy2(item, inbox / item.name)
                say(f"  📥 {item.name} đến hộp thư")
            else:
                stop_delivering.wait(0.5)

    os.environ["PAR_CAMPAIGNS_DIR"] = str(path.parent)
    try:
        start(env)
        api = Api()
        api.wait_for_dag(campaign.dag_id)
        reminders = f"{campaign.dag_id}_reminders"
        api.wait_for_dag(reminders)
        api.call("PATCH", f"/dags/{reminders}", json={"is_paused": False})
        threading.Thread(target=deliver, daemon=True).start()
        state, tasks = Leader(api).run(
            campaign, campaign.starts_at.isoformat(), timeout=window_minutes * 60 + 300
        )
        while datetime.now(UTC) < campaign.ends_at + timedelta(
            seconds=70
        ):  # the last overdue step, escalation
            time.sleep(5)
        panel = api.deadline_panel(campaign)
        say(
            f"Deadlines panel of {campaign.dag_id}_deadlines: "
            + ", ".join(f"{phase} {status}" for phase, status in panel.items())
        )
        _print_outcome(campaign, state, tasks, started)
        return 0 if state == "success" else 1
    finally:
        stop_delivering.set()
        stop()


def ensure_trial(source: Path, new: bool = False) -> tuple[Path, bool]:
    """The trial campaign's file: kept while the trial lives (until its last reminder), else written anew from
    ``source`` with the directive dated today (Asia/Ho_Chi_Minh) — then the previous trial's inbox, archive,
    reports and store rows are deleted, so that it starts empty. Returns the file and whether it is new."""
    _library()
    from par_index.campaign import load_campaign
    from par_index.paths import archive_dir, inbox_dir, reports_dir
    from par_index.runtime import Runtime
    from par_index.trial import current_trial, forget_trial, trial_id_for, write_trial

    source_campaign = load_campaign(source)
    trial_id = trial_id_for(source_campaign.campaign.province.slug)
    path = TRIAL_DIR / f"{trial_id}.yaml"
    if not new and current_trial(path, datetime.now(UTC)):
        return path, False
    for folder in (inbox_dir(trial_id), archive_dir(trial_id), reports_dir(trial_id)):
        shutil.rmtree(folder, ignore_errors=True)
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    for mail in (OUT / "mail").glob("*.eml"):  # the previous trial's mail (every subject says so)
        with mail.open("rb") as handle:
            if "thử nghiệm" in str(parser.parse(handle)["Subject"] or "").casefold():
                mail.unlink()
    rows = forget_trial(trial_id, STORE_URL or Runtime.local().store_url)
    if rows:
        say(f"Previous trial forgotten: {rows} rows of {trial_id} deleted from the campaign store")
    today = datetime.now(UTC).astimezone(source_campaign.tz).date()
    write_trial(source, TRIAL_DIR, today, ui_base_url=API)
    inbox_dir(trial_id).mkdir(parents=True, exist_ok=True)
    return path, True


# The trial's start-up steps in the order the stack needs them, each waiting on its own condition.
def start_trial(api: Api, path: Path, new: bool, timeout: float = 300) -> dict:  # noqa: C901
    """Run the trial on the stack: wait for its DAGs as written in ``path``, create the campaign run (the DAG's
    own @once run, made before unpausing so no second run appears) and unpause it; once its ``prepare`` has put
    the campaign in the store, unpause the reminder DAG (its first run is the directive day's 08:00 tick: at once
    when that has passed, so the start notices go out now); wait until the phase sensors watch the inbox and the
    reminder DAG's next run is ahead. Returns what a coordinator needs to know."""
    from par_index.campaign import load_campaign

    campaign = load_campaign(path)
    dag_id, reminders, deadlines = (
        campaign.dag_id,
        f"{campaign.dag_id}_reminders",
        f"{campaign.dag_id}_deadlines",
    )
    deadline = time.time() + timeout
    for dag in (
        dag_id,
        reminders,
        deadlines,
    ):  # parsed from this very file (a new trial changes the start date)
        while True:
            response = api.session.get(f"{api.base}/api/v2/dags/{dag}/details", timeout=30)
            if (
                response.status_code == 200
                and response.json().get("start_date")
                and datetime.fromisoformat(response.json()["start_date"]) == campaign.starts_at
            ):
                break
            if time.time() > deadline:
                raise TimeoutError(f"DAG {dag} of {path} was not parsed within {timeout:.0f} s")
            time.sleep(2)
    runs = {}
    for dag in (
        dag_id,
        reminders,
        deadlines,
    ):  # a previous trial's deadline runs would show in the Deadlines panel
        runs[dag] = api.call("GET", f"/dags/{dag}/dagRuns", params={"limit": 100})["dag_runs"]
        if new:  # runs of a previous trial of the same id
            for run in runs[dag]:
                if run["state"] not in ("success", "failed"):  # Airflow deletes only a finished run
                    api.call("PATCH", f"/dags/{dag}/dagRuns/{run['dag_run_id']}", json={"state": "failed"})
                api.call("DELETE", f"/dags/{dag}/dagRuns/{run['dag_run_id']}")
            runs[dag] = []
    if not runs[dag_id]:
        response = api.session.post(
            f"{api.base}/api/v2/dags/{dag_id}/dagRuns",
            timeout=30,
            json={"logical_date": campaign.starts_at.isoformat(), "note": "Chiến dịch thử nghiệm (make up)"},
        )
        if response.status_code != 409:  # 409: the scheduler made the same @once run first
            response.raise_for_status()
    api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    watching, next_reminder, prepared = set(), None, False
    while True:
        run = api.call("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 1})[
            "dag_runs"
        ]
        tasks = (
            api.call("GET", f"/dags/{dag_id}/dagRuns/{run[0]['dag_run_id']}/taskInstances")["task_instances"]
            if run
            else []
        )
        states = {t["task_id"]: t["state"] for t in tasks}
        if (
            not prepared and states.get("prepare") == "success"
        ):  # a reminder run needs the campaign in the store
            for dag in (reminders, f"{campaign.dag_id}_feedback"):  # the sender's answer: at once from now on
                api.call("PATCH", f"/dags/{dag}", json={"is_paused": False})
            prepared = True
        watching = {
            task
            for task, state in states.items()
            if task.startswith("collect_") and state in ("deferred", "running", "success")
        }
        if prepared:
            after = api.call("GET", f"/dags/{reminders}").get("next_dagrun_run_after")
            next_reminder = after if after and datetime.fromisoformat(after) > datetime.now(UTC) else None
        if (len(watching) == 3 and next_reminder) or time.time() > deadline:
            return {
                "campaign": campaign,
                "watching": sorted(watching),
                "next_reminder": next_reminder,
                "prepared": prepared,
            }
        time.sleep(3)


def up(source: Path, new_trial: bool = False) -> int:
    """Start the stack with a trial campaign dated from today, and say where to drop files and where to look."""
    stop()
    path, new = ensure_trial(source, new_trial)
    start(stack_env())
    api = Api()
    trial = start_trial(api, path, new)
    campaign = trial["campaign"]
    from par_index.paths import inbox_dir
    from par_index.text import vn_date, vn_datetime

    local = campaign.tz
    say(
        f"Trial campaign “{campaign.title_vi}” ({'new' if new else 'continued'}): DAG {campaign.dag_id}, "
        f"directive {vn_date(campaign.directive.issued_on)}, deadlines "
        + ", ".join(f"{phase} {vn_date(campaign.deadline_at(phase))}" for phase in campaign.deadlines)
        + f"; file {path}"
    )
    say(f"Phase sensors watching the inbox: {', '.join(trial['watching']) or 'not yet (see the Grid)'}")
    if trial["next_reminder"]:
        say(
            f"Reminder DAG {campaign.dag_id}_reminders: next run "
            f"{vn_datetime(datetime.fromisoformat(trial['next_reminder']).astimezone(local))} (giờ Việt Nam)"
        )
    elif not trial["prepared"]:
        say(
            f"The campaign run has not prepared the store yet: unpause {campaign.dag_id}_reminders and "
            f"{campaign.dag_id}_feedback in the UI once "
            "its task “Chuẩn bị” has succeeded"
        )
    say(
        f"Drop what units send into {inbox_dir(campaign.id)}/ (any name, any sub-folder): the sensors' next check "
        "reads it within seconds (they wait in the triggerer, which lists the inbox every 2 s)"
    )
    say(
        f"Grid: {API}/dags/{campaign.dag_id}/grid · dashboard: {API}/dags/{campaign.dag_id}/plugin/par-campaign-tab "
        f"(“Chiến dịch CCHC”) · deadlines: {API}/dags/{campaign.dag_id}_deadlines (panel “Deadlines”) · mail: "
        f"{OUT / 'mail'}/"
    )
    say(
        f"Airflow UI: {API} — user admin; password: cat {HOME / 'simple_auth_manager_passwords.json.generated'}"
    )
    return 0


def main() -> int:
    """Run the command given: demo, up or down."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["demo", "up", "down"])
    parser.add_argument("--campaign", type=Path, default=ROOT / "include" / "campaigns" / "ha_tinh_2023.yaml")
    parser.add_argument("--live", action="store_true", help="compress the campaign's calendar into minutes")
    parser.add_argument(
        "--window", type=float, default=5.0, help="minutes from the directive to the report (live)"
    )
    parser.add_argument(
        "--reject-first",
        metavar="REASON",
        help="the leader rejects the first report with this reason, then approves the rebuilt one",
    )
    parser.add_argument(
        "--new-trial",
        action="store_true",
        help="up: start the trial campaign afresh from today (its data is deleted)",
    )
    args = parser.parse_args()
    if args.command == "demo":
        return demo_live(args.campaign, args.window) if args.live else demo(args.campaign, args.reject_first)
    if args.command == "up":
        return up(args.campaign, args.new_trial)
    stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
