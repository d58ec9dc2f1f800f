"""Browser tests: the real pages in a real headless Chromium against the gateway over an in-process
engine on PostgreSQL.  Skipped, with the reason, where Chromium is not installed."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp.test_utils import TestServer

from dashboards.app import build_app
from dashboards.settings import DashboardSettings
from tests.browser.cdp import Browser, chromium_path
from tests.integration.dashboards.conftest import PASSWORD, engine, make_user  # noqa: F401  (fixture)
from tests.support.teardown import bounded

if chromium_path() is None:
    pytest.skip("Chromium is not installed (apt-get install -y chromium chromium-driver)", allow_module_level=True)


@pytest.fixture
async def site(engine):  # noqa: F811
    settings = dataclasses.replace(DashboardSettings.load(engine.settings.config_dir), heartbeat_s=1.0)
    server = TestServer(build_app(engine, settings), host="127.0.0.1", port=0)
    await server.start_server()
    yield server
    await bounded(server.close(), "test server close")


@pytest.fixture
async def browser(tmp_path):
    chromium = Browser(tmp_path / "profile")
    await chromium.start()
    yield chromium
    await bounded(chromium.close(), "browser close")


@pytest.fixture
def sign_in(engine, site, browser):  # noqa: F811
    async def sign_in(role: str, **kwargs) -> int:
        user_id, login = await make_user(engine, role, **kwargs)
        await browser.goto(str(site.make_url("/login")))
        await browser.wait_for("document.querySelector('#submit').textContent === 'Увійти'")
        await browser.fill("#login", login)
        await browser.fill("#password", PASSWORD)
        await browser.click("#submit")
        await browser.wait_for("document.querySelector('header .who')")
        return user_id

    return sign_in
