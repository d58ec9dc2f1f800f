"""Activate 10,000 open conversations as virtual actors on the Ray hosts, beside the naive design (one
plain Ray actor per conversation) measured in the same run: time and memory, the figures behind the
actor model in DESIGN.md.

10,000 open conversations are written to the benchmark database; each is activated by a message (its
state loaded from PostgreSQL) on the engine's conversation hosts.  The naive way starts as many plain
Ray actors as fit in ``--naive-budget-s`` seconds, each loading the same row, and the figures for 10,000
are extrapolated from them.

    python -m bench.bench_activation [--conversations 10000] [--naive-budget-s 40]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import psycopg

from actors import messages as m
from actors.runtime import ActorRef
from bench.common import bench_database_url, unique_memory_mb
from crm_core.database import libpq_dsn

NAMESPACE = "switchboard-bench"


def write_open_conversations(url: str, run: str, count: int) -> list[str]:
    keys = [f"app:bench:{run}-{i}" for i in range(count)]
    with psycopg.connect(libpq_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy("COPY conversations (thread_key, channel, status, routing_state, state) FROM STDIN") as copy:
            for key in keys:
                copy.write_row((key, "app", "open", "assigned", "{}"))
        conn.commit()
    return keys


class NaiveConversation:
    """The design DESIGN.md rejects: a whole Ray actor (a process) per conversation."""

    def __init__(self, dsn: str, thread_key: str) -> None:
        with psycopg.connect(dsn) as conn:
            self.row = conn.execute("SELECT * FROM conversations WHERE thread_key = %s", (thread_key,)).fetchone()

    def pid(self) -> int:
        import os

        return os.getpid()


def naive(url: str, keys: list[str], budget_s: float) -> tuple[int, float, float]:
    """Start plain actors until the budget runs out; returns (started, seconds, unique MB)."""
    import ray

    actor = ray.remote(num_cpus=0)(NaiveConversation)
    started_at = time.perf_counter()
    handles = []
    pids = []
    for key in keys:
        handle = actor.remote(libpq_dsn(url), key)
        pids.append(ray.get(handle.pid.remote()))
        handles.append(handle)
        if time.perf_counter() - started_at > budget_s:
            break
    seconds = time.perf_counter() - started_at
    memory = unique_memory_mb(pids)
    for handle in handles:
        ray.kill(handle)
    return len(handles), seconds, memory


async def activate(services, keys: list[str], concurrency: int = 256) -> float:
    started = time.perf_counter()
    for i in range(0, len(keys), concurrency):
        await asyncio.gather(*(services.system.ask(ActorRef("conversation", k), m.GetConversation())
                               for k in keys[i:i + concurrency]))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_activation")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--naive-budget-s", type=float, default=40.0)
    args = parser.parse_args(argv)

    import ray

    from actors.system import RayEngine

    url = bench_database_url()
    run = uuid.uuid4().hex[:8]
    keys = write_open_conversations(url, run, args.conversations)
    ray.init(namespace=NAMESPACE, include_dashboard=False, logging_level="ERROR")
    try:
        engine = RayEngine(database_url=url)
        engine.namespace = NAMESPACE
        engine.start(channels={}, gateway=False)
        services = engine.client_services()

        async def virtual() -> tuple[float, float, float, int]:
            hosts = [h for h in await services.system.describe() if h["kind"] == "conversation"]
            pids = sorted({h["pid"] for h in hosts})  # shards of one process count once
            before = unique_memory_mb(pids)
            seconds = await activate(services, keys)
            after = unique_memory_mb(pids)
            active = sum(len(h["entities"]) for h in await services.system.describe() if h["kind"] == "conversation")
            return seconds, before, after, active

        seconds, before, after, active = asyncio.run(virtual())
        count, naive_s, naive_mb = naive(url, keys, args.naive_budget_s)
    finally:
        ray.shutdown()
    n = args.conversations
    per_actor_s, per_actor_mb = naive_s / count, naive_mb / count
    print(f"virtual actors : {n:,} conversations activated in {seconds:.1f} s ({n / seconds:,.0f}/s), "
          f"{active:,} live; host memory {before:.0f} -> {after:.0f} MB (+{after - before:.0f} MB, "
          f"{(after - before) * 1024 / n:.1f} KB each)")
    print(f"naive (baseline): {count} plain Ray actors in {naive_s:.1f} s ({per_actor_s * 1000:.0f} ms, "
          f"{per_actor_mb:.0f} MB each); {n:,} would need {per_actor_s * n / 60:.0f} min and "
          f"{per_actor_mb * n / 1024:.0f} GB")
    print(f"ratio          : {per_actor_s * n / seconds:,.0f}x faster, "
          f"{per_actor_mb * n / max(after - before, 1):,.0f}x less memory")


if __name__ == "__main__":
    main()
