"""The CRM core actor pool on a local Ray: look-ups through workers, by name from other processes,
spread over the workers, surviving a worker crash."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import ray
from sqlalchemy import text

from crm_core.database import sync_engine
from crm_core.pool import CrmPool
from crm_core.search import SearchError, SearchQuery, SearchResult, Term
from crm_core.seed import seed_demo_callers
from tests.support.teardown import bounded_sync

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ray_local():
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started_here:
        bounded_sync(ray.shutdown, "Ray shutdown")


@pytest.fixture(scope="module")
def callers(db_url):
    return {c.key: c for c in seed_demo_callers(db_url)}


@pytest.fixture(scope="module")
async def pool(ray_local, db_url, callers):
    namespace = f"crm-test-{uuid.uuid4().hex[:8]}"
    crm = CrmPool.start(2, db_url, namespace, connections=2)
    await crm.wait_ready()
    yield crm
    crm.shutdown()


async def test_identify_search_and_card_through_the_pool(pool, callers):
    household = callers["household"]
    found = await pool.identify("phone", "+38 (067) 000-01-01")
    assert found.client_id == household.client_id and found.account_numbers == household.account_numbers
    assert await pool.identify("phone", "anonymous") is None
    result = await pool.search(SearchQuery([Term("name", "Шевченко Олена"), Term("address", "Хрещатик")]))
    assert isinstance(result, SearchResult) and household.client_id in {h.client_id for h in result.hits}
    card = await pool.client_card(household.client_id)
    assert card["client"]["full_name"] == household.full_name and len(card["accounts"]) == 2


async def test_errors_come_back_as_the_callers_exceptions(pool):
    with pytest.raises(ValueError, match="cannot identify by 'fax'"):
        await pool.identify("fax", "0441234567")
    with pytest.raises(SearchError, match="unknown search field"):
        await pool.search(SearchQuery([Term("colour", "red")]))
    assert (await pool.identify("phone", "0670000101")) is not None  # the worker lives on


async def test_calls_spread_over_the_workers(pool):
    before = [await w.stats.remote() for w in pool.workers]
    await asyncio.gather(*(pool.identify("phone", "0670000101") for _ in range(40)))
    after = [await w.stats.remote() for w in pool.workers]
    served = [a["served"] - b["served"] for a, b in zip(after, before, strict=True)]
    assert sum(served) == 40 and min(served) >= 10


@ray.remote(num_cpus=0)
def _identify_elsewhere(pool: CrmPool | None, namespace: str, phone: str) -> int | None:
    """Runs in another process: uses a pool handed over (pickled), or finds the workers by name."""
    crm = pool if pool is not None else CrmPool.connect(2, namespace)
    found = asyncio.run(crm.identify("phone", phone))
    return None if found is None else found.client_id


async def test_other_processes_reach_the_same_workers(pool, callers):
    household = callers["household"].client_id
    assert await _identify_elsewhere.remote(None, pool.namespace, "0670000101") == household
    assert await _identify_elsewhere.remote(pool, pool.namespace, "0670000101") == household
    same = CrmPool.connect(2, pool.namespace)
    assert [w._actor_id for w in same.workers] == [w._actor_id for w in pool.workers]
    again = CrmPool.start(2, "postgresql://unused", pool.namespace)  # get_if_exists: no new actors
    assert [w._actor_id for w in again.workers] == [w._actor_id for w in pool.workers]


async def test_connect_to_a_missing_pool_fails_clearly(ray_local):
    with pytest.raises(ValueError):
        CrmPool.connect(1, f"nowhere-{uuid.uuid4().hex[:6]}")


async def test_a_crashed_worker_is_restarted_and_calls_go_on(pool, callers):
    await asyncio.gather(*(pool.identify("phone", "0670000101") for _ in range(20)))
    served_before = (await pool.workers[0].stats.remote())["served"]
    assert served_before > 6
    ray.kill(pool.workers[0], no_restart=False)
    results = [await pool.identify("phone", "0670000101") for _ in range(6)]
    assert {r.client_id for r in results} == {callers["household"].client_id}
    assert (await pool.workers[0].stats.remote())["served"] <= 6  # a fresh process counts from zero


async def test_a_dropped_database_connection_is_retried(pool, callers, db_url):
    """The workers keep no ping on checkout; a connection the server dropped is replaced on the spot."""
    await asyncio.gather(*(pool.identify("phone", "0670000101") for _ in range(8)))  # fill both pools
    engine = sync_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND application_name NOT LIKE 'pytest%'")).scalar_one()
    finally:
        engine.dispose()
    assert killed >= len(pool.workers)
    results = await asyncio.gather(*(pool.identify("phone", "0670000101") for _ in range(8)))
    assert {r.client_id for r in results} == {callers["household"].client_id}
