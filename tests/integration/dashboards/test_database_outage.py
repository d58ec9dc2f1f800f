"""PostgreSQL stopped and started under the gateway (issue 14, database faults): while it is down every
request that needs it gets a fast 503 with Retry-After, and no request waits for a connection that cannot
come; once it is back /healthz says so within 2 s and the requests are served.  (Connections a restart
closed: tests/integration/crm_core/test_closed_connections.py.)"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from actors.system import LocalEngine
from dashboards.app import build_app
from tests.support.engine import ADMIN_PASSWORD, open_for_logins
from tests.support.private_pg import PrivateServer
from tests.support.teardown import bounded

pytestmark = pytest.mark.integration
SITE = "https://www.example-utility.ua"
FAST_S = 1.5  # a refusal during an outage answers within this (a connect attempt or none at all)
HEALTHY_WITHIN_S = 2.0


@pytest.fixture
def server():
    private = PrivateServer("outage")
    yield private
    private.remove()


@pytest.fixture
async def web(server, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    monkeypatch.setenv("SWITCHBOARD_WEBCHAT_ORIGINS", SITE)
    local = LocalEngine(server.url)
    services = await local.start()
    await open_for_logins(services)
    # no cookies kept: each request is a caller of its own (the logins' sessions would be looked up)
    client = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0), cookie_jar=DummyCookieJar())
    await client.start_server()
    yield client
    await bounded(client.close(), "test server close")
    await bounded(local.stop(), "engine stop")


class Requests:
    """Requests that need the database: a login, the API channel (an API key check, then the inbox), a
    web-chat visitor's message (the inbox only) and the health check."""

    def __init__(self, web: TestClient, visitors: list[str]) -> None:
        self.web = web
        self.visitors = visitors
        self.sent = 0

    async def one(self, kind: str) -> tuple[str, int, str | None, float]:
        self.sent += 1
        key = f"{uuid.uuid4().hex[:10]}-{self.sent}"
        started = time.monotonic()
        if kind == "login":
            response = await self.web.post("/api/v1/auth/login", json={"login": "admin", "password": ADMIN_PASSWORD})
        elif kind == "api":
            response = await self.web.post("/api/v1/inbound/mobile_app", headers={"X-Api-Key": "sandbox-app-key"},
                                           json={"thread": key, "dedupe_key": key, "text": "Перевірте рахунок",
                                                 "from": {"kind": "app", "value": "device-1"}})
        elif kind == "webchat":
            token = self.visitors[self.sent % len(self.visitors)]
            response = await self.web.post("/api/v1/webchat/messages", json={"text": "Добрий день", "dedupe_key": key},
                                           headers={"Origin": SITE, "X-Visitor-Token": token})
        else:
            response = await self.web.get("/healthz")
        await response.read()
        return kind, response.status, response.headers.get("Retry-After"), time.monotonic() - started

    async def burst(self, rounds: int = 3) -> list[tuple[str, int, str | None, float]]:
        kinds = ["login", "api", "webchat", "healthz"] * rounds
        return await asyncio.gather(*(self.one(kind) for kind in kinds))


async def visitors(web: TestClient, n: int) -> list[str]:
    tokens = []
    for _ in range(n):
        response = await web.post("/api/v1/webchat/sessions", json={"source": "site_chat"}, headers={"Origin": SITE})
        assert response.status == 201, await response.text()
        tokens.append((await response.json())["token"])
    return tokens


async def test_an_outage_is_refused_fast_and_the_recovery_is_served_at_once(web, server):
    requests = Requests(web, await visitors(web, 12))
    for kind, status, _, _ in await requests.burst():  # every pool holds connections now
        assert status in (200, 202), kind

    await asyncio.to_thread(server.stop)
    for attempt in range(3):
        for kind, status, retry_after, took in await requests.burst():
            assert status == 503, (attempt, kind, status)
            assert took < FAST_S, f"{kind} answered its 503 after {took:.1f} s"
            assert kind == "healthz" or retry_after, kind
    health = await (await web.get("/healthz")).json()
    assert health["database"] is False

    await asyncio.to_thread(server.start)
    back = time.monotonic()
    while not (await (await web.get("/healthz")).json())["database"]:
        assert time.monotonic() - back < HEALTHY_WITHIN_S, "healthz still says database:false"
        await asyncio.sleep(0.05)
    for kind, status, _, _ in await requests.burst():
        assert status in (200, 202), (kind, status)
