"""Nothing open by default: wrong logins are throttled per account and per address without hashing, the
user hears of them at the next login; a cookie-authenticated write must come from the gateway's own pages
as JSON; every answer carries the browser security headers and no page runs inline script."""

from __future__ import annotations

import re
from dataclasses import replace

from crm_core import users
from dashboards.context import GATEWAY
from dashboards.routes.pages import STATIC_DIR
from dashboards.security import PAGE_POLICY
from tests.integration.dashboards.conftest import PASSWORD, make_user


async def login(web, name: str, password: str, **headers):
    web.session.cookie_jar.clear()  # a fresh browser: no session cookie rides on the login
    return await web.post("/api/v1/auth/login", json={"login": name, "password": password}, headers=headers)


async def test_wrong_logins_are_throttled_unhashed_and_the_user_is_told_at_the_next_login(engine, web, monkeypatch):
    _, name = await make_user(engine, "cc_operator")
    hashes = []
    real_verify = users.verify_password
    monkeypatch.setattr(users, "verify_password", lambda stored, password: hashes.append(1) or real_verify(stored, password))
    for _ in range(5):  # config/dashboards.toml: free_failures = 5
        assert (await login(web, name, "wrong")).status == 401
    assert len(hashes) == 5
    throttled = await login(web, name, PASSWORD)
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert (await throttled.json())["error"] == "too_many_logins"
    assert len(hashes) == 5  # a throttled try costs no hash

    guard = web.server.app[GATEWAY].logins
    guard.clock = lambda: 10**9  # the wait is over
    welcome = await login(web, name, PASSWORD, Cookie="sb_lang=en")
    assert welcome.status == 200
    notice = (await welcome.json())["notice"]
    assert notice["count"] == 5 and "5 failed login attempts" in notice["message"]
    again = await login(web, name, PASSWORD)
    assert "notice" not in await again.json()


async def test_wrong_logins_from_one_address_are_throttled_across_accounts(engine, web):
    for n in range(6):
        response = await login(web, f"nobody-{n}", "wrong")
    assert response.status == 429


async def test_a_cookie_write_from_a_foreign_origin_or_as_a_form_is_refused(engine, web, login_as):
    operator = await login_as("cc_operator")
    cookie = {"Cookie": f"sb_session={operator.token}"}
    host = f"http://{web.server.host}:{web.server.port}"
    note = {"text": "Клієнт передзвонить"}
    foreign = await web.post("/api/v1/auth/logout", data="x=1", headers={
        **cookie, "Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"})
    assert foreign.status == 403 and (await foreign.json())["error"] == "cross_origin"
    no_origin = await web.post("/api/v1/auth/logout", json=note, headers=cookie)
    assert no_origin.status == 403
    form = await web.post("/api/v1/auth/logout", data="x=1", headers={
        **cookie, "Origin": host, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415 and (await form.json())["error"] == "json_required"
    assert (await web.get("/api/v1/me", headers=cookie)).status == 200  # none of them ended the session
    own = await web.post("/api/v1/auth/logout", headers={**cookie, "Referer": f"{host}/desktop",
                                                         "Content-Type": "application/json"})
    assert own.status == 204
    other = await login_as("cc_operator")
    bearer = await web.post("/api/v1/auth/logout", headers=other.headers)
    assert bearer.status == 204  # a bearer token is not sent by a browser on its own


async def test_answers_carry_security_headers_and_pages_have_no_inline_script(web):
    for path in ("/login", "/api/v1/i18n/uk"):
        response = await web.get(path)
        assert response.headers["Content-Security-Policy"] == PAGE_POLICY
        assert "frame-ancestors 'none'" in PAGE_POLICY and "unsafe-inline" not in PAGE_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    for page in STATIC_DIR.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.name
        assert not re.search(r"\son[a-z]+\s*=", html), page.name
        assert not re.search(r"\sstyle\s*=|<style", html), page.name


async def test_the_session_cookie_is_secure_behind_a_tls_proxy(engine, web):
    _, name = await make_user(engine, "cc_operator")
    plain = await login(web, name, PASSWORD)
    assert "Secure" not in plain.headers["Set-Cookie"]
    proxied = await login(web, name, PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert "Secure" not in proxied.headers["Set-Cookie"]  # a forged header is not TLS
    gw = web.server.app[GATEWAY]
    gw.settings = replace(gw.settings, behind_tls_proxy=True)
    secure = await login(web, name, PASSWORD)
    assert "Secure" in secure.headers["Set-Cookie"]
