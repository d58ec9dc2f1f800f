"""Login, sessions, roles and the clear refusals of the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from crm_core.users import token_digest
from dashboards.context import GATEWAY
from tests.integration.dashboards.conftest import PASSWORD, make_user


async def test_login_opens_a_session_usable_as_bearer_and_cookie(engine, web):
    _, login = await make_user(engine, "supervisor")
    response = await web.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert response.status == 200
    body = await response.json()
    assert body["user"]["role"] == "supervisor" and len(body["token"]) > 30
    assert "sb_session" in response.cookies and response.cookies["sb_session"]["httponly"]

    me = await web.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status == 200
    data = await me.json()
    assert data["login"] == login and "wall.view" in data["permissions"]
    assert data["menu"] == ["desktop", "wall", "tickets", "reports", "audit"] and data["lang"] == "uk"
    # the cookie set by the login works as well (the client keeps it)
    assert (await web.get("/api/v1/me")).status == 200

    async with engine.db.connect() as conn:
        stored = (await conn.execute(text("SELECT password_hash FROM users WHERE login = :l"), {"l": login})).scalar()
        tokens = (await conn.execute(text("SELECT token_sha256 FROM user_sessions"))).scalars().all()
    assert stored.startswith("$argon2id$")
    assert token_digest(body["token"]) in tokens and body["token"] not in tokens


async def test_wrong_password_and_unknown_login_are_refused_alike(engine, web):
    _, login = await make_user(engine, "cc_operator")
    for credentials in ({"login": login, "password": "wrong"}, {"login": "nobody", "password": PASSWORD}):
        response = await web.post("/api/v1/auth/login", json=credentials)
        assert response.status == 401
        body = await response.json()
        assert body["error"] == "invalid_credentials" and body["message"] == "Невірний логін або пароль"
        assert "token" not in body


async def test_without_a_session_the_api_answers_401_and_an_expired_session_says_so(engine, web, login_as):
    response = await web.get("/api/v1/agents/me")
    assert response.status == 401 and (await response.json())["error"] == "unauthenticated"

    user = await login_as("cc_operator")
    async with engine.db.begin() as conn:
        await conn.execute(text("UPDATE user_sessions SET expires_at = :t WHERE user_id = :u"),
                           {"t": datetime.now(UTC) - timedelta(seconds=1), "u": user.id})
    web.app[GATEWAY].sessions.entries.clear()  # the short in-memory cache would still know the session
    response = await web.get("/api/v1/me", headers=user.headers)
    assert response.status == 401
    body = await response.json()
    assert body["error"] == "session_expired" and "Traceback" not in await response.text()


async def test_logout_ends_the_session_at_once(web, login_as):
    user = await login_as("supervisor")
    assert (await web.get("/api/v1/me", headers=user.headers)).status == 200
    assert (await web.post("/api/v1/auth/logout", headers=user.headers)).status == 204
    assert (await web.get("/api/v1/me", headers=user.headers)).status == 401


async def test_a_role_without_the_right_gets_403_naming_it(web, login_as):
    operator = await login_as("cc_operator")
    for path in ("/api/v1/supervisor/snapshot", "/api/v1/supervisor/actors", "/api/v1/reports/summary",
                 "/api/v1/exports/tickets.csv"):
        response = await web.get(path, headers=operator.headers)
        assert response.status == 403, path
        body = await response.json()
        assert body["error"] == "forbidden" and body["detail"]
    marketer = await login_as("marketer")
    response = await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=marketer.headers)
    assert response.status == 403
    assert (await web.get("/api/v1/clients/search?phone=0671234567", headers=marketer.headers)).status == 403


async def test_bad_bodies_get_a_clear_reason_in_the_chosen_language(web, login_as):
    user = await login_as("cc_operator")
    cases = [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 400, "invalid_body"),
        (b'{"state": "available", "mood": "great"}', 400, "unknown_field"),
        (b'{"state": "dancing"}', 400, "invalid_field"),
        (b'{"state": "break"}', 400, "missing_field"),
        (b'{"state": 5}', 400, "invalid_field"),
        (b'{"state": "available", "reason": "' + b"x" * 70_000 + b'"}', 413, "body_too_large"),
    ]
    for raw, status, code in cases:
        response = await web.post("/api/v1/agents/me/state?lang=en", data=raw, headers=user.headers)
        assert response.status == status, (raw[:40], await response.text())
        body = await response.json()
        assert body["error"] == code
        assert body["message"] and not body["message"].startswith("error.")
    english = await (await web.post("/api/v1/agents/me/state?lang=en", data=b"{", headers=user.headers)).json()
    assert english["message"] == "The request body is not valid JSON"


async def test_unknown_api_route_is_json_404(web):
    response = await web.get("/api/v1/nothing-here")
    assert response.status == 404 and (await response.json())["error"] == "not_found"
