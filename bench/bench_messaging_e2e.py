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
import re
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench.common import bench_database_url, percentile
from crm_core.database import libpq_dsn

NAMESPACE = "switchboard-bench-e2e"
DATABASE = "switchboard_bench_e2e"  # of its own: it is emptied before every run
CHANNELS = ("telegram", "viber", "email", "web")
P99_BAR_S = 1.0
NEW_SHARE = 0.3
DRAIN_S = 30.0
WEB_SOURCE, WEB_KEY, WEB_CHANNEL = "site_chat", "sandbox-webchat-key", "webchat"
BENCH_DOMAIN = "klient.bench.example.net"
FIRST_TELEGRAM_ID = 900_000_000_000


@dataclass(slots=True)
class Sent:
    """One customer message: where it went, whether it opened its conversation, when it was sent."""

    serial: int
    channel: str
    thread_key: str
    opens: bool
    at: float = 0.0


@dataclass(slots=True)
class Ledger:
    """What was sent and when each message became visible to the agent."""

    run: str
    sent: dict[int, Sent] = field(default_factory=dict)
    visible: dict[int, float] = field(default_factory=dict)
    opening: dict[str, int] = field(default_factory=dict)
    seen_threads: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    handles: dict[str, tuple[str, Any]] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)

    def text(self, serial: int) -> str:
        return f"Звернення {self.run}#{serial}: прошу перевірити нарахування за газ"

    def serial_in(self, text: str) -> int | None:
        match = re.search(rf"{self.run}#(\d+)", text or "")
        return int(match.group(1)) if match else None

    def saw(self, thread_key: str, serial: int, at: float) -> None:
        if serial in self.visible:
            return
        self.visible[serial] = at
        if self.sent[serial].opens and thread_key in self.handles:
            channel, handle = self.handles[thread_key]
            self.seen_threads.setdefault(channel, []).append((thread_key, handle))

    def observe(self, event: dict[str, Any]) -> None:
        """The first event of a new thread shows its opening message; an inbound ``message`` event
        shows the follow-up whose text it carries."""
        thread_key = str(event.get("id"))
        state = event.get("state") or {}
        if event.get("type") == "message" and state.get("direction") == "in":
            serial = self.serial_in(str(state.get("text") or ""))
            if serial in self.sent:
                self.saw(thread_key, serial, event["at"])
        if thread_key in self.opening:
            self.saw(thread_key, self.opening[thread_key], event["at"])


class ChatDriver:
    """Plays one channel's customers: ``open`` starts a conversation, ``follow`` writes in one."""

    channel: str

    def new_thread(self, n: int) -> tuple[str, Any]:
        raise NotImplementedError

    async def send(self, handle: Any, text: str) -> None:
        raise NotImplementedError


class TelegramDriver(ChatDriver):
    channel = "telegram"

    def __init__(self, sandbox: Any) -> None:
        from channels.sandbox.telegram import SandboxUser

        self.sandbox, self.user_class = sandbox, SandboxUser

    def new_thread(self, n: int) -> tuple[str, Any]:
        user = self.user_class(id=FIRST_TELEGRAM_ID + n, first_name=f"Клієнт {n}")
        return f"telegram:{user.id}", user

    async def send(self, handle: Any, text: str) -> None:
        self.sandbox.user_sends_text(handle, text)


class ViberDriver(ChatDriver):
    channel = "viber"

    def __init__(self, sandbox: Any, run: str) -> None:
        from channels.sandbox.viber import ViberUser

        self.sandbox, self.user_class, self.run = sandbox, ViberUser, run

    def new_thread(self, n: int) -> tuple[str, Any]:
        user = self.user_class(id=f"bn{self.run}{n:06d}Zx9Q==", name=f"Абонент {n}")
        return f"viber:{user.id}", user

    async def send(self, handle: Any, text: str) -> None:
        result = await self.sandbox.user_sends_text(handle, text)
        if getattr(result, "status", 200) >= 400:
            raise RuntimeError(f"viber webhook answered {result.status}")


@dataclass(slots=True)
class MailThread:
    root: str
    sender: str
    references: list[str] = field(default_factory=list)


