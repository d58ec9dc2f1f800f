"""Health, Prometheus metrics, the OpenAPI document, locales, vocabularies and pages."""

from __future__ import annotations

from crm_core.database import async_engine
from dashboards.context import GATEWAY


async def test_healthz_reports_database_and_event_feed(web):
    response = await web.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": True, "events": True,
                                     "seq": web.app[GATEWAY].relay.seq}


async def test_healthz_says_degraded_when_the_database_is_gone(web):
    gateway = web.app[GATEWAY]
    real = gateway.services.db
    # a real engine aimed at a port where no PostgreSQL listens, as during a database restart
    gateway.services.db = async_engine("postgresql://postgres@127.0.0.1:9/switchboard", connect_args={"connect_timeout": 1})
    try:
        response = await web.get("/healthz")
        assert response.status == 503 and (await response.json())["database"] is False
        login = await web.post("/api/v1/auth/login", json={"login": "a", "password": "b"})
        assert login.status == 503
        body = await login.json()
        assert body["error"] == "database_unavailable" and login.headers["Retry-After"]
    finally:
        await gateway.services.db.dispose()
        gateway.services.db = real


async def test_metrics_count_requests_by_route_and_status(web, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_METRICS_TOKEN", "scrape-token-for-the-test")
    await web.get("/api/v1/me")
    text = await (await web.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-the-test"})).text()
    assert 'switchboard_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1.0' in text
    assert "switchboard_event_streams" in text and "switchboard_http_request_seconds_bucket" in text


async def test_metrics_are_closed_without_a_token_and_refuse_a_wrong_one(web, monkeypatch):
    monkeypatch.delenv("SWITCHBOARD_METRICS_TOKEN", raising=False)
    closed = await web.get("/metrics")
    assert closed.status == 403 and (await closed.json())["error"] == "metrics_closed"
    monkeypatch.setenv("SWITCHBOARD_METRICS_TOKEN", "scrape-token-for-the-test")
    for headers in ({}, {"Authorization": "Bearer guessed"}):
        refused = await web.get("/metrics", headers=headers)
        assert refused.status == 401 and "switchboard_http" not in await refused.text()


async def test_openapi_lists_every_route_with_bodies_and_permissions(web):
    doc = await (await web.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ("/api/v1/auth/login", "/api/v1/agents/me/state", "/api/v1/agents/me/offers/{offer_id}/accept",
                 "/api/v1/conversations/{conversation_id}/reply", "/api/v1/tickets", "/api/v1/tickets/{number}/history",
                 "/api/v1/supervisor/stream", "/api/v1/inbound/{source}", "/api/v1/reports/summary",
                 "/api/v1/exports/tickets.xlsx", "/healthz", "/metrics"):
        assert path in paths, path
    state = paths["/api/v1/agents/me/state"]["post"]
    assert state["x-permission"] == ["desktop"]
    schema = doc["components"]["schemas"]["AgentState"]
    assert schema["additionalProperties"] is False and schema["properties"]["state"]["enum"] == [
        "available", "break", "offline"]
    assert paths["/api/v1/auth/login"]["post"]["security"] == []


async def test_locales_are_complete_in_both_languages(web):
    uk = (await (await web.get("/api/v1/i18n/uk")).json())["strings"]
    en = (await (await web.get("/api/v1/i18n/en")).json())["strings"]
    assert set(uk) == set(en) and uk["menu.wall"] != en["menu.wall"]
    assert (await web.get("/api/v1/i18n/xx")).status == 404


async def test_vocabulary_comes_from_the_ticket_configuration(web, login_as):
    user = await login_as("cc_operator")
    vocab = await (await web.get("/api/v1/vocabulary", headers=user.headers)).json()
    assert vocab["transitions"]["resolved"] == ["closed", "in_progress"]
    assert "billing.payment" in vocab["categories"] and "greeting" in vocab["templates"]


async def test_pages_are_served_and_home_redirects_by_role(web, login_as):
    for page in ("login", "desktop", "wall", "reports"):
        response = await web.get(f"/{page}")
        assert response.status == 200 and "text/html" in response.headers["Content-Type"]
    anonymous = await web.get("/", allow_redirects=False)
    assert anonymous.status == 302 and anonymous.headers["Location"] == "/login"
    supervisor = await login_as("supervisor")
    home = await web.get("/", allow_redirects=False, headers=supervisor.headers)
    assert home.headers["Location"] == "/wall"  # a supervisor lands on the wall, not the agent desktop
    analyst = await login_as("analyst")
    home = await web.get("/", allow_redirects=False, headers=analyst.headers)
    assert home.headers["Location"] == "/wall"
