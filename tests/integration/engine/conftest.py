"""An in-process engine (every host on a local transport) on a database of the test's own."""

from __future__ import annotations

import pytest

from actors.system import LocalEngine
from tests.support.teardown import bounded


@pytest.fixture
async def engine(fresh_db_url):
    local = LocalEngine(fresh_db_url)
    services = await local.start()
    yield services
    await bounded(local.stop(), "engine stop")