class MailDriver(ChatDriver):
    channel = "email"

    def __init__(self, server: Any, run: str) -> None:
        self.server, self.run = server, run

    def new_thread(self, n: int) -> tuple[str, Any]:
        root = f"<{self.run}.{n}.open@{BENCH_DOMAIN}>"
        return f"email:{root}", MailThread(root, f"Абонент {n} <abonent.{n}@{BENCH_DOMAIN}>")

    async def send(self, handle: MailThread, text: str) -> None:
        mail = EmailMessage()
        message_id = handle.root if not handle.references else \
            f"<{self.run}.{uuid.uuid4().hex[:12]}@{BENCH_DOMAIN}>"
        mail["From"] = handle.sender
        mail["To"] = self.server.user
        mail["Subject"] = "Re: Нарахування за газ" if handle.references else "Нарахування за газ"
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = message_id
        if handle.references:
            mail["In-Reply-To"] = handle.references[-1]
            mail["References"] = " ".join(handle.references)
        mail.set_content(text)
        handle.references.append(message_id)
        await self.server.append("INBOX", mail.as_bytes())


class WebDriver(ChatDriver):
    channel = "web"

    def __init__(self, session: aiohttp.ClientSession, gateway_url: str, run: str) -> None:
        from channels.sandbox.web import WebVisitor

        self.session, self.gateway_url, self.run, self.visitor_class = session, gateway_url, run, WebVisitor

    def new_thread(self, n: int) -> tuple[str, Any]:
        visitor = self.visitor_class(thread=f"{self.run}-{n}", phone=None, name=f"Відвідувач {n}")
        return f"{WEB_CHANNEL}:{WEB_SOURCE}:{visitor.thread}", visitor

    async def send(self, handle: Any, text: str) -> None:
        from channels.sandbox.web import post_contact

        status = await post_contact(self.session, self.gateway_url, WEB_SOURCE, WEB_KEY, handle, text)
        if status >= 400:
            raise RuntimeError(f"the API channel answered {status}")


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


async def drain(ledger: Ledger, wait_s: float) -> None:
    """Wait until every delivered message was seen, or ``wait_s`` passes."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and len(ledger.visible) < len(ledger.sent) - len(ledger.failed):
        await asyncio.sleep(0.2)


def clear(url: str) -> None:
    """The benchmark's database starts empty of conversations (earlier runs' would be swept or joined)."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("TRUNCATE reminders, ticket_events, tickets, messages, inbox, conversations CASCADE")


def stored(url: str, ledger: Ledger) -> dict[int, tuple[int, int]]:
    """serial -> (inbound rows carrying its text, of which on a ticket)."""
    rows: dict[int, tuple[int, int]] = {}
    with psycopg.connect(libpq_dsn(url)) as conn:
        found = conn.execute("SELECT text, ticket_id FROM messages WHERE direction = 'in' AND text LIKE %s",
                             (f"%{ledger.run}#%",)).fetchall()
    for text, ticket_id in found:
        serial = ledger.serial_in(text)
        if serial is not None:
            count, on_ticket = rows.get(serial, (0, 0))
            rows[serial] = (count + 1, on_ticket + (ticket_id is not None))
    return rows


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
        server, driver = peers.peers["email"].server, MailDriver(peers.peers["email"].server, "baseline")

        async def append() -> None:
            _, thread = driver.new_thread(0)
            mail = EmailMessage()
            mail["Message-ID"], mail["Subject"] = thread.root, "baseline"
            mail.set_content("baseline")
            await server.append("Baseline", mail.as_bytes())

        found["email"] = await round_trips(append, 30)
    found["web"] = await round_trips(lambda: get(f"{gateway_url}/healthz"))
    return found


