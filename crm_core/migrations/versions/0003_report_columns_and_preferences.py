"""report columns kept by triggers, report indexes, user preferences

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 07:30:00.000000

Reports read one pass over a period's tickets, so what they need of other tables is kept on the ticket:

- ``assigned_at`` / ``waited_s``: the first ``assigned`` event's time and queue wait (AHT, ASA,
  abandonment), set by a trigger on ``ticket_events``;
- ``repeat_contacts``: how many later tickets link to this one as a repeat contact (FCR), kept by
  statement triggers on ``ticket_links``.

Wall layouts and other per-user settings move from a file of one gateway into ``user_preferences``.
"""
import json
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Events arrive in time order, so the first one wins (COALESCE); a wait that is not a JSON number is
# left out rather than failing the actor's transaction.
FIRST_ASSIGNMENT = """
CREATE FUNCTION tickets_take_first_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    waited double precision := CASE WHEN jsonb_typeof(NEW.data -> 'waited_s') = 'number'
                                    THEN (NEW.data ->> 'waited_s')::double precision END;
BEGIN
    UPDATE tickets SET assigned_at = COALESCE(assigned_at, NEW.at), waited_s = COALESCE(waited_s, waited)
     WHERE id = NEW.ticket_id AND (assigned_at IS NULL OR (waited_s IS NULL AND waited IS NOT NULL));
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_events_first_assignment AFTER INSERT ON ticket_events
    FOR EACH ROW WHEN (NEW.kind = 'assigned') EXECUTE FUNCTION tickets_take_first_assignment();
"""

# One statement may link a new ticket to many earlier ones of the client; two such statements for the
# same client lock those tickets in id order, so they queue behind each other instead of deadlocking.
REPEAT_CONTACTS = """
CREATE FUNCTION tickets_count_repeat_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    step integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    PERFORM 1 FROM tickets WHERE id IN (SELECT related_ticket_id FROM changed WHERE kind = 'repeat')
      ORDER BY id FOR NO KEY UPDATE;
    UPDATE tickets t SET repeat_contacts = t.repeat_contacts + step * c.links
      FROM (SELECT related_ticket_id, count(*) AS links FROM changed WHERE kind = 'repeat'
             GROUP BY related_ticket_id) c
     WHERE t.id = c.related_ticket_id;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_links_repeat_added AFTER INSERT ON ticket_links REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_count_repeat_contacts();
CREATE TRIGGER ticket_links_repeat_removed AFTER DELETE ON ticket_links REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_count_repeat_contacts();
"""

BACKFILL = """
UPDATE tickets t SET assigned_at = a.first_at, waited_s = a.waited
  FROM (SELECT ticket_id, min(at) AS first_at,
               (array_agg((data ->> 'waited_s')::double precision ORDER BY at, id)
                  FILTER (WHERE jsonb_typeof(data -> 'waited_s') = 'number'))[1] AS waited
          FROM ticket_events WHERE kind = 'assigned' GROUP BY ticket_id) a
 WHERE t.id = a.ticket_id;
UPDATE tickets t SET repeat_contacts = l.links
  FROM (SELECT related_ticket_id, count(*) AS links FROM ticket_links WHERE kind = 'repeat'
         GROUP BY related_ticket_id) l
 WHERE t.id = l.related_ticket_id;
"""

# The planner cannot guess how many buckets a time series has; without these it plans a month of
# tickets as a million groups (one process, sorting or spilling) instead of a few dozen.  They are the
# expressions crm_core.reports groups by, written the same way.
BUCKET_EXPRESSIONS = {
    "hour": "date_bin(INTERVAL '1 hour', created_at, TIMESTAMPTZ '2001-01-01 00:00:00+00')",
    "day": "date_bin(INTERVAL '1 day', created_at, TIMESTAMPTZ '2001-01-01 00:00:00+00')",
    "week": "date_bin(INTERVAL '7 days', created_at, TIMESTAMPTZ '2001-01-01 00:00:00+00')",
    "month": "date_trunc('month', timezone('UTC', created_at))",
}

OPEN = "status NOT IN ('resolved', 'closed')"
LEGACY_LAYOUTS = Path("dashboards") / "layouts.json"


def upgrade() -> None:
    op.add_column('tickets', sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('waited_s', sa.Float(), nullable=True))
    op.add_column('tickets', sa.Column('repeat_contacts', sa.Integer(), server_default='0', nullable=False))
    op.execute(FIRST_ASSIGNMENT)
    op.execute(REPEAT_CONTACTS)
    op.execute(BACKFILL)
    op.create_index('ix_tickets_agent_resolved', 'tickets', ['agent_id', 'resolved_at'], unique=False)
    op.create_index('ix_tickets_agent_open', 'tickets', ['agent_id'], unique=False, postgresql_where=OPEN)
    for bucket, expression in BUCKET_EXPRESSIONS.items():
        op.execute(f"CREATE STATISTICS st_tickets_created_{bucket} ON ({expression}) FROM tickets")
    op.execute("ANALYZE tickets")
    op.create_table('user_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key')
    )
    _import_legacy_layouts()


def _import_legacy_layouts() -> None:
    """Wall layouts a gateway kept in ``<data dir>/dashboards/layouts.json`` ({"user:role": widgets})
    become ``wall.layout.<role>`` preferences of users that still exist; the file is left in place."""
    path = Path(os.environ.get("SWITCHBOARD_DATA", "var")) / LEGACY_LAYOUTS
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return
    rows = [{"user_id": int(user), "key": f"wall.layout.{role}", "value": json.dumps(widgets)}
            for key, widgets in (saved.items() if isinstance(saved, dict) else ())
            for user, _, role in [str(key).partition(":")]
            if user.isdigit() and role and isinstance(widgets, list)]
    if rows:
        op.get_bind().execute(sa.text(
            "INSERT INTO user_preferences (user_id, key, value) SELECT :user_id, :key, CAST(:value AS jsonb)"
            " WHERE EXISTS (SELECT 1 FROM users WHERE id = :user_id) ON CONFLICT DO NOTHING"), rows)


def downgrade() -> None:
    op.drop_table('user_preferences')
    for bucket in BUCKET_EXPRESSIONS:
        op.execute(f"DROP STATISTICS st_tickets_created_{bucket}")
    op.drop_index('ix_tickets_agent_open', table_name='tickets')
    op.drop_index('ix_tickets_agent_resolved', table_name='tickets')
    op.execute("DROP TRIGGER ticket_links_repeat_removed ON ticket_links")
    op.execute("DROP TRIGGER ticket_links_repeat_added ON ticket_links")
    op.execute("DROP FUNCTION tickets_count_repeat_contacts()")
    op.execute("DROP TRIGGER ticket_events_first_assignment ON ticket_events")
    op.execute("DROP FUNCTION tickets_take_first_assignment()")
    op.drop_column('tickets', 'repeat_contacts')
    op.drop_column('tickets', 'waited_s')
    op.drop_column('tickets', 'assigned_at')
