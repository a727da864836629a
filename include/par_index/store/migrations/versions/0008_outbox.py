"""the notification ledger becomes an outbox: Message-ID, Reply-To and enqueueing time; mail recorded while mail
was not configured ("disabled") is queued again, to go out once it is

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE notifications SET outcome = 'queued' WHERE outcome IN ('disabled', 'pending')")


def downgrade() -> None:
    op.execute("UPDATE notifications SET outcome = 'disabled' WHERE outcome = 'queued'")
    op.execute("UPDATE notifications SET outcome = 'failed' WHERE outcome IN ('sending', 'dropped')")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("queued_at")
        batch_op.drop_column("reply_to")
        batch_op.drop_column("message_id")