def drivers_for(peers: Any, session: aiohttp.ClientSession, gateway_url: str, run: str) -> list[ChatDriver]:
    drivers: list[ChatDriver] = []
    if "telegram" in peers.peers:
        drivers.append(TelegramDriver(peers.peers["telegram"].sandbox))
    if "viber" in peers.peers:
        drivers.append(ViberDriver(peers.peers["viber"].sandbox, run))
    if "email" in peers.peers:
        drivers.append(MailDriver(peers.peers["email"].server, run))
    drivers.append(WebDriver(session, gateway_url, run))
    return drivers


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
            drivers = drivers_for(peers, session, gateway_url, run)
            ledger = Ledger(run)
            stop = asyncio.Event()
            following = asyncio.create_task(follow_hub(hub, ledger, (await hub.snapshot())["seq"], stop))
            restart = asyncio.create_task(restart_channel(args.restart, args.seconds / 2)) \
                if args.restart in peers.peers else None
            serials = itertools.count(1).__next__
            rng = random.Random(run_no)
            per_channel = args.rate / len(drivers)
            await asyncio.gather(*(play_channel(d, ledger, serials, per_channel, args.seconds, rng) for d in drivers))
            await drain(ledger, DRAIN_S)
            stop.set()
            await following
            killed_at = await restart if restart is not None else None
    finally:
        await asyncio.to_thread(engine.stop)
        await peers.stop()
    report(ledger, stored(url, ledger), trips, args, killed_at, insert_ms)


def report(ledger: Ledger, rows: dict[int, tuple[int, int]], trips: dict[str, list[float]],
           args: argparse.Namespace, killed_at: float | None, insert_ms: float) -> None:
    ms = 1000.0
    print(f"{args.rate:.0f} msg/s for {args.seconds:.0f} s, run {ledger.run}; "
          + (f"channel:{args.restart} killed at +{args.seconds / 2:.0f} s and restarted by Ray"
             if killed_at is not None else "no channel restarted"))
    print(f"{'channel':<9} {'sent':>6} {'failed':>6} {'stored':>6} {'on tkt':>6} {'dup':>4} {'lost':>4} "
          f"{'seen':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   baseline round trip p50/p99 ms")
    verdicts = []
    channels = sorted({s.channel for s in ledger.sent.values()}, key=lambda c: CHANNELS.index(c))
    for channel in [*channels, "all"]:
        sent = [s for s in ledger.sent.values() if channel in ("all", s.channel)]
        delivered = [s for s in sent if s.serial not in ledger.failed]
        stored_n = sum(1 for s in sent if rows.get(s.serial, (0, 0))[0] >= 1)
        on_ticket = sum(1 for s in sent if rows.get(s.serial, (0, 0))[1] >= 1)
        duplicates = sum(max(0, rows.get(s.serial, (0, 0))[0] - 1) for s in sent)
        lost = sum(1 for s in delivered if s.serial not in rows)
        latencies = [ledger.visible[s.serial] - s.at for s in sent if s.serial in ledger.visible]
        p99 = percentile(latencies, 0.99)
        base = trips.get(channel, [])
        baseline = f"{percentile(base, 0.5) * ms:6.2f} / {percentile(base, 0.99) * ms:6.2f}" if base else ""
        print(f"{channel:<9} {len(sent):>6} {len(sent) - len(delivered):>6} {stored_n:>6} {on_ticket:>6} "
              f"{duplicates:>4} {lost:>4} {len(latencies):>6} {percentile(latencies, 0.5) * ms:>8.0f} "
              f"{p99 * ms:>8.0f} {max(latencies, default=float('nan')) * ms:>8.0f}   {baseline}")
        if channel == "all":
            verdicts = [p99 <= P99_BAR_S, lost == 0 and on_ticket == len(delivered), duplicates == 0,
                        len(latencies) == len(delivered)]
    bar, complete, unique, seen = verdicts
    print(f"verdict: p99 inbound -> visible {'meets' if bar else 'MISSES'} the 1 s bar; "
          f"{'every message stored on its ticket' if complete else 'messages LOST or off their ticket'}; "
          f"{'no duplicates' if unique else 'DUPLICATES stored'}; "
          f"{'every message seen live' if seen else 'some messages never reached the live feed'}")
    print("baselines, same run: telegram getMe and viber get_account_info on their sandboxes; web the gateway's"
          f" /healthz (one PostgreSQL query); email one IMAP APPEND; a single-row PostgreSQL insert+commit on one"
          f" connection: {insert_ms:.2f} ms on average")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_messaging_e2e")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second, all channels together")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--restart", default="telegram", help="channel actor to kill halfway (or 'none')")
    args = parser.parse_args(argv)

    from actors.demo import gateway_port, start_ray
    from actors.settings import Settings
    from bench.bench_ingest import raw_insert_ceiling

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("channels.sandbox").setLevel(logging.ERROR)
    url = bench_database_url(database=DATABASE)
    clear(url)
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
