"""``switchboard demo``: a small client base, the demo's people, the engine, sandbox traffic and sandbox
agents, so the supervisor wall shows real movement within seconds of starting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import text

from actors.settings import Settings, read_toml
from crm_core.database import async_engine, migrate, resolve_url

log = logging.getLogger(__name__)


async def ensure_users(database_url: str, users: list[dict[str, Any]]) -> dict[str, int]:
    """Create the demo's users once (an existing login is left alone); returns login -> id."""
    from crm_core.users import create_user

    engine = async_engine(database_url, pool_size=1)
    ids: dict[str, int] = {}
    async with engine.begin() as conn:
        for user in users:
            ids[user["login"]] = await create_user(
                conn, login=user["login"], full_name=user["full_name"], role=user["role"],
                password=user["password"], skills=user.get("skills", {}),
                queues={"names": user.get("queues", [])}, capacity=user.get("capacity", {}), active=True)
    await engine.dispose()
    return ids


async def accounts_present(database_url: str) -> int:
    engine = async_engine(database_url, pool_size=1)
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM accounts"))).scalar_one()
    await engine.dispose()
    return int(count)


def prepare(settings: Settings, demo: dict[str, Any]) -> tuple[str, dict[str, int], list[str]]:
    """Database, client base, demo clients and users; returns (url, user ids, known phones)."""
    from crm_core.seed import seed
    from crm_core.seed.demo import seed_demo_callers

    url = resolve_url(settings.engine.data_dir)
    migrate(url)
    wanted = int(demo.get("seed", {}).get("accounts", 20_000))
    present = asyncio.run(accounts_present(url))
    if present < wanted:
        seed(url, accounts=wanted - present)
    callers = seed_demo_callers(url)
    ids = asyncio.run(ensure_users(url, demo.get("users", [])))
    return url, ids, [phone for caller in callers for phone in caller.phones]


def run_demo(config_dir: Path | None = None, duration_s: float | None = None) -> None:
    from actors.demo.agents import SandboxAgents
    from actors.system import RayEngine

    settings = Settings.load(config_dir)
    demo = read_toml(settings.config_dir / "demo.toml")
    url, ids, phones = prepare(settings, demo)
    engine = RayEngine(config_dir, database_url=url)
    dashboard = engine.start(channels={})
    print(f"\nSwitchboard is running: {dashboard}", flush=True)
    for user in demo.get("users", []):
        print(f"  log in as {user['login']} / {user['password']} ({user['role']})", flush=True)
    traffic = demo.get("traffic", {})
    sandbox_ids = [ids[u["login"]] for u in demo.get("users", []) if u.get("sandbox")]

    async def drive() -> None:
        from channels.sandbox.web import run_traffic

        services = engine.client_services()
        agents = SandboxAgents(services, sandbox_ids, traffic.get("accept_after_s", (0.5, 3)),
                               traffic.get("answer_after_s", (1, 5)), traffic.get("resolve_after_s", (3, 15)))
        tasks = [asyncio.create_task(agents.run()),
                 asyncio.create_task(run_traffic(dashboard, float(traffic.get("web_contacts_per_s", 2.0)),
                                                 known_phones=phones))]
        try:
            await asyncio.wait(tasks, timeout=duration_s, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception():
                    raise task.exception()  # type: ignore[misc]

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(drive())
    engine.stop()
