"""The dashboard gateway over an in-process engine (real entity actors, real PostgreSQL), served by a
real aiohttp server on 127.0.0.1 and driven by a real HTTP client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer

from actors.system import LocalEngine
from crm_core import users
from dashboards.app import build_app
from tests.support.engine import ADMIN_PASSWORD as PASSWORD
from tests.support.engine import open_for_logins
from tests.support.teardown import bounded


@pytest.fixture
async def engine(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    local = LocalEngine(fresh_db_url)
    services = await local.start()
    await open_for_logins(services)
    yield services
    await bounded(local.stop(), "engine stop")


@pytest.fixture
async def web(engine):
    server = TestServer(build_app(engine), host="127.0.0.1", port=0)
    client = TestClient(server)
    await client.start_server()
    yield client
    await bounded(client.close(), "test server close")


@dataclass
class User:
    id: int
    login: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(engine, role: str, queues=("general", "billing", "technical"), extension: str | None = None) -> int:
    login = f"{role}-{uuid.uuid4().hex[:8]}"
    async with engine.db.begin() as conn:
        return await users.create_user(conn, login=login, full_name=f"Тест {role}", role=role, password=PASSWORD,
                                       queues={"names": list(queues)}, extension=extension), login


@pytest.fixture
def login_as(engine, web):
    async def login(role: str, **kwargs) -> User:
        user_id, login_name = await make_user(engine, role, **kwargs)
        response = await web.post("/api/v1/auth/login", json={"login": login_name, "password": PASSWORD})
        assert response.status == 200, await response.text()
        return User(user_id, login_name, (await response.json())["token"])

    return login
