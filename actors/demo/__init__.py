"""``switchboard demo``: a small client base, the demo's people, every channel's sandbox peer, the engine
with those channels, their customers' traffic and sandbox agents, so the supervisor wall shows calls,
chats, e-mails and web contacts becoming tickets within seconds of starting.

Order matters: the peers listen before the engine starts (the channel actors connect to them), the
gateway's port is fixed before Ray starts (Viber must be told the webhook URL up front, and the Ray
workers read the port from the environment), and on the way out traffic stops first, then the
engine, then the peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from actors.demo.people import DemoBase, desk_extensions, prepare_database, sandbox_agents
from actors.demo.sandboxes import SandboxPeers, TrafficRates
from actors.demo.tally import ChannelTally, tally_line, ticket_tally
from actors.settings import Settings, read_toml
from crm_core.database import async_engine, resolve_url

log = logging.getLogger(__name__)

TALLY_EVERY_S = 15.0
START_WAIT_S = 120.0
"""How long a demo stopped while the engine is starting waits for that start to end before stopping it."""


@dataclass(slots=True)
class DemoOutcome:
    """What one demo run did: the channels it ran and skipped, what the sandboxes played, how many
    conversations the sandbox agents finished, and the tickets per channel."""

    dashboard: str | None = None
    channels: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)
    played: dict[str, int] = field(default_factory=dict)
    handled: int = 0
    tickets: dict[str, ChannelTally] = field(default_factory=dict)


def gateway_port(host: str, wanted: int) -> int:
    """``wanted`` when it is free on ``host``, else a free port the OS picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, wanted))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _tally_every(db: Any, since: datetime, every_s: float, echo: Callable[[str], None]) -> None:
    while True:
        await asyncio.sleep(every_s)
        echo(f"  tickets so far: {tally_line(await ticket_tally(db, since))}")


async def play(config_dir: Path | str | None, demo: Mapping[str, Any], base: DemoBase,
               duration_s: float | None = None, echo: Callable[[str], None] = print) -> DemoOutcome:
    """Run the demo on a prepared database until ``duration_s`` passes (or cancelled: Ctrl-C, SIGTERM).

    The gateway serves on the port ``Settings.load(config_dir).http`` names, which must be free.
    """
    from actors.demo.agents import SandboxAgents
    from actors.system import RayEngine

    settings = Settings.load(config_dir)
    gateway_url = f"http://{settings.http.host}:{settings.http.port}"
    traffic = demo.get("traffic", {})
    agents = sandbox_agents(demo, base)
    peers = SandboxPeers(settings.channels, [ext for ext in agents.values() if ext], desk_extensions(demo),
                         base.callers, Path(tempfile.mkdtemp(prefix="switchboard-demo-")),
                         run=int(time.time()))
    engine = RayEngine(settings.config_dir, database_url=base.database_url)
    db = async_engine(base.database_url, pool_size=1)
    outcome = DemoOutcome()
    since = datetime.now(UTC)
    tasks: list[asyncio.Task[Any]] = []
    starting: asyncio.Task[str | None] | None = None
    services = None
    stop_on_sigterm()
    billing = None
    try:
        billing = await _billing_sandbox(settings.config_dir, int(demo.get("seed", {}).get("accounts", 20_000)))
        await peers.start()
        tables = peers.channel_tables(gateway_url)
        outcome.channels, outcome.skipped = tuple(tables), dict(peers.skipped)
        starting = asyncio.create_task(asyncio.to_thread(engine.start, channels=tables))
        outcome.dashboard = await asyncio.shield(starting)
        if outcome.dashboard != gateway_url:
            log.warning("the gateway serves at %s, not %s: Viber callbacks will not reach it",
                        outcome.dashboard, gateway_url)
        _banner(echo, outcome, demo)
        services = await asyncio.to_thread(engine.client_services)
        sandbox = SandboxAgents(services, list(agents), traffic.get("accept_after_s", (0.5, 3)),
                                traffic.get("answer_after_s", (1, 5)), traffic.get("resolve_after_s", (3, 15)))
        working = asyncio.create_task(sandbox.run(), name="demo-agents")
        playing = asyncio.create_task(peers.play(TrafficRates.from_table(traffic), outcome.dashboard or gateway_url,
                                                 base.known_phones, duration_s), name="demo-traffic")
        tasks = [working, playing, asyncio.create_task(_tally_every(db, since, TALLY_EVERY_S, echo))]
        await asyncio.wait([working, playing], return_when=asyncio.FIRST_COMPLETED)
        if working.done():
            working.result()
        outcome.played = playing.result()
        outcome.handled = sandbox.handled
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            outcome.tickets = await ticket_tally(db, since)
            echo(f"Demo over; tickets: {tally_line(outcome.tickets)}")
        except Exception as exc:
            log.warning("the demo's ticket tally failed: %s", exc)
        try:
            if services is not None:
                await services.db.dispose()
            if starting is not None:
                await _start_ended(starting)
            await asyncio.to_thread(engine.stop)
        finally:
            await peers.stop()
            if billing is not None:
                await billing.cleanup()
            await db.dispose()
    return outcome


