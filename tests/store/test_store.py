from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from par_index.store import migrate
from par_index.store.db import engine_for
from par_index.store.models import Base
from sqlalchemy import inspect


def test_migrations_build_exactly_the_models_schema(runtime):
    with engine_for(runtime.store_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_migrate_is_idempotent(runtime):
    migrate(runtime.store_url)
    tables = set(inspect(engine_for(runtime.store_url)).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}  # every model's table and Alembic's
