"""Mixed messaging load on the real engine: Telegram, Viber, e-mail and web chat at once, each message from
the customer's act to the instant the agent can see it, with one channel actor restarted halfway.

The engine runs on Ray against the demo's sandbox peers (:class:`actors.demo.sandboxes.SandboxPeers`):
the Telegram Bot API server (the channel polls it), the Viber REST server (its callbacks go to the
gateway's webhook), a private Dovecot (the channel watches INBOX) and the HTTP API channel for web
chat.  The benchmark plays the customers itself through the sandboxes' driver APIs, open-loop at
``--rate`` messages per second shared evenly by the channels: message ``i`` of a channel is sent at
``start + i / rate`` whatever became of the earlier ones.  Each text carries the run id and a serial
number; about a third open new conversations, the rest follow up in a conversation the agent already
sees.

Before the measured run, ``--warmup`` seconds of new conversations at ``--warmup-rate`` (not measured)
bring the engine to its working state: connections open, statements prepared, code paths loaded.

Latency of one message = the instant the event hub published it (the first live event of its thread
for a new conversation, the inbound ``message`` event with its text for a follow-up) minus the instant
the customer sent it (the Telegram update queued, the Viber callback posted, the IMAP APPEND issued,
the web POST issued).  Same clock, same machine.  Halfway through, ``--restart`` (a channel actor) is
killed and Ray restarts it; at the end PostgreSQL must hold every sent message exactly once, on a ticket.

Baselines of the same run: the bare HTTP round trip to each sandbox and to the gateway, one IMAP
APPEND, and a single-row PostgreSQL insert+commit.

    .venv/bin/python -m bench.bench_messaging_e2e [--rate 100] [--seconds 60] [--restart telegram]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import bench_database_url, empty_contact_tables
from bench.e2e_customers import ChatDriver, MailDriver, drivers_for
from bench.e2e_ledger import CHANNELS, Ledger, Sent, report, stored

NAMESPACE = "switchboard-bench-e2e"
DATABASE = "switchboard_bench_e2e"  # of its own: it is emptied before every run
NEW_SHARE = 0.3
DRAIN_QUIET_S = 10.0
DRAIN_CAP_S = 120.0


async def play_channel(driver: ChatDriver, ledger: Ledger, serials: Callable[[], int], rate: float,
                       seconds: float, rng: random.Random) -> None:
    """Open-loop customers of one channel; follow-ups go to conversations the agent already sees."""
    in_flight: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    for i in itertools.count():
        due = started + i / rate
        if due - started >= seconds:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        serial = serials()
        seen = ledger.seen_threads.get(driver.channel, [])
        if seen and rng.random() >= NEW_SHARE:
            thread_key, handle = rng.choice(seen)
            message = Sent(serial, driver.channel, thread_key, opens=False)
        else:
            thread_key, handle = driver.new_thread(serial)
            ledger.handles[thread_key] = (driver.channel, handle)
            ledger.opening[thread_key] = serial
            message = Sent(serial, driver.channel, thread_key, opens=True)
        ledger.sent[serial] = message
        task = asyncio.create_task(_send(driver, ledger, message, handle))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)


async def _send(driver: ChatDriver, ledger: Ledger, message: Sent, handle: Any) -> None:
    message.at = time.time()
    try:
        await driver.send(handle, ledger.text(message.serial))
    except Exception as exc:
        ledger.failed.add(message.serial)
        logging.getLogger(__name__).warning("%s message %s not sent: %s", driver.channel, message.serial, exc)


async def follow_hub(hub: Any, ledger: Ledger, seq: int, stop: asyncio.Event) -> None:
    """Read every live event after ``seq`` until ``stop`` is set."""
    while not stop.is_set():
        batch = await hub.events_after(seq, timeout_s=0.5)
        if batch.get("gap"):
            print("  the event hub's ring overflowed: some events were not seen")
        seq = batch["seq"]
        for event in batch["events"]:
            ledger.observe(event)


async def restart_channel(channel: str, after_s: float) -> float:
    """Kill the channel's actor ``after_s`` into the load; Ray restarts it.  Returns the kill instant."""
    import ray

    from actors.system import channel_actor_name

    await asyncio.sleep(after_s)
    actor = await asyncio.to_thread(ray.get_actor, channel_actor_name(channel), namespace=NAMESPACE)
    killed_at = time.time()
    await asyncio.to_thread(ray.kill, actor, no_restart=False)
    return killed_at


async def drain(ledger: Ledger, quiet_s: float, cap_s: float) -> None:
    """Wait until every delivered message was seen, while the engine still shows new ones: stop after
    ``quiet_s`` without progress or ``cap_s`` in all."""
    started = last_change = time.monotonic()
    seen = len(ledger.visible)
    while len(ledger.visible) < len(ledger.sent) - len(ledger.failed):
        now = time.monotonic()
        if len(ledger.visible) != seen:
            seen, last_change = len(ledger.visible), now
        if now - last_change > quiet_s or now - started > cap_s:
            return
        await asyncio.sleep(0.2)


