"""conversations by thread, open or closed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:00:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The newest conversation of a thread whatever its status: a call's late events after its ticket
    # closed, a web-chat transcript.  The unique index covers open conversations only.
    op.create_index("ix_conversations_thread", "conversations", ["thread_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_thread", table_name="conversations")
