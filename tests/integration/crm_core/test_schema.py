import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm_core.database import sync_engine


@pytest.fixture
def engine(db_url):
    engine = sync_engine(db_url)
    yield engine
    engine.dispose()


def test_audit_log_refuses_update_delete_and_truncate(engine):
    with engine.begin() as conn:
        entry = conn.execute(text(
            "INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('user:1', 'edit', 'client', '7')"
            " RETURNING id")).scalar_one()
    for statement in (f"UPDATE audit_log SET actor = 'x' WHERE id = {entry}",
                      f"DELETE FROM audit_log WHERE id = {entry}", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log WHERE id = :i"), {"i": entry}).scalar() == "user:1"


def test_ticket_origin_is_fixed(engine):
    with engine.begin() as conn:
        ticket = conn.execute(text(
            "INSERT INTO tickets (number, conversation_id, channel, client_id, identified, type, priority,"
            " status, attributes) VALUES ('T-1', 1, 'telegram', 5, true, 'request', 'normal', 'new', '{}')"
            " RETURNING id")).scalar_one()
        conn.execute(text("UPDATE tickets SET status = 'in_progress' WHERE id = :i"), {"i": ticket})
    for change in ("channel = 'email'", "client_id = 6", "created_at = now() - interval '1 day'"):
        with pytest.raises(DBAPIError, match="fixed"), engine.begin() as conn:
            conn.execute(text(f"UPDATE tickets SET {change} WHERE id = :i"), {"i": ticket})
