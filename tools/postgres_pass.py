"""The test suite's second pass: Airflow's metadata DB and the campaign store on a real PostgreSQL (Debian's), and
the live stack under the CeleryExecutor with a real Redis (Debian's). Both servers are private to this run (a
fresh cluster and a Redis on free loopback ports, in a temporary folder) and stopped at the end.

    .venv/bin/python tools/postgres_pass.py [pytest arguments]
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def postgres_bindir() -> Path:
    """PostgreSQL's server binaries (initdb, pg_ctl): ``pg_config --bindir``, else the newest Debian install."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and (Path(found) / "initdb").is_file():
            return Path(found)
    installed = [b for b in Path("/usr/lib/postgresql").glob("*/bin") if (b / "initdb").is_file()]
    installed.sort(key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else -1)
    if not installed:
        raise SystemExit(
            "PostgreSQL's server binaries (initdb, pg_ctl) were not found: neither `pg_config --bindir` "
            "nor /usr/lib/postgresql/*/bin has them. Install Debian's postgresql (make system-deps)."
        )
    return installed[-1]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_owner(args: list[str], owner: str | None) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as ``owner`` then."""
    return ["runuser", "-u", owner, "--", *args] if owner else args


@contextlib.contextmanager
def postgres(folder: Path):
    """A fresh cluster on a free port; yields the admin URL (SQLAlchemy, psycopg2)."""
    pg_bin = postgres_bindir()
    owner = "postgres" if os.geteuid() == 0 else None
    data, password = folder / "pgdata", secrets.token_urlsafe(16)
    folder.mkdir(parents=True, exist_ok=True)
    folder.parent.chmod(0o755)  # the server's user must reach its folder
    (folder / "pwfile").write_text(password)
    (folder / "pwfile").chmod(0o600)
    if owner:
        shutil.chown(folder, owner)
        shutil.chown(folder / "pwfile", owner)
    subprocess.run(
        as_owner(
            [
                str(pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "par",
                "--pwfile",
                str(folder / "pwfile"),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale",
                "C.UTF-8",
            ],
            owner,
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (folder / "pwfile").unlink()
    port = free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off"
    subprocess.run(
        as_owner(
            [
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "pg.log"),
                "-w",
                "start",
            ],
            owner,
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql+psycopg2://par:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            as_owner([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], owner),
            stdout=subprocess.DEVNULL,
        )


@contextlib.contextmanager
def redis(folder: Path):
    """A private Redis on a free loopback port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        time.sleep(0.2)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    """Run pytest with the private PostgreSQL and Redis; its exit code."""
    folder = Path(tempfile.mkdtemp(prefix="par-pg-pass-"))
    try:
        with postgres(folder / "postgres") as pg_url, redis(folder) as broker:
            env = {**os.environ, "PAR_TEST_POSTGRES": pg_url, "PAR_TEST_CELERY_BROKER": broker}
            print(
                f"Second pass: PostgreSQL {pg_url.split('@')[1]} (metadata DB and campaign store), "
                f"Redis {broker} (CeleryExecutor)",
                flush=True,
            )
            return subprocess.run(
                [sys.executable, "-m", "pytest", *sys.argv[1:]], env=env, cwd=ROOT
            ).returncode
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
