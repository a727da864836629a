"""Engine and sessions for the campaign store; schema upgrades through Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from par_index.paths import data_dir

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def default_url() -> str:
    """SQLite file in the data folder; used when no ``par_campaign_db`` connection exists."""
    path = data_dir() / "campaign_store.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """An engine for the store at ``url`` (SQLite: foreign keys, WAL, BEGIN IMMEDIATE)."""
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # Several tasks write at once: take SQLite's write lock at the start of each transaction (BEGIN
        # IMMEDIATE) so that a transaction never reads a state that another writer changes before it commits.
        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, issues BEGIN
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(url: str, revision: str = "head", downgrade: bool = False) -> None:
    """Bring the store at ``url`` to ``revision`` (default: the newest schema; idempotent). ``downgrade`` goes back
    instead (an operator undoing a release)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection_url"] = url
    with _migration_connection(url) as connection:
        config.attributes["connection"] = connection
        (command.downgrade if downgrade else command.upgrade)(config, revision)


@contextmanager
def _migration_connection(url: str) -> Iterator[Connection]:
    """One transaction for the whole migration. On SQLite, foreign keys are off meanwhile (as SQLite's own
    procedure for schema changes says): a batch migration rebuilds a table that others reference, and dropping
    the old copy must neither fail nor cascade. They are checked once the migration has committed."""
    engine = engine_for(url)
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection  # sqlite3's connection
        raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction: inside one it would change nothing
        try:
            with connection.begin():
                yield connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
    if broken:
        raise RuntimeError(f"campaign store: foreign keys broken by the migration: {broken[:5]}")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on error."""
    session = sessionmaker(engine_for(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
