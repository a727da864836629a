"""Where a test's databases live: SQLite files by default; on the second pass (``tools/postgres_pass.py`` sets
``PAR_TEST_POSTGRES``) a new empty database on a real PostgreSQL for each caller, and the stack under the
CeleryExecutor with a real Redis (``PAR_TEST_CELERY_BROKER``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("PAR_TEST_POSTGRES")  # admin URL of the pass's PostgreSQL
CELERY_BROKER = os.environ.get("PAR_TEST_CELERY_BROKER")


def fresh_database(folder: Path, name: str) -> str:
    """SQLAlchemy URL of a new, empty database: ``folder/name.sqlite``, or ``name_<random>`` on PostgreSQL."""
    if not POSTGRES:
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / f'{name}.sqlite'}"
    database = f"{name}_{secrets.token_hex(4)}"
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    return make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)


def stack_settings(folder: Path) -> dict[str, str]:
    """Environment for tools/stack.py on the second pass: metadata DB and campaign store on PostgreSQL, the
    CeleryExecutor with Redis. Empty on the default pass (SQLite, LocalExecutor)."""
    if not POSTGRES:
        return {}
    settings = {
        "PAR_METADATA_DB_URL": fresh_database(folder, "airflow_meta"),
        "PAR_STORE_URL": fresh_database(folder, "par_store"),
    }
    if CELERY_BROKER:
        settings["PAR_CELERY_BROKER"] = CELERY_BROKER
    return settings


# Columns whose values depend on when or in which order a run happened, not on what it stored.
VOLATILE = {
    "synced_at",
    "registered_at",
    "last_attempt_at",
    "attempts",
    "sent_at",
    "finished_at",
    "found_at",
    "closed_at",
    "seen_at",
    "created_at",
    "decided_at",
    "delivered_at",
    "checked_at",
    "queued_at",
}
# The report's files carry the moment they were written (Office metadata, zip entry times): equal facts, other bytes.
VOLATILE_IN = {"report_versions": {"sha256"}, "notifications": {"attachments"}}


def canonical_dump(url: str, data_dir: Path | None = None) -> dict[str, list[tuple]]:
    """Every table of the campaign store as sorted rows, without surrogate keys (``id`` and references to other
    rows' ids: PostgreSQL spends sequence numbers on rolled-back transactions), wall-clock columns and the data folder's own path: two stores holding the same facts give
    equal dumps."""
    from par_index.store.models import Base

    engine = create_engine(url)
    dump = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            keep = [
                c
                for c in table.columns
                if not (
                    c.name == "id"
                    or c.name in VOLATILE | VOLATILE_IN.get(table.name, set())
                    or any(fk.column.table.name != "campaigns" for fk in c.foreign_keys)
                )
            ]
            rows = []
            for row in conn.execute(table.select().with_only_columns(*keep)):
                rows.append(
                    tuple(repr(v).replace(str(data_dir), "<data>") if data_dir else repr(v) for v in row)
                )
            dump[table.name] = sorted(rows)
    engine.dispose()
    return dump
