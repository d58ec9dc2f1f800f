"""First start (issue 18 §1): a fresh database has no administrator; ``switchboard run`` says how to make
one and logins are refused until then; ``switchboard users`` and ``switchboard api-keys`` administer
people and keys from scripts, each change checked and audited."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from actors.production_guard import preflight
from actors.system import LocalEngine
from crm_core import api_keys
from crm_core.database import async_engine
from dashboards.app import build_app
from tests.integration.admin.conftest import STRONG
from tests.integration.admin.test_demo_secrets import fresh_secrets

pytestmark = pytest.mark.integration


def audit_rows(url: str, entity: str) -> list[dict]:
    async def read() -> list[dict]:
        engine = async_engine(url, pool_size=1)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT actor, action, entity_id, before, after FROM audit_log"
                                            " WHERE entity = :e ORDER BY id"), {"e": entity})).all()
        await engine.dispose()
        return [dict(r._mapping) for r in rows]

    return asyncio.run(read())


@pytest.fixture
async def bare_web(fresh_db_url, tmp_path, monkeypatch):
    """The gateway over a database nobody set up: no user at all."""
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    local = LocalEngine(fresh_db_url)
    services = await local.start()
    client = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0))
    await client.start_server()
    yield client
    await client.close()
    await local.stop()


async def test_logins_are_refused_until_the_first_administrator_exists(bare_web, switchboard):
    refused = await bare_web.post("/api/v1/auth/login", json={"login": "ikoval", "password": STRONG})
    assert refused.status == 503
    body = await refused.json()
    assert body["error"] == "setup_required" and "switchboard users add --role admin" in body["message"]

    code, out, err = await asyncio.to_thread(
        switchboard, "users", "add", "--role", "admin", "--full-name", "Коваль Ірина", "--password-stdin", "ikoval",
        stdin=STRONG + "\n")
    assert code == 0, err
    assert "user ikoval created" in out
    response = await bare_web.post("/api/v1/auth/login", json={"login": "ikoval", "password": STRONG})
    assert response.status == 200
    assert (await response.json())["user"]["role"] == "admin"


def test_run_says_how_to_create_the_first_administrator(fresh_db_url, config_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_SECRETS_FILE", str(tmp_path / "none.toml"))
    fresh_secrets(monkeypatch)
    lines: list[str] = []
    assert preflight(config_dir, fresh_db_url, echo=lines.append) is True
    assert "No administrator yet" in lines[0] and "switchboard users add --role admin" in lines[0]


def test_users_command_checks_every_change_and_audits_it(switchboard, fresh_db_url):
    code, _, err = switchboard("users", "add", "--role", "admin", "--full-name", "А", "--password-stdin", "first",
                               stdin="password123\n")
    assert code == 1 and "weak_password.too_short" in err
    code, _, err = switchboard("users", "add", "--role", "admin", "--full-name", "А", "--password-stdin", "first",
                               stdin="qwertyuiop123456\n")
    assert code == 1 and "weak_password.common" in err
    code, _, err = switchboard("users", "add", "--role", "overlord", "--full-name", "А", "--password-stdin", "first",
                               stdin=STRONG + "\n")
    assert code == 1 and "unknown role overlord" in err
    assert switchboard("users", "add", "--role", "admin", "--full-name", "Перший", "--password-stdin", "first",
                       stdin=STRONG + "\n")[0] == 0
    code, _, err = switchboard("users", "add", "--role", "cc_operator", "--full-name", "Х", "--password-stdin",
                               "first", stdin=STRONG + "\n")
    assert code == 1 and "login_taken" in err

    code, _, err = switchboard("users", "disable", "first")
    assert code == 1 and "last_administrator" in err
    assert switchboard("users", "add", "--role", "admin", "--full-name", "Друга", "--password-stdin", "second",
                       "--extension", "1200", stdin=STRONG + "!\n")[0] == 0
    assert switchboard("users", "disable", "first")[0] == 0
    assert "was disabled already" in switchboard("users", "disable", "first")[1]
    assert switchboard("users", "passwd", "--password-stdin", "second", stdin=STRONG + "-new\n")[0] == 0

    code, out, _ = switchboard("users", "list")
    listed = {row["login"]: row for row in map(json.loads, out.splitlines())}
    assert listed["first"]["active"] is False and listed["second"]["extension"] == "1200"

    entries = audit_rows(fresh_db_url, "user")
    assert [e["action"] for e in entries] == ["user.created", "user.created", "user.deactivated", "user.password_reset"]
    assert all(e["actor"].startswith("cli:") for e in entries)
    assert entries[2]["before"] == {"active": True} and entries[2]["after"] == {"active": False}
    assert "password" not in json.dumps([e["after"] for e in entries])


def test_api_keys_command_shows_a_key_once_and_rotation_retires_the_old_one(switchboard, fresh_db_url):
    code, _, err = switchboard("api-keys", "add", "no_such_source")
    assert code == 1 and "unknown source no_such_source" in err
    code, out, _ = switchboard("api-keys", "add", "site_chat")
    first = out.splitlines()[-1]
    code, out, _ = switchboard("api-keys", "rotate", "site_chat")
    second = out.splitlines()[-1]
    assert code == 0 and first != second and len(second) >= 40

    async def valid(key: str) -> bool:
        engine = async_engine(fresh_db_url, pool_size=1)
        async with engine.connect() as conn:
            found = await api_keys.key_is_valid(conn, "site_chat", key)
            stored = (await conn.execute(text("SELECT key_sha256 FROM api_keys"))).scalars().all()
        await engine.dispose()
        assert key not in stored
        return found

    assert asyncio.run(valid(first)) is False and asyncio.run(valid(second)) is True
    code, out, _ = switchboard("api-keys", "list")
    assert [json.loads(line)["active"] for line in out.splitlines()] == [False, True]
    assert first not in out and second not in out
    assert switchboard("api-keys", "disable", "site_chat")[0] == 0
    assert asyncio.run(valid(second)) is False
    actions = [e["action"] for e in audit_rows(fresh_db_url, "api_source")]
    assert actions == ["api_key.created", "api_key.created", "api_key.disabled", "api_key.rotated", "api_key.disabled"]
