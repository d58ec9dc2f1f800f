"""parked items: what a channel received but could not store or read after bounded attempts; the
running totals of items the intake stored but skipped on purpose (bounces, auto-replies, malformed mail)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_items",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("raw", BYTEA, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("replayed_at", sa.DateTime(timezone=True)),
        sa.Column("inbox_id", sa.BigInteger),
    )
    # By a digest of the key: a key too long for a btree must not make parking refuse the item too.
    op.execute("CREATE UNIQUE INDEX ux_parked_items_key ON parked_items (channel, md5(item_key))")
    op.create_index("ix_parked_items_waiting", "parked_items", ["id"], postgresql_where=sa.text("replayed_at IS NULL"))
    op.create_table(
        "intake_skips",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("total", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intake_skips")
    op.drop_table("parked_items")