async def _billing_sandbox(config_dir: Path, accounts: int) -> Any:
    """The sandbox billing on the address ``config/billing.toml`` names, billing the seeded accounts; the
    engine's billing follower loads them and the cards show billing's figures."""
    from crm_core.billing.client import BillingSettings
    from crm_core.billing.sandbox import BillingBook, serve

    settings = BillingSettings.of_config(config_dir)
    if settings is None:
        return None
    where = urlsplit(settings.url)
    try:
        return await serve(BillingBook(accounts), where.hostname or "127.0.0.1", where.port or 80)
    except OSError as exc:
        log.warning("the sandbox billing could not listen on %s (%s); cards show the seeded figures",
                    settings.url, exc)
        return None


async def _start_ended(starting: asyncio.Task[Any]) -> None:
    """Ray cannot be stopped halfway through the engine's start (the start would bring up a new Ray after
    the stop): a demo stopped meanwhile lets the start end first."""
    await asyncio.wait([starting], timeout=START_WAIT_S)
    if starting.done() and not starting.cancelled() and starting.exception() is not None:
        log.warning("the engine did not start: %s", starting.exception())


def stop_on_sigterm() -> None:
    """SIGTERM cancels the running demo like Ctrl-C does, so it still stops its peers on the way out.

    Only the first one counts: ``timeout … make demo`` delivers two (one to the process group, one
    forwarded by make), and a second cancellation would cut the shutdown short."""
    task = asyncio.current_task()

    def cancel_once() -> None:
        if task is not None and not task.cancelling():
            task.cancel()

    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, cancel_once)


def _banner(echo: Callable[[str], None], outcome: DemoOutcome, demo: Mapping[str, Any]) -> None:
    echo(f"\nSwitchboard is running: {outcome.dashboard}")
    echo(f"  sandbox channels: {', '.join(outcome.channels) or 'none'} (and web chat, web forms, the app)")
    for name, reason in outcome.skipped.items():
        echo(f"  skipped: {name} — {reason}")
    for user in demo.get("users", []):
        played = " (played by the demo)" if user.get("sandbox") else ""
        echo(f"  log in as {user['login']} / {user['password']} ({user['role']}){played}")


def start_ray(namespace: str, database_url: str) -> str:
    """Ray for the demo, started here in the main thread: the workers' logs (the gateway's access log
    among them) stay in Ray's session directory instead of flooding the console.  Returns the
    directory of those logs."""
    import ray

    context = ray.init(namespace=namespace, include_dashboard=False, logging_level="WARNING", log_to_driver=False,
                       runtime_env={"env_vars": {"DATABASE_URL": database_url}})
    return str(Path(context.address_info["session_dir"]) / "logs")


def run_demo(config_dir: Path | None = None, duration_s: float | None = None) -> None:
    settings = Settings.load(config_dir)
    demo = read_toml(settings.config_dir / "demo.toml")
    port = gateway_port(settings.http.host, settings.http.port)
    if port != settings.http.port:
        print(f"Port {settings.http.port} is taken; the dashboards use port {port} instead.", flush=True)
    os.environ["SWITCHBOARD_HTTP_PORT"] = str(port)
    base = prepare_database(resolve_url(settings.engine.data_dir), demo)
    logging.getLogger("channels.sandbox").setLevel(logging.WARNING)  # the peers' chatter is not the demo's news
    print(f"Engine logs: {start_ray(settings.engine.namespace, base.database_url)}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(play(settings.config_dir, demo, base, duration_s, echo=lambda line: print(line, flush=True)))
