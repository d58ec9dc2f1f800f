"""Sessions (issue 18 §4) and security events (§5): a user sees and ends their own sessions, an
administrator any user's, each at once; expired sessions are purged on a schedule; logins, logouts,
session ends and exports of personal data are in the audit log and JSON log lines a SIEM takes."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from crm_core import users
from dashboards.app import build_app
from dashboards.json_logs import JsonFormatter
from dashboards.settings import DashboardSettings
from tests.integration.dashboards.conftest import PASSWORD
from tests.support.engine import eventually


async def second_session(web, login: str) -> dict[str, str]:
    response = await web.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_a_user_sees_and_ends_their_own_other_session(engine, web, login_as):
    operator = await login_as("cc_operator")
    phone = await second_session(web, operator.login)
    assert (await web.get("/api/v1/me", headers=phone)).status == 200  # cached from now on
    listed = (await (await web.get("/api/v1/me/sessions", headers=operator.headers)).json())["sessions"]
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    other = next(s["id"] for s in listed if not s["current"])
    assert (await web.post(f"/api/v1/me/sessions/{other}/end", headers=operator.headers)).status == 204
    assert (await web.get("/api/v1/me", headers=phone)).status == 401
    assert (await web.get("/api/v1/me", headers=operator.headers)).status == 200
    assert (await web.post(f"/api/v1/me/sessions/{other}/end", headers=operator.headers)).status == 404


async def test_an_administrator_ends_every_session_of_a_user(engine, web, login_as):
    admin = await login_as("admin")
    operator = await login_as("cc_operator")
    await second_session(web, operator.login)
    listed = await (await web.get(f"/api/v1/admin/users/{operator.id}/sessions", headers=admin.headers)).json()
    assert len(listed["sessions"]) == 2
    assert (await web.get(f"/api/v1/admin/users/{operator.id}/sessions", headers=operator.headers)).status == 403
    ended = await web.post(f"/api/v1/admin/users/{operator.id}/sessions/end", headers=admin.headers)
    assert (await ended.json())["ended"] == 2
    assert (await web.get("/api/v1/me", headers=operator.headers)).status == 401


async def test_expired_sessions_are_purged_on_a_schedule(engine):
    async with engine.db.begin() as conn:
        user_id = await users.create_user(conn, login="purge-me", full_name="П", role="cc_operator", password="x")
        live, _ = await users.open_session(conn, user_id, timedelta(hours=1))
        await users.open_session(conn, user_id, timedelta(hours=1))
        await conn.execute(text("UPDATE user_sessions SET expires_at = :t WHERE user_id = :u AND token_sha256 <> :k"),
                           {"t": datetime.now(UTC) - timedelta(minutes=1), "u": user_id, "k": users.token_digest(live)})
    settings = dataclasses.replace(DashboardSettings.load(engine.settings.config_dir), session_purge_every_s=0.2)
    client = TestClient(TestServer(build_app(engine, settings), host="127.0.0.1", port=0))
    await client.start_server()
    try:
        async def purged():
            async with engine.db.connect() as conn:
                left = (await conn.execute(text("SELECT token_sha256 FROM user_sessions WHERE user_id = :u"),
                                           {"u": user_id})).scalars().all()
            return left == [users.token_digest(live)]

        await eventually(purged)
    finally:
        await client.close()


async def test_logins_logouts_and_exports_are_security_events(engine, web, login_as, caplog):
    with caplog.at_level(logging.INFO, logger="switchboard.security"):
        refused = await web.post("/api/v1/auth/login", json={"login": "admin", "password": "wrong"})
        assert refused.status == 401
        supervisor = await login_as("supervisor")
        export = await web.get("/api/v1/exports/tickets.csv", headers=supervisor.headers)
        assert export.status == 200
        await export.read()
        assert (await web.post("/api/v1/auth/logout", headers=supervisor.headers)).status == 204
    async with engine.db.connect() as conn:
        rows = (await conn.execute(text("SELECT actor, action, entity_id, after FROM audit_log"
                                        " WHERE entity = 'security' ORDER BY id"))).all()
    assert [r.action for r in rows] == ["login.failed", "login.succeeded", "export.personal_data", "logout"]
    failed, succeeded, exported, _ = rows
    assert failed.actor == "anonymous" and failed.after["login"] == "admin" and failed.after["method"] == "password"
    assert failed.after["remote"] == "127.0.0.1"
    assert succeeded.actor == f"user:{supervisor.id}" and succeeded.after["method"] == "password"
    assert exported.after["format"] == "csv" and exported.after["by_user"] == supervisor.id

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "switchboard.security"]
    assert [line["event"]["action"] for line in lines] == [r.action for r in rows]
    assert lines[0]["logger"] == "switchboard.security" and lines[0]["event"]["login"] == "admin"
