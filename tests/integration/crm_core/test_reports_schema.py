"""What migration 0003 keeps on the ticket row for reports (first assignment, repeat contacts), and that
it upgrades a database at 0002 that already holds tickets, events, links and a gateway's layouts file."""

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import crm_core
from crm_core import reports
from crm_core.database import async_engine, sync_engine
from crm_core.tickets_query import TicketFilter

TICKET = ("INSERT INTO tickets (number, conversation_id, channel, client_id, identified, type, priority, status,"
          " attributes) VALUES (:number, 1, 'telegram', 5, true, 'request', 'normal', 'new', '{}') RETURNING id")
EVENT = ("INSERT INTO ticket_events (ticket_id, at, author, kind, data)"
         " VALUES (:ticket, CAST(:at AS timestamptz), 'agent:3', :kind, CAST(:data AS jsonb))")
LINK = "INSERT INTO ticket_links (ticket_id, related_ticket_id, kind) VALUES (:later, :earlier, :kind)"
LINKS_OF = "SELECT repeat_contacts FROM tickets WHERE id = :t"


@pytest.fixture
def engine(db_url):
    engine = sync_engine(db_url)
    yield engine
    engine.dispose()


def _ticket(conn) -> int:
    return conn.execute(text(TICKET), {"number": f"R-{uuid.uuid4().hex[:10]}"}).scalar_one()


def _assignment(conn, ticket: int) -> tuple:
    return tuple(conn.execute(text("SELECT (assigned_at AT TIME ZONE 'UTC')::text, waited_s FROM tickets WHERE id = :t"),
                              {"t": ticket}).one())


def test_first_assignment_is_kept_on_the_ticket(engine):
    with engine.begin() as conn:
        ticket = _ticket(conn)
        conn.execute(text(EVENT), {"ticket": ticket, "at": "2026-10-01 10:00:00+00", "kind": "status",
                                   "data": '{"to": "in_progress"}'})
        assert _assignment(conn, ticket) == (None, None)
        conn.execute(text(EVENT), {"ticket": ticket, "at": "2026-10-01 10:05:00+00", "kind": "assigned",
                                   "data": '{"agent_id": 3, "queue": "billing", "waited_s": 42.5}'})
        conn.execute(text(EVENT), {"ticket": ticket, "at": "2026-10-01 11:00:00+00", "kind": "assigned",
                                   "data": '{"agent_id": 4, "queue": "billing", "waited_s": 7}'})
        assert _assignment(conn, ticket) == ("2026-10-01 10:05:00", 42.5)


def test_an_assignment_without_a_numeric_wait_neither_fails_nor_blocks_a_later_wait(engine):
    with engine.begin() as conn:
        ticket = _ticket(conn)
        conn.execute(text(EVENT), {"ticket": ticket, "at": "2026-10-02 09:00:00+00", "kind": "assigned",
                                   "data": '{"agent_id": 3, "waited_s": "soon", "reason": "named transfer"}'})
        assert _assignment(conn, ticket) == ("2026-10-02 09:00:00", None)
        conn.execute(text(EVENT), {"ticket": ticket, "at": "2026-10-02 09:30:00+00", "kind": "assigned",
                                   "data": '{"agent_id": 4, "waited_s": 12}'})
        assert _assignment(conn, ticket) == ("2026-10-02 09:00:00", 12.0)


def test_repeat_contacts_count_the_later_tickets_linking_back(engine):
    with engine.begin() as conn:
        first, second, third, fourth = (_ticket(conn) for _ in range(4))
        conn.execute(text(LINK), [{"later": third, "earlier": first, "kind": "repeat"},
                                  {"later": third, "earlier": second, "kind": "repeat"}])
        conn.execute(text(LINK + " ON CONFLICT DO NOTHING"), {"later": third, "earlier": first, "kind": "repeat"})
        conn.execute(text(LINK), {"later": fourth, "earlier": first, "kind": "repeat"})
        conn.execute(text(LINK), {"later": fourth, "earlier": second, "kind": "related"})
        assert [conn.execute(text(LINKS_OF), {"t": t}).scalar_one() for t in (first, second, third)] == [2, 1, 0]
        conn.execute(text("DELETE FROM ticket_links WHERE ticket_id = :t"), {"t": fourth})
        assert conn.execute(text(LINKS_OF), {"t": first}).scalar_one() == 1
        conn.execute(text("DELETE FROM tickets WHERE id = :t"), {"t": third})  # its links go with it
        assert [conn.execute(text(LINKS_OF), {"t": t}).scalar_one() for t in (first, second)] == [0, 0]


