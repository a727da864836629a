"""Shared fixtures: an isolated data folder and store per test, and one sample campaign run per session."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from par_index.campaign import Campaign, load_campaign
from par_index.runtime import Runtime
from support.campaigns import HA_TINH_2023
from support.databases import fresh_database, stack_settings

# Airflow reads its home when first imported (by the tests that need it): give the tests their own.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="par-airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# Nor the developer's data folder (out/): an imported Table 2 or generated forms there must not leak into a test.
os.environ["PAR_DATA_DIR"] = tempfile.mkdtemp(prefix="par-data-")


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign(HA_TINH_2023)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("PAR_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def runtime(data_dir) -> Runtime:
    from par_index.store import migrate

    rt = Runtime(fresh_database(data_dir, "store"))
    data_dir.mkdir(parents=True, exist_ok=True)
    migrate(rt.store_url)
    return rt


@dataclass
class SampleRun:
    data_dir: Path
    runtime: Runtime
    result: dict
    workbook: Path


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, campaign) -> SampleRun:
    """The sample inbox generated and the whole campaign run once, without a scheduler."""
    from par_index.service import run_campaign
    from par_index_dev.sample_data import generate_inbox

    folder = tmp_path_factory.mktemp("sample") / "data"
    with pytest.MonkeyPatch.context() as mp:  # the environment restored once the run is made
        mp.setenv("PAR_DATA_DIR", str(folder))
        generate_inbox(campaign)
        rt = Runtime(fresh_database(folder, "store"))
        result = run_campaign(campaign, rt)
    return SampleRun(folder, rt, result, Path(result["report"]["workbook"]))


@pytest.fixture
def stack_env(tmp_path) -> dict[str, str]:
    """Environment for tools/stack.py in temporary folders, on free ports (never the developer's stack)."""
    import socket

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    env = {
        **os.environ,
        "PAR_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "PAR_DATA_DIR": str(tmp_path / "out"),
        "PAR_API_URL": f"http://localhost:{free_port()}",
        "PAR_SMTP_PORT": str(free_port()),
        **stack_settings(tmp_path / "databases"),
    }
    env.pop("AIRFLOW_HOME", None)
    return env


@pytest.fixture
def sink(tmp_path):
    """A real SMTP server on loopback saving what it receives in ``tmp_path/mail``: (controller, folder)."""
    from par_index_dev import mail_sink

    controller = mail_sink.start(tmp_path / "mail")
    yield controller, tmp_path / "mail"
    controller.stop()
