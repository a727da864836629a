"""collection failures; phase outcomes say whether their collection failed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_collection_failures_campaign_id", "collection_failures", ["campaign_id"])
    with op.batch_alter_table("phase_outcomes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("collection_failed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("phase_outcomes", schema=None) as batch_op:
        batch_op.drop_column("collection_failed")
    op.drop_index("ix_collection_failures_campaign_id", table_name="collection_failures")
    op.drop_table("collection_failures")
