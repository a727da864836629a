"""The embedded stack (tools/stack.py on free ports, temporary folders) and real headless Chromium (Debian's), as
the UI tests use them: one stack per test, every process it started gone afterwards, logged in as a coordinator
through Airflow's own login page."""

import contextlib
import importlib.util
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def stack_module(stack_env: dict[str, str], monkeypatch):
    """tools/stack.py, read afresh with this test's folders, ports and databases (it reads them when imported)."""
    for key in (k for k in stack_env if k.startswith("PAR_")):
        monkeypatch.setenv(key, stack_env[key])
    spec = importlib.util.spec_from_file_location("par_stack_for_ui_test", ROOT / "tools" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


@contextlib.contextmanager
def running(stack):
    """Start the stack; stop it at the end and check that every process it started is gone."""
    pids: dict[str, int] = {}
    try:
        stack.start(stack.stack_env())
        pids = json.loads(stack.PIDS.read_text())
        yield pids
    finally:
        stack.stop()
    assert pids and not [name for name, pid in pids.items() if _alive(pid)]


def log_in(page, stack) -> None:
    """Sign in as admin on Airflow's login page, where Airflow sends a new visitor."""
    page.goto(f"{stack.API}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(stack.admin_password())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.API}/", timeout=60_000)
