"""Campaign store (SQLAlchemy 2 + Alembic)."""

from par_index.store.db import default_url, migrate, session_scope

__all__ = ["default_url", "migrate", "session_scope"]
