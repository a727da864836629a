"""Airflow's task log server on one address. ``airflow scheduler``, ``airflow triggerer`` and ``airflow celery
worker`` start theirs on every interface (Airflow 3.3 has no setting for its host); the embedded stack
(``tools/stack.py``) starts them with ``--skip-serve-logs`` and runs this instead, on its bind host.

Light on purpose: :func:`hostname` is the stack's ``[core] hostname_callable``, imported by every component."""

from __future__ import annotations

import argparse

WILDCARDS = ("0.0.0.0", "::", "")


def hostname() -> str:
    """Where the other components reach this machine's log servers (``ti.hostname``): the address the stack binds
    (``[api] host``), or this machine's name when it binds every interface."""
    from airflow.configuration import conf

    host = conf.get("api", "host", fallback="0.0.0.0").strip()
    if host in WILDCARDS:
        from airflow.utils.net import getfqdn

        return getfqdn()
    return host


def main() -> None:
    """Serve Airflow's task logs on the given address and port."""
    parser = argparse.ArgumentParser(description="Airflow's task log server on one address")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn
    from airflow.configuration import conf

    uvicorn.run(
        "airflow.utils.serve_logs.log_server:get_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level=conf.get("logging", "uvicorn_logging_level", fallback="info").lower(),
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
