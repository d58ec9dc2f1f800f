"""Helpers for tests that drive the in-process engine."""

from __future__ import annotations

import asyncio
import itertools
import json

from sqlalchemy import text

_numbers = itertools.count(1)


async def add_client(services, name: str, phone: str, segment: str = "regular") -> int:
    async with services.db.begin() as conn:
        client = (await conn.execute(text(
            "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', :n, :s, 'uk') RETURNING id"),
            {"n": name, "s": segment})).scalar_one()
        n = next(_numbers)
        account = (await conn.execute(text(
            "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance)"
            " VALUES (:a, :e, 'м. Київ, вул. Хрещатик, буд. 1', 'population', 120.50) RETURNING id"),
            {"a": f"99{n:08d}", "e": f"56XS{n:012d}"})).scalar_one()
        await conn.execute(text("INSERT INTO account_roles VALUES (:a, :c, 'owner')"), {"a": account, "c": client})
        await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                " VALUES (:c, 'phone', :p, true)"), {"c": client, "p": phone})
    return client


async def add_agent(services, login: str, queues=("general", "billing", "technical"), skills=None) -> int:
    async with services.db.begin() as conn:
        return (await conn.execute(text(
            "INSERT INTO users (login, full_name, role, password_hash, skills, queues, capacity, active)"
            " VALUES (:l, :n, 'cc_operator', 'x', CAST(:s AS jsonb), CAST(:q AS jsonb), '{}', true) RETURNING id"),
            {"l": login, "n": login, "s": json.dumps(skills or {}), "q": json.dumps({"names": list(queues)})})).scalar_one()


async def conversation_id_of(services, thread_key: str) -> int | None:
    """The public id of the thread's newest conversation (the API names conversations by it)."""
    async with services.db.connect() as conn:
        return (await conn.execute(text("SELECT max(id) FROM conversations WHERE thread_key = :k"),
                                   {"k": thread_key})).scalar()


async def eventually(probe, timeout_s: float = 10.0):
    """Poll ``probe`` (async, returns a truthy value when done) until it succeeds or the time runs out."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


METRICS_TOKEN = "scrape-token-of-the-test-suite"  # the suite's SWITCHBOARD_METRICS_TOKEN (tests/conftest.py)
METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}
ADMIN_PASSWORD = "correct horse battery staple"


async def open_for_logins(services) -> None:
    """What a gateway needs before its first login: an administrator (first start refuses logins without
    one) and the sandbox's API keys its web visitors post with."""
    from actors.demo.people import ensure_sandbox_keys
    from crm_core import users

    async with services.db.begin() as conn:
        await ensure_sandbox_keys(conn)
        await users.create_user(conn, login="admin", full_name="Адміністратор", role="admin",
                                password=ADMIN_PASSWORD)
