"""inbox entries (what intake saw at each path); a received file is unique per content and name, its size 64-bit

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("path_key", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("form_kind", sa.String(length=32), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["file_id"], ["received_files.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "path_key"),
    )
    op.create_index("ix_inbox_entries_campaign_id", "inbox_entries", ["campaign_id"])
    _swap_unique(["campaign_id", "sha256"], ["campaign_id", "sha256", "original_name"])


def downgrade() -> None:
    _swap_unique(["campaign_id", "sha256", "original_name"], ["campaign_id", "sha256"])
    op.drop_index("ix_inbox_entries_campaign_id", table_name="inbox_entries")
    op.drop_table("inbox_entries")


def _swap_unique(old: list[str], new: list[str]) -> None:
    """Replace received_files' unique constraint on ``old`` by one on ``new``. The first migration left it
    unnamed: PostgreSQL named it itself (found by reflection); SQLite keeps no name, so the table is rebuilt with a
    naming convention that gives the reflected constraint one."""
    found = [
        uc["name"]
        for uc in sa.inspect(op.get_bind()).get_unique_constraints("received_files")
        if uc["column_names"] == old
    ]
    convention = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
    name = found[0] if found and found[0] else "uq_received_files_" + "_".join(old)
    with op.batch_alter_table("received_files", naming_convention=convention) as batch_op:
        batch_op.drop_constraint(name, type_="unique")
        batch_op.create_unique_constraint("uq_received_files_" + "_".join(new), new)
        # a file refused from its size alone is recorded with it: sizes over 2 GB need 64 bits
        batch_op.alter_column(
            "size_bytes",
            type_=sa.BigInteger() if "original_name" in new else sa.Integer(),
            existing_nullable=False,
        )
