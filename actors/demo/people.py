"""The demo's database: the schema, a generated client base, the well-known demo callers and the people
who log in (with the phone extensions the sandbox PBX rings)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_core.centre_figures import accounts_held
from crm_core.database import async_engine, migrate
from crm_core.seed.demo import DemoCaller


@dataclass(frozen=True, slots=True)
class DemoBase:
    """What the demo's database holds for the rest of the demo to use."""

    database_url: str
    user_ids: Mapping[str, int]
    callers: tuple[DemoCaller, ...]

    @property
    def known_phones(self) -> list[str]:
        return [phone for caller in self.callers for phone in caller.phones]


async def ensure_users(database_url: str, users: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Create the demo's users once (an existing login keeps its password and skills, but takes the
    extension the configuration gives it, so the PBX's agents map to it); returns login -> id."""
    from crm_core.users import create_user, set_extension

    engine = async_engine(database_url, pool_size=1)
    ids: dict[str, int] = {}
    try:
        async with engine.begin() as conn:
            for user in users:
                extension = str(user["extension"]) if user.get("extension") else None
                user_id = await create_user(
                    conn, login=user["login"], full_name=user["full_name"], role=user["role"],
                    password=user["password"], skills=user.get("skills", {}),
                    queues={"names": user.get("queues", [])}, capacity=user.get("capacity", {}),
                    extension=extension, active=True)
                await set_extension(conn, user_id, extension)
                ids[user["login"]] = user_id
    finally:
        await engine.dispose()
    return ids


async def ensure_sandbox_keys(conn: Any) -> None:
    """The web visitors of the sandbox (channels/sandbox/web) post with these keys: the demo's own data."""
    from channels.sandbox.web import SOURCES
    from crm_core.api_keys import add_key

    for source, key in SOURCES:
        await add_key(conn, source, "demo", key=key)


async def ensure_demo_data(database_url: str, users: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The demo's people and the sandbox's API keys; returns login -> id."""
    ids = await ensure_users(database_url, users)
    engine = async_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await ensure_sandbox_keys(conn)
    finally:
        await engine.dispose()
    return ids


async def accounts_present(database_url: str) -> int:
    engine = async_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await accounts_held(conn)
    finally:
        await engine.dispose()


def prepare_database(database_url: str, demo: Mapping[str, Any]) -> DemoBase:
    """Migrate, seed up to ``[seed] accounts`` accounts, add the demo callers and the demo's users."""
    from crm_core.seed import seed, seed_demo_callers

    migrate(database_url)
    wanted = int(demo.get("seed", {}).get("accounts", 20_000))
    present = asyncio.run(accounts_present(database_url))
    if present < wanted:
        seed(database_url, wanted - present)
    callers = tuple(seed_demo_callers(database_url))
    ids = asyncio.run(ensure_demo_data(database_url, demo.get("users", [])))
    return DemoBase(database_url, ids, callers)


def sandbox_agents(demo: Mapping[str, Any], base: DemoBase) -> dict[int, str | None]:
    """The users the demo plays itself: user id -> phone extension (None without one)."""
    return {base.user_ids[u["login"]]: str(u["extension"]) if u.get("extension") else None
            for u in demo.get("users", []) if u.get("sandbox")}


def desk_extensions(demo: Mapping[str, Any]) -> list[str]:
    """Every demo user's phone extension."""
    return [str(u["extension"]) for u in demo.get("users", []) if u.get("extension")]
