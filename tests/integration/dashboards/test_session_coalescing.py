"""Many live screens of one person do not starve the API (issue: 2,000 supervisor streams opened at once
left most at 503 while /healthz stalled): concurrent session checks of one token are one database query,
so they hold one pooled connection, not one each."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from dashboards.context import GATEWAY

SCREENS = 300


async def test_concurrent_checks_of_one_token_are_one_query_and_all_answer(engine, web, login_as):
    supervisor = await login_as("supervisor")
    web.app[GATEWAY].sessions.entries.clear()  # nothing cached: every screen needs the session now
    session_queries = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "user_sessions" in statement:
            session_queries.append(statement)

    event.listen(engine.db.sync_engine, "before_cursor_execute", count)
    try:
        answers = await asyncio.gather(*(web.get("/api/v1/me", headers=supervisor.headers)
                                         for _ in range(SCREENS)))
    finally:
        event.remove(engine.db.sync_engine, "before_cursor_execute", count)
    assert [a.status for a in answers] == [200] * SCREENS
    assert len(session_queries) == 1, f"{len(session_queries)} session queries for {SCREENS} concurrent checks"


async def test_a_logout_during_a_check_is_not_undone_by_it(engine, web, login_as):
    supervisor = await login_as("supervisor")
    sessions = web.app[GATEWAY].sessions
    sessions.entries.clear()
    checking = asyncio.ensure_future(sessions.resolve(supervisor.token))
    await asyncio.sleep(0)
    assert (await web.post("/api/v1/auth/logout", headers=supervisor.headers)).status == 204
    await checking
    assert (await web.get("/api/v1/me", headers=supervisor.headers)).status == 401
