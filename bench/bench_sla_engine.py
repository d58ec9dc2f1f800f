"""SLA breaches on the real engine: 100,000 open tickets with durable SLA reminders in PostgreSQL, a few
hundred breaching while we watch; how long after its deadline each breach is escalated on the live
stream (the ``escalation`` event's arrival at the event hub), p50 / p99 / max.

The engine runs on Ray (hosts with their reminder loops, the event hub) over the benchmark database.
Tickets, conversations and reminders are written by bulk SQL: every ticket is urgent (the shipped
``urgent`` policy: first response within 15 minutes, 24x7), its 80 % warning already taken, its
breach reminder spread over the next day, except ``--breaching`` of them spread over a window that
opens shortly after the engine is up.  Baseline, same run: the bare reminder poll query (the due
reminders of one shard among all of them), p50 / p99.

    .venv/bin/python -m bench.bench_sla_engine [--tickets 100000] [--breaching 300] [--window-s 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime

import psycopg

from actors.runtime.ref import shard_of
from bench.common import bench_database_url, empty_contact_tables, percentile
from crm_core.database import libpq_dsn

NAMESPACE = "switchboard-bench-sla"
DATABASE = "switchboard_bench_sla"  # of its own: other benchmarks leave inbox items the engine would sweep
PREFIX = "app:slabench:"
FIRST_RESPONSE_S = 15 * 60.0
RESOLUTION_S = 4 * 3600.0


def sla_state(opened_at: float) -> str:
    """What :class:`routing.sla.TicketSla` saves for an urgent ticket opened at ``opened_at``, with the
    80 % warning already taken."""
    clock = {"started_at": opened_at, "state": "running", "since": opened_at, "paused_business": 0.0,
             "stopped_at": None}
    return json.dumps({"sla": {"policy": "urgent", "fired": ["first response at risk:1"], "clocks": {
        "first_response": {**clock, "target": FIRST_RESPONSE_S},
        "resolution": {**clock, "target": RESOLUTION_S}}}})


def write_tickets(url: str, run: str, deadlines: list[float], shards: int) -> float:
    """Conversations, tickets and SLA reminders in bulk; returns the seconds it took."""
    started = time.perf_counter()
    keys = [f"{PREFIX}{run}-{i}" for i in range(len(deadlines))]
    with psycopg.connect(libpq_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy("COPY conversations (thread_key, channel, status, routing_state, state, queue)"
                      " FROM STDIN") as copy:
            for key in keys:
                copy.write_row((key, "app", "open", "assigned", "{}", "general"))
        cur.execute("SELECT id, thread_key FROM conversations WHERE thread_key = ANY(%s)", (keys,))
        ids = dict((key, conversation_id) for conversation_id, key in cur.fetchall())
        with cur.copy("COPY tickets (number, conversation_id, channel, created_at, identified, type, priority, status,"
                      " queue, sla_policy, first_response_due, resolution_due, attributes) FROM STDIN") as copy:
            for key, deadline in zip(keys, deadlines, strict=True):
                opened = deadline - FIRST_RESPONSE_S
                copy.write_row((number_of(key), ids[key], "app", datetime.fromtimestamp(opened, UTC), False, "request",
                                "urgent", "in_progress", "general", "urgent", datetime.fromtimestamp(deadline, UTC),
                                datetime.fromtimestamp(opened + RESOLUTION_S, UTC), sla_state(opened)))
        cur.execute("UPDATE conversations c SET ticket_id = t.id FROM tickets t WHERE t.conversation_id = c.id"
                    " AND c.thread_key = ANY(%s)", (keys,))
        with cur.copy("COPY reminders (kind, entity_id, name, shard, due_at, payload) FROM STDIN") as copy:
            for key, deadline in zip(keys, deadlines, strict=True):
                copy.write_row(("conversation", key, "sla", shard_of("conversation", key, shards),
                                datetime.fromtimestamp(deadline, UTC), "{}"))
        conn.commit()
        cur.execute("ANALYZE reminders")
        cur.execute("ANALYZE tickets")
        conn.commit()
    return time.perf_counter() - started


def number_of(key: str) -> str:
    return "B" + key.removeprefix(PREFIX)


def poll_query_times(url: str, shards: int, samples: int) -> list[float]:
    """The bare due-reminder query of the hosts' poll, timed from this process."""
    times = []
    with psycopg.connect(libpq_dsn(url)) as conn:
        for n in range(samples):
            started = time.perf_counter()
            conn.execute("SELECT entity_id, name, due_at, payload FROM reminders WHERE kind = 'conversation'"
                         " AND shard = %s AND due_at <= now() ORDER BY due_at LIMIT 500", (n % shards,)).fetchall()
            times.append(time.perf_counter() - started)
    return times


