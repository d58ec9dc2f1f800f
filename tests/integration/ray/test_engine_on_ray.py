"""The engine on a real two-node Ray cluster started locally: hosts on both nodes, contacts become
tickets, and a host killed with SIGKILL in the middle of the load loses and doubles nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from channels.base import Address, Inbound
from tests.support.teardown import bounded_sync

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[3] / "config"


@pytest.fixture(scope="module")
def cluster_config(tmp_path_factory):
    """The configuration, with the hosts spread as on a cluster: each conversation shard a process of its
    own, the agents and queues together in a third."""
    directory = tmp_path_factory.mktemp("cluster") / "config"
    shutil.copytree(CONFIG, directory)
    engine_toml = directory / "engine.toml"
    text_before = engine_toml.read_text(encoding="utf-8")
    one_process = 'all = ["conversation", "agent", "queue", "sender"]'
    assert one_process in text_before
    engine_toml.write_text(text_before.replace(one_process, 'routing = ["agent", "queue", "sender"]'), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def cluster_engine(db_url, cluster_config):
    from actors.system import RayEngine

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace="switchboard-test", logging_level="ERROR")
    engine = RayEngine(config_dir=cluster_config, database_url=db_url)
    engine.namespace = "switchboard-test"
    engine.start(channels={}, gateway=False)
    yield engine
    bounded_sync(ray.shutdown, "Ray shutdown")
    bounded_sync(cluster.shutdown, "Ray cluster shutdown")


def contact(n: int, run: str) -> Inbound:
    return Inbound(channel="app", thread_key=f"app:test:{run}-{n}", dedupe_key=f"{run}-{n}",
                   sender=Address("app", f"device-{n}"), text=f"Звернення {n}")


async def count_tickets(services, run: str) -> tuple[int, int]:
    async with services.db.connect() as conn:
        row = (await conn.execute(text(
            "SELECT count(*), count(DISTINCT c.thread_key) FROM tickets t"
            " JOIN conversations c ON c.id = t.conversation_id WHERE c.thread_key LIKE :p"),
            {"p": f"app:test:{run}-%"})).first()
    return int(row[0]), int(row[1])


async def wait_for_tickets(services, run: str, expected: int, timeout_s: float = 60.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        counts = await count_tickets(services, run)
        if counts[0] >= expected or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.2)


def test_hosts_spread_over_both_nodes_and_contacts_become_tickets(cluster_engine):
    services = cluster_engine.client_services()

    async def scenario():
        hosts = await services.system.describe()
        assert len({h["node"] for h in hosts}) == 2, hosts
        run = uuid.uuid4().hex[:8]
        for n in range(30):
            await services.inbox.store(contact(n, run))
        return await wait_for_tickets(services, run, 30)

    assert asyncio.run(scenario()) == (30, 30)


def test_killed_host_loses_and_doubles_nothing_and_answers_again_within_5_s(cluster_engine):
    services = cluster_engine.client_services()
    run = uuid.uuid4().hex[:8]
    total = 200

    async def scenario():
        hosts = {(h["kind"], h["shard"]): h for h in await services.system.describe()}
        victim = hosts[("conversation", 0)]["pid"]
        for n in range(total):
            await services.inbox.store(contact(n, run))
            if n == total // 2:
                os.kill(victim, signal.SIGKILL)
            await asyncio.sleep(0.005)
        counts = await wait_for_tickets(services, run, total)
        killed_at = time.monotonic()
        slowest = 0.0
        for n in range(total):
            started = time.monotonic()
            view = await services.system.ask(ActorRef("conversation", f"app:test:{run}-{n}"), m.GetConversation(),
                                             timeout_s=5.0)
            slowest = max(slowest, time.monotonic() - started)
            assert view["ticket"] is not None
        restarted = {(h["kind"], h["shard"]): h["pid"] for h in await services.system.describe()}
        return counts, slowest, restarted[("conversation", 0)] != victim, time.monotonic() - killed_at

    counts, slowest, restarted, _ = asyncio.run(scenario())
    assert restarted
    assert counts == (total, total)
    assert slowest < 5.0
