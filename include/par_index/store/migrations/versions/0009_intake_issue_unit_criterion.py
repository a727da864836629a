"""an intake issue of a multi-unit file names the unit and criterion of its row (a software score that cannot be
read is a finding of that unit)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_issues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("criterion_code", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_issues", schema=None) as batch_op:
        batch_op.drop_column("criterion_code")
        batch_op.drop_column("unit_code")
