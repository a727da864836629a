"""The library as a built wheel, not the editable install: its own data (the criteria catalogue, the bundled
campaign file, the templates, the store's migrations) is read through ``importlib.resources`` from the installed
package, from any working directory; the deployment's folders come from the environment.

The project is copied (pyproject.toml, setup.py, MANIFEST.in, README.md, include/, dev/) so that the build leaves nothing
in the repository, built with ``uv build`` (sdist, then the wheel from the sdist: MANIFEST.in is exercised too) and
installed with ``--no-deps`` into a throwaway venv whose dependencies come from the test's own venv through a
``.pth`` line placed after the venv's own site-packages (so the installed ``par_index`` is the one imported).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")

PROBE = r"""
import json, os, sys
from pathlib import Path

import par_index
from par_index import paths
from par_index.campaign import campaign_files, load_campaign
from par_index.catalogue import load_catalogue
from par_index.intake.templates import blank_forms
from par_index.notify import _env
from par_index.store.db import migrate

catalogue = load_catalogue("par_province_2022")
files = campaign_files()
campaign = load_campaign(files[0]) if files else None
store = Path(sys.argv[1])
migrate(f"sqlite:///{store}")
import sqlite3
with sqlite3.connect(store) as db:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
print(json.dumps({
    "package": par_index.__file__,
    "bundled": str(paths.BUNDLED_DIR),
    "from_source": paths.FROM_SOURCE,
    "data_dir": str(paths.data_dir()),
    "criteria": [len(catalogue.level(1)), len(catalogue.level(2)), len(catalogue.level(3))],
    "campaign_files": [str(f) for f in files],
    "campaign": campaign and {"id": campaign.campaign.id, "catalogue": campaign.campaign.catalogue,
                              "units": len(campaign.units), "criteria": len(campaign.catalogue.level(2)),
                              "deadlines": {k: str(v.due) for k, v in campaign.deadlines.items()}},
    "reminder_template": _env.get_template("reminder.txt").filename,
    "forms": campaign and [p.relative_to(paths.data_dir()).as_posix() for p in sorted(blank_forms(campaign).iterdir())],
    "report_template": (paths.TEMPLATES_DIR / "report" / "bao_cao_tu_danh_gia.docx").is_file(),
    "tables": {"alembic_version", "notifications", "report_builds"} <= tables,
}))
"""


def _uv(*args: str, cwd: Path) -> None:
    """Offline first (the build backend from uv's cache), then with the index."""
    for offline in (["--offline"], []):
        done = subprocess.run([UV, *args, *offline], cwd=cwd, capture_output=True, text=True, timeout=600)
        if done.returncode == 0:
            return
    raise AssertionError(f"uv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from its sdist out of a copy of the project."""
    if UV is None:
        pytest.fail("uv not found (a dev dependency of requirements.lock)")
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("include", "dev"):  # dev/ is copied too: the build must leave it out, not merely miss it
        shutil.copytree(
            ROOT / folder,
            source / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
    _uv("build", "--quiet", "--out-dir", str(tmp / "dist"), str(source), cwd=tmp)
    wheels = sorted((tmp / "dist").glob("par_index-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The Python of a throwaway venv holding the project's wheel (built from its sdist)."""
    tmp = tmp_path_factory.mktemp("venv")
    venv = tmp / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp)
    python = venv / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), "--no-deps", str(wheel), cwd=tmp)
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def _probe(python: Path, cwd: Path, **env: str) -> dict:
    cwd.mkdir(parents=True, exist_ok=True)
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PAR_DATA_DIR", "PAR_CAMPAIGNS_DIR", "PAR_EXTRA_CAMPAIGNS_DIR"}
    }
    done = subprocess.run(
        [python, "-c", PROBE, str(cwd / "store.sqlite")],
        cwd=cwd,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_installed_wheel_reads_its_own_data_from_any_folder(installed, tmp_path):
    site = (
        installed.parent.parent
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
    )
    elsewhere = tmp_path / "elsewhere"
    facts = _probe(installed, elsewhere)
    bundled = site / "par_index" / "bundled"
    assert facts["package"] == str(site / "par_index" / "__init__.py")
    assert facts["bundled"] == str(bundled)
    assert facts["from_source"] is False
    assert facts["data_dir"] == str(elsewhere / "out")  # no PAR_DATA_DIR: out/ of the working directory
    assert facts["criteria"] == [8, 37, 88]
    assert facts["campaign_files"] == [str(bundled / "campaigns" / "ha_tinh_2023.yaml")]
    assert facts["campaign"] == {
        "id": "ha_tinh_2023",
        "catalogue": "par_province_2022",
        "units": 41,
        "criteria": 37,
        "deadlines": {
            "nominees": "2023-12-30",
            "survey": "2023-12-31",
            "self_scores": "2024-01-16",
            "report": "2024-01-20",
        },
    }
    assert facts["reminder_template"] == str(bundled / "templates" / "email" / "reminder.txt")
    # the blank forms: generated by the installed library into the data folder, beside their fingerprint
    assert facts["forms"] == [
        "forms/ha_tinh_2023/.fingerprint",
        "forms/ha_tinh_2023/khao_sat_danh_sach_nguoi_tra_loi.xlsx",
        "forms/ha_tinh_2023/phu_luc_ii_bao_cao_tu_cham_diem.xlsx",
        "forms/ha_tinh_2023/phu_luc_iii_tai_khoan_phan_mem.xlsx",
        "forms/ha_tinh_2023/phu_luc_iv_cong_chuc_dau_moi.xlsx",
    ]
    assert facts["report_template"] is True
    assert facts["tables"] is True  # the migrations shipped in the wheel built the store


def test_the_deployment_folders_come_from_the_environment(installed, tmp_path):
    campaigns, data = tmp_path / "campaigns", tmp_path / "data"
    campaigns.mkdir()
    facts = _probe(
        installed, tmp_path / "elsewhere", PAR_CAMPAIGNS_DIR=str(campaigns), PAR_DATA_DIR=str(data)
    )
    assert facts["campaign_files"] == []  # the bundled campaign file is only the default
    assert facts["campaign"] is None and facts["forms"] is None
    assert facts["data_dir"] == str(data)
    assert facts["criteria"] == [8, 37, 88]  # the library's own data does not move


def test_the_wheel_ships_the_runtime_package_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"par_index", "par_index-0.1.0.dist-info"}
    modules = {
        name
        for name in names
        if name.endswith(".py") and not name.startswith(("par_index/bundled/", "par_index/store/migrations/"))
    }
    source = ROOT / "include"
    assert modules == {
        path.relative_to(source).as_posix()
        for path in (source / "par_index").rglob("*.py")
        if "migrations" not in path.relative_to(source / "par_index").parts
    }
    # the development package and the modules that moved into it (sample inbox, SMTP sink, form writer)
    assert [
        name
        for name in names
        if name.startswith("par_index_dev")
        or name in {"par_index/sample_data.py", "par_index/mail_sink.py", "par_index/intake/writer.py"}
    ] == []
    assert "def to_tcvn3" not in zipfile.ZipFile(wheel).read("par_index/intake/legacy.py").decode("utf-8")
