"""The OpenAPI document is the truth (issue 14, bad input gets a clear 4xx): schemathesis (its command
line, a process of its own) fuzzes the running gateway from its own document for a bounded time, as an
user whose role has every permission: no server error, every status it answers documented, content types and headers as
declared, and an undeclared method answered 405 with an ``Allow`` that names exactly the declared ones.

Left out: the live streams and the exports (answers that do not end), the calls that end the test's own
session, and the checks that generated data matching the schema is accepted or data violating it refused
(the query parameters are declared as free text, which their handlers check more strictly)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dashboards.app import build_app
from dashboards.settings import PERMISSIONS, DashboardSettings, Role
from tests.integration.dashboards.conftest import make_user
from tests.support.engine import ADMIN_PASSWORD
from tests.support.teardown import bounded

pytestmark = pytest.mark.integration
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "unsupported_method,allow_header_conformance")
LEFT_OUT = "stream|exports|auth/logout|user_sessions|sessions/end|/me/password"
BUDGET_S = 90


@pytest.fixture
async def web(engine):
    """The gateway with an administrator who may do everything, so every operation is reached."""
    settings = DashboardSettings.load(engine.settings.config_dir)
    roles = {**settings.roles, "admin": Role("admin", frozenset(PERMISSIONS), frozenset())}
    client = TestClient(TestServer(build_app(engine, dataclasses.replace(settings, roles=roles)), host="127.0.0.1"))
    await client.start_server()
    yield client
    await bounded(client.close(), "test server close")


async def test_the_gateway_conforms_to_its_openapi_document(engine, web, tmp_path):
    _, login = await make_user(engine, "admin")
    response = await web.post("/api/v1/auth/login", json={"login": login, "password": ADMIN_PASSWORD})
    token = (await response.json())["token"]
    schemathesis = Path(sys.executable).parent / "schemathesis"
    process = await asyncio.create_subprocess_exec(
        str(schemathesis), "run", str(web.make_url("/api/v1/openapi.json")),
        "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--exclude-path-regex", LEFT_OUT,
        "--phases", "examples,coverage,fuzzing", "--max-examples", "5", "--max-time", str(BUDGET_S),
        "--workers", "1", "--request-timeout", "10", "--seed", "14",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
    output, _ = await asyncio.wait_for(process.communicate(), BUDGET_S + 120)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert "No issues found" in report or " passed" in report, report[-2000:]
