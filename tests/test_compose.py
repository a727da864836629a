"""The production stack's files: docker-compose.yaml validates with Debian's docker-compose, defines every
connection and variable the code reads, binds ports to loopback only, and agrees with the Dockerfile and the lock."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
COMMON_ENV = SERVICES["airflow-scheduler"]["environment"]
ENV_EXAMPLE = dict(
    line.split("=", 1)
    for line in (ROOT / ".env.example").read_text().splitlines()
    if line and not line.startswith("#")
)


def test_compose_file_validates_with_docker_compose(tmp_path):
    assert shutil.which("docker-compose"), "make test installs Debian's docker-compose"
    shutil.copy(ROOT / "docker-compose.yaml", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    out = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr


def test_the_official_stack_with_celery_and_a_mail_catcher():
    assert {
        "postgres",
        "redis",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-init",
        "mailpit",
    } <= set(SERVICES)
    assert COMMON_ENV["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert COMMON_ENV["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert COMMON_ENV["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert '"host": "mailpit"' in COMMON_ENV["AIRFLOW_CONN_PAR_SMTP"]
    assert COMMON_ENV["AIRFLOW_CONN_PAR_CAMPAIGN_DB"].startswith("postgres://")
    mounts = {volume.split(":")[-1].split()[0] for volume in SERVICES["airflow-worker"]["volumes"]}
    assert {
        "/opt/airflow/dags",
        "/opt/airflow/plugins",
        "/opt/par/include",
        "/opt/par/data/inbox",
        "/opt/par/data/reports",
        "/opt/par/data/setup",
        "/opt/par/data",  # shared by every component: the imported Table 2, the blank forms, the archive
    } <= mounts


PUBLISHED = {
    "airflow-apiserver": ["${PAR_BIND_HOST:-127.0.0.1}:8080:8080"],
    "mailpit": ["127.0.0.1:8025:8025"],
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_ports_are_bound_to_loopback_unless_par_bind_host_says_otherwise(service):
    # the API server follows PAR_BIND_HOST (default 127.0.0.1); Mailpit's web UI, open to anyone, never does
    assert SERVICES[service].get("ports", []) == PUBLISHED.get(service, [])


@pytest.mark.parametrize(
    ("bind_host", "api_port"), [(None, "127.0.0.1:8080:8080/tcp"), ("0.0.0.0", "0.0.0.0:8080:8080/tcp")]
)
def test_par_bind_host_publishes_the_api_server_and_nothing_else(tmp_path, bind_host, api_port):
    assert shutil.which("docker-compose"), "make test installs Debian's docker-compose"
    shutil.copy(ROOT / "docker-compose.yaml", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {k: v for k, v in os.environ.items() if k != "PAR_BIND_HOST"} | (
        {"PAR_BIND_HOST": bind_host} if bind_host else {}
    )
    out = subprocess.run(
        ["docker-compose", "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    services = yaml.safe_load(out.stdout)["services"]
    assert {name: s["ports"] for name, s in services.items() if "ports" in s} == {
        "airflow-apiserver": [api_port],
        "mailpit": ["127.0.0.1:8025:8025/tcp"],
    }


def test_every_connection_and_variable_the_code_reads_is_defined():
    code = "\n".join(
        p.read_text()
        for folder in ("include/par_index", "dags", "plugins")
        for p in (ROOT / folder).rglob("*.py")
    )
    connections = set(re.findall(r'_CONN_ID = "([a-z_]+)"', code))
    assert connections == {"par_campaign_db", "par_smtp", "par_portal"}
    for conn_id in connections:
        assert f"AIRFLOW_CONN_{conn_id.upper()}" in COMMON_ENV, conn_id
    variables = set(re.findall(r'os\.environ(?:\.get\(|\[)"(PAR_[A-Z_]+)"', code))
    assert variables == {"PAR_DATA_DIR", "PAR_CAMPAIGNS_DIR", "PAR_EXTRA_CAMPAIGNS_DIR", "PAR_CRITERIA_DIR"}
    assert variables <= set(COMMON_ENV), variables - set(COMMON_ENV)
    text = (ROOT / "docker-compose.yaml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+)\}", text))  # ${VAR} without a default must come from .env
    assert required == {"POSTGRES_PASSWORD", "PAR_STORE_PASSWORD"}
    assert required <= set(ENV_EXAMPLE), required - set(ENV_EXAMPLE)


def test_image_and_lock_agree_on_versions():
    base = re.search(r"^FROM apache/airflow:(\S+)-python(\d+\.\d+)$", (ROOT / "Dockerfile").read_text(), re.M)
    lock = (ROOT / "requirements.lock").read_text()
    locked_airflow = re.search(r"^apache-airflow==([^\s\\]+)", lock, re.M).group(1)
    assert base.group(1) == locked_airflow
    assert f"--python-version {base.group(2)}" in lock
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f">={base.group(2)}" in requires
    assert "requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert "--hash=sha256:" in lock
    for dev_tool in (
        "pytest",
        "playwright",
        "datacompy",
        "ruff",
        "mypy",
    ):  # the image installs the runtime lock only
        assert not re.search(rf"^{dev_tool}==", lock, re.M), dev_tool
