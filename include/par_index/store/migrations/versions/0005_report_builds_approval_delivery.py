"""report builds: approval and delivery of the provincial report

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_builds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "number"),
    )
    op.create_index("ix_report_builds_campaign_id", "report_builds", ["campaign_id"])
    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("build_id", sa.Integer(), nullable=True))
        batch_op.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=32))
        batch_op.create_index("ix_report_versions_build_id", ["build_id"])
        batch_op.create_foreign_key("fk_report_versions_build_id", "report_builds", ["build_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_report_versions_build_id", type_="foreignkey")
        batch_op.drop_index("ix_report_versions_build_id")
        batch_op.alter_column("kind", existing_type=sa.String(length=32), type_=sa.String(length=16))
        batch_op.drop_column("build_id")
    op.drop_index("ix_report_builds_campaign_id", table_name="report_builds")
    op.drop_table("report_builds")
