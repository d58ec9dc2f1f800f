"""First AMI event of a call -> the caller's client card on the ringing agent's desktop stream, with new
calls arriving at 50/s, on the engine running on Ray against the sandbox PBX over a real AMI socket.

Each call rings its agent at once (no queue wait), so the whole path counts: AMI event -> voice channel
-> inbox -> conversation actor (identify through the CRM pool, ticket committed) -> ringing -> card ->
event hub.  The latency of a call is the instant the hub holds its ``screen_pop`` minus the instant the
sandbox PBX wrote the call's first event.  Baseline in the same run: an AMI Ping round trip and a
single-row insert into PostgreSQL.  It also prints the CPU time each process (hosts by name, channel, CRM
workers, hub, PostgreSQL) spent per call while the calls were placed: the engine's cost of a call.

Before the measured calls, ``--warmup`` seconds of calls at ``--warmup-rate`` (not measured) bring the engine
to its working state: connections open, statements prepared, code paths loaded.

    python -m bench.bench_screen_pop [--rate 50] [--seconds 20] [--warmup 5] [--warmup-rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import tomllib
from pathlib import Path
from typing import Any

import psycopg

from bench.common import CpuMeter, bench_database_url, empty_contact_tables, percentile
from crm_core.database import libpq_dsn

NAMESPACE = "switchboard-bench"
VOICE_TOML = Path(__file__).resolve().parent.parent / "config" / "channels" / "voice.toml"
AGENTS = [str(2000 + i) for i in range(60)]
BAR_MS = 200.0
ACCOUNTS = 100_000


def prepare_agents_and_callers(url: str) -> list[str]:
    """Agents with extensions the sandbox rings; callers: phones of seeded clients (identified calls)."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        for extension in AGENTS:
            conn.execute(
                "INSERT INTO users (login, full_name, role, password_hash, skills, queues, capacity, extension,"
                " active) VALUES (%s, %s, 'cc_operator', '-', '{}', '{\"names\": [\"general\"]}', '{}', %s, true)"
                " ON CONFLICT (login) DO NOTHING", (f"bench-{extension}", f"Bench {extension}", extension))
        phones = [r[0] for r in conn.execute(
            "SELECT value FROM contact_points WHERE kind = 'phone' AND value LIKE '+38067%' LIMIT 5000")]
        conn.commit()
    return [("0" + p[4:]) for p in phones] or ["0671234567"]


def baseline_insert_ms(url: str, n: int = 300) -> float:
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("CREATE TEMP TABLE t (x int)")
        times = []
        for i in range(n):
            started = time.perf_counter()
            conn.execute("INSERT INTO t VALUES (%s)", (i,))
            conn.commit()
            times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.99)


async def place_calls(pbx, callers: list[str], rate: float, seconds: float, rng: random.Random) -> dict[Any, float]:
    """Start ``rate`` calls a second for ``seconds`` (open loop); each call's script -> its first event's instant."""
    first_event: dict[Any, float] = {}
    begin = time.time()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, begin + i / rate - time.time()))
        script = pbx.start_call("answered", caller=rng.choice(callers), agent=AGENTS[i % len(AGENTS)],
                                wait=0.0, ring=0.5, talk=2.0)
        first_event[script] = time.time()
    return first_event


async def drive(engine, pbx, callers: list[str], rate: float, seconds: float,
                warmup: tuple[float, float]) -> tuple[list[float], int, float, dict[str, float]]:
    rng = random.Random(5)
    if warmup[1] > 0:  # calls before the measured ones, not measured: the engine warm
        await place_calls(pbx, callers, warmup[0], warmup[1], rng)
        await asyncio.sleep(4.0)
    services = engine.client_services()
    pops: dict[str, float] = {}
    seq = (await services.hub.snapshot())["seq"]
    stop = asyncio.Event()

    async def follow() -> None:
        nonlocal seq
        while not stop.is_set():
            batch = await services.hub.events_after(seq, 1.0)
            seq = batch["seq"]
            now = time.time()
            for event in batch["events"]:
                if event.get("type") == "screen_pop":
                    pops.setdefault(event["id"].removeprefix("voice:"), now)

    follower = asyncio.create_task(follow())
    meter = CpuMeter(await host_process_names(engine))
    meter.start()
    first_event = await place_calls(pbx, callers, rate, seconds, rng)
    cpu = meter.stop()
    await asyncio.sleep(5.0)
    stop.set()
    await follower
    ping = []
    for _ in range(50):
        started = time.perf_counter()
        await services.channels.call_control("voice").ping()
        ping.append((time.perf_counter() - started) * 1000)
    latencies = [(pops[s.linkedid] - t) * 1000 for s, t in first_event.items() if s.linkedid in pops]
    return latencies, len(first_event), percentile(ping, 0.99), cpu


async def host_process_names(engine) -> dict[int, str]:
    """pid -> the Ray actor name of each host process."""
    names = [name for name, _ in engine.settings.engine.placement]
    pids = await asyncio.gather(*(handle.ping.remote() for handle in engine.hosts))
    return {**dict(zip(pids, names, strict=True)), os.getpid(): "sandbox PBX and load"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_screen_pop")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of unmeasured calls before the run")
    parser.add_argument("--warmup-rate", type=float, default=10.0)
    args = parser.parse_args(argv)

    import ray

    from actors.system import RayEngine
    from channels.sandbox.pbx import AmiServer
    from crm_core.seed import seed

    url = bench_database_url()
    with psycopg.connect(libpq_dsn(url)) as conn:
        have = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
    if have < ACCOUNTS:  # enough for 5,000 distinct callers
        seed(url, ACCOUNTS - have, progress=False)
    empty_contact_tables(url)
    callers = prepare_agents_and_callers(url)
    insert_p99 = baseline_insert_ms(url)

    async def run() -> tuple[list[float], int, float, dict[str, float]]:
        pbx = AmiServer()
        await pbx.start()
        table = {**tomllib.loads(VOICE_TOML.read_text())["voice"], "port": pbx.port, "mode": "observe"}
        ray.init(namespace=NAMESPACE, include_dashboard=False, logging_level="ERROR")
        engine = RayEngine(database_url=url)
        engine.namespace = NAMESPACE
        await asyncio.to_thread(engine.start, {"voice": table}, False)
        await pbx.wait_for_login(timeout=30)
        try:
            return await drive(engine, pbx, callers, args.rate, args.seconds, (args.warmup_rate, args.warmup))
        finally:
            await pbx.stop()
            ray.shutdown()

    latencies, calls, ping_p99, cpu = asyncio.run(run())
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    verdict = "meets" if p99 <= BAR_MS else "MISSES"
    print(f"first AMI event -> card on the ringing agent's stream at {args.rate:.0f} calls/s for {args.seconds:.0f} s"
          f" (after {args.warmup:.0f} s of unmeasured calls at {args.warmup_rate:.0f}/s): {len(latencies)}/{calls}"
          f" popped; p50 {p50:.0f} ms, p99 {p99:.0f} ms ({verdict} the {BAR_MS:.0f} ms bar)")
    print(f"baseline (same run): AMI Ping round trip p99 {ping_p99:.1f} ms; PostgreSQL single-row insert+commit"
          f" p99 {insert_p99:.1f} ms")
    per_call = {label: seconds * 1000 / calls for label, seconds in cpu.items()}
    print(f"CPU per call while calls were placed: {sum(per_call.values()):.1f} ms in all ("
          + ", ".join(f"{label} {ms:.1f}" for label, ms in per_call.items() if ms >= 0.1) + ")")


if __name__ == "__main__":
    main()
