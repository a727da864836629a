"""The embedded stack's settings, read from tools/stack.py without starting anything: where it listens, its
secrets, and what each child process is given."""

import base64
import json
import secrets
import sys

import pytest
from support.ui_stack import stack_module

SECRET_NAMES = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY")


@pytest.fixture
def folders(tmp_path, monkeypatch) -> dict[str, str]:
    """The stack's PAR_* settings in temporary folders; nothing else of the developer's (no PAR_BIND_HOST)."""
    for key in (
        "PAR_BIND_HOST",
        "PAR_API_URL",
        "PAR_SMTP_PORT",
        "PAR_METADATA_DB_URL",
        "PAR_STORE_URL",
        "PAR_CELERY_BROKER",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
    ):
        monkeypatch.delenv(key, raising=False)
    return {"PAR_AIRFLOW_HOME": str(tmp_path / "airflow"), "PAR_DATA_DIR": str(tmp_path / "out")}


def _decoded(key: str) -> bytes:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


def test_the_stack_listens_on_loopback_by_default(folders, monkeypatch):
    stack = stack_module(folders, monkeypatch)
    env = stack.stack_env()
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"]) == (
        "127.0.0.1",
        "127.0.0.1",
    )
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "par_index.airflow.log_server.hostname"
    assert (stack.API, env["AIRFLOW__API__BASE_URL"]) == ("http://localhost:8080", "http://localhost:8080")
    assert json.loads(env["AIRFLOW_CONN_PAR_SMTP"])["host"] == "127.0.0.1"
    procs = stack.children(env)
    assert list(procs) == [
        "smtp-sink",
        "worker-log-server",
        "trigger-log-server",
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
    ]
    assert procs["smtp-sink"][0] == [
        sys.executable,
        "-m",
        "par_index_dev.mail_sink",
        "--folder",
        f"{folders['PAR_DATA_DIR']}/mail",
        "--host",
        "127.0.0.1",
        "--port",
        "8025",
    ]
    assert procs["worker-log-server"][0] == [
        sys.executable,
        "-m",
        "par_index.airflow.log_server",
        "--host",
        "127.0.0.1",
        "--port",
        "8793",
    ]
    assert procs["trigger-log-server"][0] == [
        sys.executable,
        "-m",
        "par_index.airflow.log_server",
        "--host",
        "127.0.0.1",
        "--port",
        "8794",
    ]
    # the components that would open a log server on every interface are told not to
    assert {name: args[1:] for name, (args, _) in procs.items() if args[0] == str(stack.BIN / "airflow")} == {
        "api-server": ["api-server"],
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer", "--skip-serve-logs"],
    }


@pytest.mark.parametrize(
    ("bind_host", "reach_host", "api"),
    [
        ("0.0.0.0", "127.0.0.1", "http://localhost:8080"),
        ("192.0.2.10", "192.0.2.10", "http://192.0.2.10:8080"),
    ],
)
def test_par_bind_host_publishes_every_listener(folders, monkeypatch, bind_host, reach_host, api):
    stack = stack_module(folders | {"PAR_BIND_HOST": bind_host}, monkeypatch)
    env = stack.stack_env()
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"]) == (
        bind_host,
        bind_host,
    )
    assert (env["AIRFLOW__API__BASE_URL"], json.loads(env["AIRFLOW_CONN_PAR_SMTP"])["host"]) == (
        api,
        reach_host,
    )
    procs = stack.children(env)
    hosts = {name: args[args.index("--host") + 1] for name, (args, _) in procs.items() if "--host" in args}
    assert hosts == {"smtp-sink": bind_host, "worker-log-server": bind_host, "trigger-log-server": bind_host}


def test_log_servers_are_reached_where_the_stack_binds(monkeypatch):
    from airflow.utils.net import getfqdn
    from par_index.airflow.log_server import hostname

    monkeypatch.setenv("AIRFLOW__API__HOST", "127.0.0.1")
    assert hostname() == "127.0.0.1"
    monkeypatch.setenv("AIRFLOW__API__HOST", "0.0.0.0")
    assert hostname() == getfqdn()


