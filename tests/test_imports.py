"""What the long-lived Airflow processes load of the library: the API server's dashboard (its app factory), the DAG
processor (the DAG file) and the triggerer (the deadline callbacks) load neither pandas, openpyxl nor docxtpl, nor
the write side (:mod:`par_index.service`): each is imported in a fresh interpreter and its ``par_index`` modules are
listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "openpyxl", "docxtpl")
LIGHT_CORE = {
    "par_index",
    "par_index.campaign",
    "par_index.catalogue",
    "par_index.errors",
    "par_index.mismatches",
    "par_index.paths",
    "par_index.phase_registry",
    "par_index.text",
    "par_index.workdays",
}
ENTRY_POINTS = {
    "dashboard": (
        f"sys.path.insert(0, {str(ROOT / 'plugins')!r})\n"
        "import par_dashboard\n"
        "from par_index.airflow.dashboard_app import create_app\n"
        "create_app()",
        LIGHT_CORE
        | {
            "par_index.airflow",
            "par_index.airflow.dashboard_app",
            "par_index.airflow.runtime",
            "par_index.collection_failures",
            "par_index.dashboard",
            "par_index.dashboard.data",
            "par_index.dashboard.html",
            "par_index.nominee_rules",
            "par_index.phases",
            "par_index.requests",
            "par_index.runtime",
            "par_index.store",
            "par_index.store.db",
            "par_index.store.models",
        },
    ),
    "dags": (
        f"import runpy\nrunpy.run_path({str(ROOT / 'dags' / 'par_campaigns.py')!r})",
        LIGHT_CORE
        | {
            "par_index.airflow",
            "par_index.airflow.approval",
            "par_index.airflow.assets",
            "par_index.airflow.callbacks",
            "par_index.airflow.dag_factory",
            "par_index.airflow.deadline_reference",
            "par_index.airflow.deadlines",
            "par_index.airflow.feedback",
            "par_index.airflow.notifiers",
            "par_index.airflow.sensors",
            "par_index.airflow.triggers",
        },
    ),
    "deadline_callbacks": (
        "import par_index.airflow.callbacks",
        {"par_index", "par_index.airflow", "par_index.airflow.callbacks"},
    ),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_point_imports_no_heavy_module(entry, tmp_path):
    code, expected = ENTRY_POINTS[entry]
    probe = f"""
import json, sys
{code}
print(json.dumps({{"heavy": sorted(m for m in {HEAVY!r} if m in sys.modules),
                  "par_index": sorted(m for m in sys.modules if m == "par_index" or m.startswith("par_index."))}}))
"""
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(ROOT / "include"),
    }
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=True,
        cwd=tmp_path,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n{entry}: {len(result['par_index'])} par_index modules: {', '.join(result['par_index'])}")
    assert result["heavy"] == []
    assert "par_index.service" not in result["par_index"]
    assert set(result["par_index"]) == expected