# --- upgrading a database at 0002 -----------------------------------------------------------------


@pytest.fixture
def empty_db_url(database_template):
    """A database with no schema at all, on the test server."""
    server = os.environ["SWITCHBOARD_TEST_SERVER_URL"]
    name = f"sbmig_{uuid.uuid4().hex[:12]}"
    admin = sync_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _alembic(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(crm_core.__file__).parent / "migrations"))
    driver_url = make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", driver_url.replace("%", "%%"))
    return cfg


def _seed_at_0002(conn) -> dict[str, int]:
    user = conn.execute(text("INSERT INTO users (login, full_name, role, password_hash, skills, queues, capacity,"
                             " active) VALUES ('sv', 'Олена', 'supervisor', 'x', '{}', '{}', '{}', true)"
                             " RETURNING id")).scalar_one()
    answered, abandoned, returned = (_ticket(conn) for _ in range(3))
    for at, data in (("2026-10-01 10:05:00+00", {"agent_id": 3, "waited_s": 30}),
                     ("2026-10-01 10:01:00+00", {"agent_id": 4, "reason": "picked by VICIdial"}),
                     ("2026-10-01 11:00:00+00", {"agent_id": 5, "waited_s": 90})):
        conn.execute(text(EVENT), {"ticket": answered, "at": at, "kind": "assigned", "data": json.dumps(data)})
    conn.execute(text(LINK), {"later": returned, "earlier": answered, "kind": "repeat"})
    return {"user": user, "answered": answered, "abandoned": abandoned, "returned": returned}


def test_upgrade_from_0002_backfills_and_imports_the_layouts_file(empty_db_url, tmp_path, monkeypatch):
    cfg = _alembic(empty_db_url)
    command.upgrade(cfg, "0002")
    engine = sync_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            ids = _seed_at_0002(conn)
        layouts = tmp_path / "dashboards" / "layouts.json"
        layouts.parent.mkdir()
        widgets = [{"kind": "agents", "filters": {"queue": "billing"}}]
        layouts.write_text(json.dumps({f"{ids['user']}:supervisor": widgets, "999999:supervisor": widgets,
                                       "not-a-user": widgets}), encoding="utf-8")
        monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))

        command.upgrade(cfg, "head")

        with engine.connect() as conn:
            assert _assignment(conn, ids["answered"]) == ("2026-10-01 10:01:00", 30.0)
            assert _assignment(conn, ids["abandoned"]) == (None, None)
            assert conn.execute(text(LINKS_OF), {"t": ids["answered"]}).scalar_one() == 1
            assert conn.execute(text(LINKS_OF), {"t": ids["returned"]}).scalar_one() == 0
            preferences = conn.execute(text("SELECT user_id, key, value FROM user_preferences")).all()
            assert [tuple(p) for p in preferences] == [(ids["user"], "wall.layout.supervisor", widgets)]
            with pytest.raises(DBAPIError, match="fixed"), conn.begin_nested():
                conn.execute(text("UPDATE tickets SET channel = 'email' WHERE id = :t"), {"t": ids["answered"]})
        assert layouts.exists()

        command.downgrade(cfg, "0002")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert _assignment(conn, ids["answered"]) == ("2026-10-01 10:01:00", 30.0)
    finally:
        engine.dispose()


# --- the planner knows how few buckets a time series has -------------------------------------------


async def test_time_series_buckets_are_estimated_from_statistics(fresh_db_url):
    start = datetime(2026, 10, 1, tzinfo=UTC)
    engine = async_engine(fresh_db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO tickets (number, conversation_id, channel, created_at, identified, type, priority,"
                " status, attributes) SELECT 'P-' || g, g, 'voice', :start + g * interval '97 seconds', false,"
                " 'request', 'normal', 'new', '{}' FROM generate_series(1, 5000) AS g"), {"start": start})
            await conn.execute(text("ANALYZE tickets"))

        def explain(conn, cursor, statement, parameters, context, executemany):
            return "EXPLAIN (FORMAT JSON) " + statement, parameters

        event.listen(engine.sync_engine, "before_cursor_execute", explain, retval=True)
        async with engine.connect() as conn:
            for bucket, buckets in (("hour", 24 * 6), ("day", 6), ("week", 2), ("month", 1)):
                plan = (await reports.time_series(conn, TicketFilter(), start, start + timedelta(days=31), bucket))
                estimated = plan[0]["QUERY PLAN"][0]["Plan"]["Plan Rows"]
                assert estimated <= 3 * buckets, (bucket, estimated)  # not one group per ticket
    finally:
        await engine.dispose()