async def round_trips(call: Callable[[], Awaitable[Any]], samples: int = 50) -> list[float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def baselines(peers: Any, gateway_url: str, session: aiohttp.ClientSession) -> dict[str, list[float]]:
    """Bare round trips of the same run: each sandbox's HTTP API, the gateway, one IMAP APPEND."""

    async def get(url: str, **kwargs: Any) -> None:
        async with session.request(kwargs.pop("method", "GET"), url, **kwargs) as resp:
            await resp.read()

    found: dict[str, list[float]] = {}
    if "telegram" in peers.peers:
        bot = peers.peers["telegram"].sandbox
        found["telegram"] = await round_trips(lambda: get(f"{bot.url}/bot{bot.token}/getMe"))
    if "viber" in peers.peers:
        viber = peers.peers["viber"].sandbox
        found["viber"] = await round_trips(lambda: get(f"{viber.api_url}/get_account_info", method="POST", json={},
                                                       headers={"X-Viber-Auth-Token": viber.account.token}))
    if "email" in peers.peers:
        mail = MailDriver(peers.peers["email"].server, f"baseline-{uuid.uuid4().hex[:8]}", mailbox="Baseline")
        threads = (mail.new_thread(n)[1] for n in itertools.count())
        found["email"] = await round_trips(lambda: mail.send(next(threads), "baseline"), 30)
    found["web"] = await round_trips(lambda: get(f"{gateway_url}/healthz"))
    return found


async def measure(url: str, gateway_url: str, args: argparse.Namespace, insert_ms: float) -> None:
    import ray

    from actors.demo.sandboxes import SandboxPeers
    from actors.services import HubClient
    from actors.settings import Settings
    from actors.system import HUB_NAME, RayEngine

    settings = Settings.load()
    run_no, run = int(time.time()), uuid.uuid4().hex[:8]
    bases = {name: settings.channels[name] for name in CHANNELS if name in settings.channels}
    peers = SandboxPeers(bases, [], [], [], Path(tempfile.mkdtemp(prefix="switchboard-bench-e2e-")), run=run_no)
    engine = RayEngine(database_url=url)
    engine.namespace = NAMESPACE
    try:
        await peers.start()
        for name, reason in peers.skipped.items():
            print(f"{name}: skipped — {reason}")
        dashboard = await asyncio.to_thread(engine.start, channels=peers.channel_tables(gateway_url))
        if dashboard != gateway_url:
            raise SystemExit(f"the gateway serves at {dashboard}, not {gateway_url}: Viber cannot reach it")
        if "viber" in peers.peers:
            while not peers.peers["viber"].sandbox.account.webhook_url:
                await asyncio.sleep(0.2)
        hub = HubClient(await asyncio.to_thread(ray.get_actor, HUB_NAME, namespace=NAMESPACE))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
            trips = await baselines(peers, gateway_url, session)
            serials = itertools.count(1).__next__
            rng = random.Random(run_no)
            if args.warmup > 0:  # new conversations on every channel, not measured: the engine warm
                warm = drivers_for(peers, session, gateway_url, f"{run}-warm")
                await asyncio.gather(*(play_channel(d, Ledger(f"{run}-warm"), serials, args.warmup_rate / len(warm),
                                                    args.warmup, rng) for d in warm))
                await asyncio.sleep(2.0)
            drivers = drivers_for(peers, session, gateway_url, run)
            ledger = Ledger(run)
            stop = asyncio.Event()
            following = asyncio.create_task(follow_hub(hub, ledger, (await hub.snapshot())["seq"], stop))
            restart = asyncio.create_task(restart_channel(args.restart, args.seconds / 2)) \
                if args.restart in peers.peers else None
            per_channel = args.rate / len(drivers)
            await asyncio.gather(*(play_channel(d, ledger, serials, per_channel, args.seconds, rng) for d in drivers))
            await drain(ledger, DRAIN_QUIET_S, DRAIN_CAP_S)
            stop.set()
            await following
            killed_at = await restart if restart is not None else None
    finally:
        await asyncio.to_thread(engine.stop)
        await peers.stop()
    report(ledger, stored(url, ledger), trips, args, killed_at, insert_ms)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_messaging_e2e")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second, all channels together")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--restart", default="telegram", help="channel actor to kill halfway (or 'none')")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of unmeasured load before the run")
    parser.add_argument("--warmup-rate", type=float, default=20.0)
    args = parser.parse_args(argv)

    from actors.demo import gateway_port, start_ray
    from actors.settings import Settings
    from bench.bench_ingest import raw_insert_ceiling

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("channels.sandbox").setLevel(logging.ERROR)
    url = bench_database_url(database=DATABASE)
    empty_contact_tables(url)
    insert_ms = 1000.0 / raw_insert_ceiling(url, seconds=2.0)
    http = Settings.load().http
    port = gateway_port(http.host, http.port)
    os.environ["SWITCHBOARD_HTTP_PORT"] = str(port)  # before Ray starts: its workers read it
    print(f"engine logs: {start_ray(NAMESPACE, url)}", flush=True)
    try:
        asyncio.run(measure(url, f"http://{http.host}:{port}", args, insert_ms))
    finally:
        with contextlib.suppress(Exception):
            import ray

            ray.shutdown()


if __name__ == "__main__":
    main()