async def collect(hub, numbers: set[str], until: float) -> dict[str, dict]:
    """The first escalation event at the hub of each watched ticket."""
    seq = (await hub.snapshot())["seq"]
    first: dict[str, dict] = {}
    while time.time() < until and len(first) < len(numbers):
        batch = await hub.events_after(seq, timeout_s=1.0)
        seq = batch["seq"]
        for event in batch["events"]:
            if event.get("type") == "escalation":
                number = event["state"]["ticket"]
                if number in numbers and number not in first:
                    first[number] = event
    return first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_sla_engine")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--breaching", type=int, default=300)
    parser.add_argument("--window-s", type=float, default=60.0)
    parser.add_argument("--lead-s", type=float, default=10.0,
                        help="seconds from writing the breaching tickets to the first breach")
    args = parser.parse_args(argv)

    import ray

    from actors.services import HubClient
    from actors.settings import Settings
    from actors.system import HUB_NAME, RayEngine

    url = bench_database_url(database=DATABASE)
    empty_contact_tables(url)
    shards = Settings.load().engine.shards["conversation"]
    run = uuid.uuid4().hex[:8]
    rng = random.Random(7)
    ray.init(namespace=NAMESPACE, include_dashboard=False, logging_level="ERROR")
    try:
        engine = RayEngine(database_url=url)
        engine.namespace = NAMESPACE
        engine.start(channels={}, gateway=False)
        hub = HubClient(ray.get_actor(HUB_NAME, namespace=NAMESPACE))
        later = [time.time() + 3600 + rng.random() * 23 * 3600 for _ in range(args.tickets - args.breaching)]
        written_s = write_tickets(url, f"{run}-later", later, shards)
        window_start = time.time() + args.lead_s
        watched = sorted(window_start + rng.random() * args.window_s for _ in range(args.breaching))
        write_tickets(url, run, watched, shards)
        if time.time() > window_start - 1:
            raise SystemExit("writing the breaching tickets took too long: raise --lead-s")
        deadline_of = {f"B{run}-{i}": d for i, d in enumerate(watched)}
        numbers = set(deadline_of)
        baseline = poll_query_times(url, shards, 200)
        events = asyncio.run(collect(hub, numbers, window_start + args.window_s + 30))
    finally:
        ray.shutdown()
    late = [event["at"] - deadline_of[number] for number, event in events.items()]
    detected = [event["state"]["detected_at"] - deadline_of[number] for number, event in events.items()]
    ms = 1000.0
    print(f"tickets: {args.tickets:,} open with SLA reminders (written in {written_s:.1f} s); "
          f"{args.breaching} breaching over {args.window_s:.0f} s; escalated {len(events)}/{args.breaching}")
    print(f"breach -> escalation at the hub : p50 {percentile(late, 0.5) * ms:7.1f} ms   "
          f"p99 {percentile(late, 0.99) * ms:7.1f} ms   max {max(late, default=float('nan')) * ms:7.1f} ms   (bar: p99 <= 1000 ms)")
    print(f"breach -> detected in the actor  : p50 {percentile(detected, 0.5) * ms:7.1f} ms   "
          f"p99 {percentile(detected, 0.99) * ms:7.1f} ms")
    print(f"baseline, bare reminder poll query over {args.tickets:,} reminders: "
          f"p50 {percentile(baseline, 0.5) * ms:6.2f} ms   p99 {percentile(baseline, 0.99) * ms:6.2f} ms")


if __name__ == "__main__":
    main()