def test_the_jwt_secret_and_the_api_key_are_64_random_bytes_made_once(folders, monkeypatch):
    stack = stack_module(folders, monkeypatch)
    env = stack.stack_env()
    jwt, api = (env[name] for name in SECRET_NAMES)
    assert (len(_decoded(jwt)), len(_decoded(api))) == (64, 64) and jwt != api
    assert (stack.SECRETS.stat().st_mode & 0o777, json.loads(stack.SECRETS.read_text())) == (
        0o600,
        {"jwt": jwt, "api": api},
    )
    again = stack.stack_env()
    assert [again[name] for name in SECRET_NAMES] == [jwt, api]  # kept from one start to the next


@pytest.mark.parametrize(
    "previous",
    [
        {
            "jwt": secrets.token_urlsafe(32),
            "api": secrets.token_urlsafe(64),
        },  # what the stack used to make: 43 chars
        {"jwt": secrets.token_urlsafe(64), "api": secrets.token_hex(16)},
        {"jwt": secrets.token_urlsafe(64)},
        "not JSON",
    ],
)
def test_a_secrets_file_with_a_short_key_is_replaced(folders, monkeypatch, capsys, previous):
    stack = stack_module(folders, monkeypatch)
    stack.HOME.mkdir(parents=True)
    stack.SECRETS.write_text(previous if isinstance(previous, str) else json.dumps(previous))
    env = stack.stack_env()
    keys = json.loads(stack.SECRETS.read_text())
    assert [len(_decoded(keys[name])) for name in ("jwt", "api")] == [64, 64]
    assert [env[name] for name in SECRET_NAMES] == [keys["jwt"], keys["api"]]
    old = [] if isinstance(previous, str) else list(previous.values())
    assert [value for value in old if value in keys.values()] == []  # every key new, the long one too
    printed = capsys.readouterr().out
    assert "stack-secrets.json: keys shorter than 64 bytes replaced by new ones (log in again)" in printed
    assert [value for value in [*old, *keys.values()] if value in printed] == []  # no key printed


def test_the_smtp_sink_gets_no_secret_and_no_connection(folders, monkeypatch):
    store = "postgresql+psycopg2://par:S3cret-store-pw@db.example/par_campaign"
    stack = stack_module(folders | {"PAR_STORE_URL": store}, monkeypatch)
    env = stack.stack_env()
    assert store in env["AIRFLOW_CONN_PAR_CAMPAIGN_DB"]
    sink = stack.children(env)["smtp-sink"][1]
    assert sorted(k for k in sink if k.startswith(("AIRFLOW", "PAR_"))) == []
    assert [
        name for name in (*SECRET_NAMES, "AIRFLOW_CONN_PAR_CAMPAIGN_DB") if env[name] in sink.values()
    ] == []
    assert sink["PYTHONPATH"] == str(stack.ROOT / "dev")  # the development package only
    # exactly: the path, the locale, a rehearsal's clock and the sink's own package
    given = {
        "PATH": "/usr/bin:/bin",
        "LANG": "vi_VN.UTF-8",
        "HOME": "/home/cchc",
        "LD_PRELOAD": "libfaketime.so.1",
        "FAKETIME_TIMESTAMP_FILE": "/tmp/clock",
        "FAKETIME_NO_CACHE": "1",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AIRFLOW__API_AUTH__JWT_SECRET": "j",
        "AIRFLOW__API__SECRET_KEY": "k",
        "AIRFLOW_CONN_PAR_SMTP": "smtp://cchc:pw@mail.example",
        "PAR_STORE_URL": store,
    }
    assert stack.sink_env(given) == {
        "PATH": "/usr/bin:/bin",
        "LANG": "vi_VN.UTF-8",
        "LD_PRELOAD": "libfaketime.so.1",
        "FAKETIME_TIMESTAMP_FILE": "/tmp/clock",
        "FAKETIME_NO_CACHE": "1",
        "PYTHONPATH": str(stack.ROOT / "dev"),
    }


def test_the_log_servers_get_no_jwt_secret_and_no_connection(folders, monkeypatch):
    stack = stack_module(folders | {"PAR_STORE_URL": "sqlite:////tmp/store.sqlite"}, monkeypatch)
    env = stack.stack_env()
    for name in ("worker-log-server", "trigger-log-server"):
        child = stack.children(env)[name][1]
        assert sorted(k for k in child if k.startswith("AIRFLOW_CONN_")) == [], name
        assert ("AIRFLOW__API_AUTH__JWT_SECRET" in child, child["AIRFLOW__API__SECRET_KEY"]) == (
            False,
            env["AIRFLOW__API__SECRET_KEY"],
        )  # it checks the api-server's signed requests with this one
