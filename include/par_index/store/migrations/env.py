"""Alembic environment for the campaign store; the connection comes from ``par_index.store.db.migrate``."""

from typing import cast

from alembic import context
from par_index.store.models import Base
from sqlalchemy import create_engine

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # command-line use: ``alembic -x url=sqlite:///... upgrade head``
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    connection = create_engine(cast(str, url)).connect()

context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
