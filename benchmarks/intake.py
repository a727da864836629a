"""Intake speed: read and validate N generated Appendix II workbooks with the project's reader (python-calamine
+ validation), side by side with a plain openpyxl reader of the same files, in the same run. Checks that both read
the same values; prints files per second and peak memory (max RSS of each reader's own process). Then a phase's
check of an inbox holding the same N files, all already read and unchanged (target: at most 1 s for 500).

    .venv/bin/python benchmarks/intake.py [--files 500]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT / "dev"))  # par_index_dev: the form writer
sys.path.insert(0, str(ROOT / "benchmarks"))
from harness import in_fresh_process  # noqa: E402

CAMPAIGN = ROOT / "include" / "campaigns" / "ha_tinh_2023.yaml"
COLUMNS = [
    "STT",
    "Mã tiêu chí",
    "Nội dung",
    "Điểm tối đa",
    "Điểm tự chấm",
    "Tài liệu kiểm chứng",
    "Giải trình",
]


def generate(folder: Path, count: int) -> list[Path]:
    """Write ``count`` filled forms of the sample campaign into ``folder``."""
    from par_index.campaign import load_campaign
    from par_index_dev.writer import write_xlsx

    campaign = load_campaign(CAMPAIGN)
    rng = random.Random(876)
    by_unit: dict[str, list[str]] = {}
    for code, unit in campaign.assignment_of.items():
        by_unit.setdefault(unit, []).append(code)
    units = sorted(by_unit)
    paths = []
    for n in range(count):
        unit = campaign.unit_by_code[units[n % len(units)]]
        rows = []
        for i, code in enumerate(by_unit[unit.code], 1):
            item = campaign.catalogue[code]
            score = item.max_points - item.step * rng.randint(0, int(item.max_points / item.step))
            rows.append(
                [
                    i,
                    code,
                    item.name_vi,
                    str(item.max_points).replace(".", ","),
                    str(score).replace(".", ","),
                    f"Số {rng.randint(1, 999)}/KH-UBND ngày 05/01/2023",
                    None,
                ]
            )
        paths.append(
            write_xlsx(
                folder / f"pl2_{n:04d}.xlsx",
                "PHỤ LỤC II",
                [("Đơn vị", f"{unit.name_vi} ({unit.code})"), ("Số", f"{n}/BC"), ("Ngày", "15/01/2024")],
                COLUMNS,
                rows,
            )
        )
    return paths


def ours(paths: list[str]) -> list[tuple]:
    """Read the files as the intake does (sheets, then the form parser)."""
    from par_index.campaign import load_campaign
    from par_index.intake.forms import parse_form
    from par_index.intake.sheets import read_sheets

    campaign = load_campaign(CAMPAIGN)
    out = []
    for path in paths:
        form = parse_form(read_sheets(Path(path)), campaign)
        assert not form.rejected, (path, form.issues)
        out.append((form.unit_code, tuple((r.criterion, r.score) for r in form.records)))
    return out


def plain_openpyxl(paths: list[str]) -> list[tuple]:
    """What a straightforward script would do: openpyxl, fixed titles, values as they come."""
    from openpyxl import load_workbook

    out = []
    for path in paths:
        ws = load_workbook(path, data_only=True).active
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        unit = next(str(r[1]) for r in rows if r and r[0] == "Đơn vị:")
        header = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
        code_col, score_col = rows[header].index("Mã tiêu chí"), rows[header].index("Điểm tự chấm")
        records = tuple(
            (r[code_col], Decimal(str(r[score_col]).replace(",", ".")))
            for r in rows[header + 1 :]
            if r and r[code_col]
        )
        out.append((unit[unit.rindex("(") + 1 : -1], records))
    return out


def measure(name: str, paths: list[str]) -> tuple[float, float, list]:
    """Read the files with one reader: seconds, peak RSS (MB) and the values read."""
    reader = {"ours": ours, "openpyxl": plain_openpyxl}[name]
    start = time.perf_counter()
    values = reader(paths)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, values


def unchanged_check(paths: list[str]) -> tuple[float, float, int]:
    """Seconds of the first check of an inbox holding ``paths`` (reads them all), then of the next one (nothing
    new or changed), and what the second registered."""
    import os
    import shutil

    folder = Path(paths[0]).parent.parent / "data"
    os.environ["PAR_DATA_DIR"] = str(folder)
    from par_index.campaign import load_campaign
    from par_index.intake.inbox import ingest
    from par_index.paths import inbox_dir
    from par_index.runtime import Runtime
    from par_index.service import prepare
    from par_index.store import session_scope

    campaign = load_campaign(CAMPAIGN)
    runtime = Runtime(f"sqlite:///{folder / 'store.sqlite'}")
    inbox_dir(campaign.id).mkdir(parents=True)
    an_hour_ago = time.time() - 3600
    for path in paths:
        target = inbox_dir(campaign.id) / Path(path).name
        shutil.copyfile(path, target)
        os.utime(target, (an_hour_ago, an_hour_ago))
    prepare(campaign, runtime)
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        with session_scope(runtime.store_url) as s:
            registered = len(ingest(s, campaign, "self_scores").results)
        timings.append(time.perf_counter() - start)
    return timings[0], timings[1], registered


def main() -> int:
    """Parse the command line, generate the files and compare the readers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "files").mkdir()
        paths = [str(p) for p in generate(Path(tmp) / "files", args.files)]
        results = {name: in_fresh_process(measure, name, paths) for name in ("ours", "openpyxl")}
        first, again, registered = in_fresh_process(unchanged_check, paths)
    same = results["ours"][2] == results["openpyxl"][2]
    print(f"Intake of {args.files} Appendix II workbooks (read + validate)")
    print(f"{'reader':<32}{'seconds':>10}{'files/s':>10}{'peak RSS MB':>14}")
    for name, label in (("ours", "python-calamine + validation"), ("openpyxl", "plain openpyxl")):
        elapsed, rss, _ = results[name]
        print(f"{label:<32}{elapsed:>10.2f}{args.files / elapsed:>10.1f}{rss:>14.1f}")
    speedup = results["openpyxl"][0] / results["ours"][0]
    print(f"speed-up: {speedup:.1f}x; same values read: {'yes' if same else 'NO'}")
    print(
        f"phase check of an inbox of {args.files} files: first {first:.2f} s (reads them all), next "
        f"{again:.2f} s with nothing new ({registered} registered; target ≤ 1 s for 500)"
    )
    return 0 if same and registered == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
