"""Every benchmark in one table: parse time of each DAG file, the demo's wall time, intake rate against openpyxl,
reconciliation time against datacompy, the dashboard's latency — each with its peak memory (max RSS of the
largest process). Runs the other scripts of this folder, each in its own process, and the demo on free ports in a
temporary folder (never the developer's stack).

    .venv/bin/python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SPEEDUP = r"speed-up: ([\d.]+)x"
PARSE = """
import resource, sys, time
sys.path.insert(0, {include!r})
import airflow.sdk  # Airflow itself is loaded before the clock starts: the figure is the file's own cost
start = time.perf_counter()
import runpy
runpy.run_path({path!r})
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(f"peak-rss-kb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def run(args: list[str], env: dict | None = None, timeout: float = 1800) -> tuple[str, float, float]:
    """stdout, wall seconds and peak RSS (MB) of the largest process the command ran (measured by a fresh
    parent of its own, so earlier commands do not count)."""
    start = time.perf_counter()
    out = subprocess.run(
        [PY, "-c", MEASURE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    peak = int(re.search(r"peak-rss-kb (\d+)", out.stderr).group(1)) / 1024
    return out.stdout, elapsed, peak


def _number(pattern: str, text: str) -> float:
    return float(re.search(pattern, text, re.M).group(1))


def main() -> int:
    """Run every benchmark and print one table of their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs (a smoke run, not the figures)")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []  # what, figure, comparison, peak memory

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        for path in sorted((ROOT / "dags").glob("*.py")):
            stdout, _, _ = run([PY, "-c", PARSE.format(include=str(ROOT / "include"), path=str(path))], env)
            seconds, rss = (float(x) for x in stdout.split()[-2:])
            rows.append(
                (f"parse {path.relative_to(ROOT)}", f"{seconds:.2f} s", "target < 1 s", f"{rss:.0f} MB")
            )

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PAR_AIRFLOW_HOME": f"{tmp}/airflow",
            "PAR_DATA_DIR": f"{tmp}/out",
            "PAR_API_URL": f"http://localhost:{_free_port()}",
            "PAR_SMTP_PORT": str(_free_port()),
        }
        env.pop("AIRFLOW_HOME", None)
        stdout, elapsed, peak = run([PY, "tools/stack.py", "demo"], env)
        tasks = re.search(r"(\d+/\d+) tác vụ thành công", stdout).group(1)
        rows.append(
            (
                "demo (make demo, after install)",
                f"{elapsed:.0f} s",
                f"{tasks} tasks succeeded",
                f"{peak:.0f} MB",
            )
        )

    files = 100 if args.quick else 500
    stdout, _, _ = run([PY, "benchmarks/intake.py", "--files", str(files)])
    ours = re.search(r"^python-calamine \+ validation\s+\S+\s+(\S+)\s+(\S+)$", stdout, re.M)
    theirs = re.search(r"^plain openpyxl\s+\S+\s+(\S+)\s+(\S+)$", stdout, re.M)
    speedup = _number(SPEEDUP, stdout)
    rows.append(
        (
            f"intake, {files} Appendix II workbooks",
            f"{float(ours.group(1)):.0f} files/s",
            f"openpyxl {float(theirs.group(1)):.0f} files/s ({speedup:.1f}x)",
            f"{float(ours.group(2)):.0f} MB (openpyxl {float(theirs.group(2)):.0f})",
        )
    )

    rows_per_source = 100_000 if args.quick else 1_000_000
    stdout, _, _ = run([PY, "benchmarks/reconcile.py", "--rows", str(rows_per_source)])
    ours = re.search(r"^par_index \(pandas\)\s+(\S+)\s+(\S+)", stdout, re.M)
    theirs = re.search(r"^datacompy\s+(\S+)\s+(\S+)", stdout, re.M)
    rows.append(
        (
            f"reconciliation, {rows_per_source:_} rows per source".replace("_", "."),
            f"{float(ours.group(1)):.2f} s",
            f"datacompy {float(theirs.group(1)):.2f} s ({_number(SPEEDUP, stdout):.1f}x)",
            f"{float(ours.group(2)):.0f} MB (datacompy {float(theirs.group(2)):.0f})",
        )
    )

    stdout, _, peak = run([PY, "benchmarks/dashboard.py"])
    median = _number(r"time to serve the view: ([\d.]+) s median", stdout)
    worst = _number(r"s median, ([\d.]+) s worst", stdout)
    rows.append(
        (
            "dashboard, 300 units",
            f"{median:.3f} s median",
            f"worst {worst:.3f} s (target < 1 s)",
            f"{peak:.0f} MB",
        )
    )

    widths = [max(len(r[i]) for r in [("what", "figure", "against", "peak memory"), *rows]) for i in range(4)]
    for row in [("what", "figure", "against", "peak memory"), tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
