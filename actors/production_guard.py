"""Before ``switchboard run`` serves anyone: no published demo secret may open the engine.

Refused, each with what to do about it, unless ``[engine] demo = true`` says the installation is a
demo: a channel secret written in a committed configuration file or equal to a sandbox's published value,
a channel enabled without its secret, an inbound API source that still accepts a sandbox key, a user of
``demo.toml`` who still has the demo password.  Then, when no administrator exists yet, how to create
one (logins are refused until then).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors.channel_secrets import SECRET_FIELDS
from actors.settings import Settings, read_toml
from crm_core import api_keys, users
from crm_core.database import async_engine

# Values published with the sandboxes (channels/sandbox/): anyone may read them, so none may guard a
# production engine.
PUBLISHED_SECRETS = frozenset({
    "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f",  # the Viber sandbox's default token
    "7000000001:SANDBOX-token",  # the Telegram sandbox's
    "sandbox", "apipass",  # the sandbox PBX's AMI secret and VICIdial API password
    "sandbox-secret",  # the mail sandbox's mailbox password
})
REQUIRED_SECRETS = ("token", "secret")
CREATE_ADMIN = "switchboard users add --role admin --full-name 'NAME' LOGIN"


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reason ``run`` will not start, and what to do about it."""

    what: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.what}: {self.remedy}"


def channel_refusals(settings: Settings) -> list[Refusal]:
    refusals = []
    for name, table in settings.channels.items():
        if not table.get("enabled", True):
            continue
        path = settings.config_dir / "channels" / f"{name}.toml"
        committed = read_toml(path).get(name, {})
        for field in SECRET_FIELDS:
            value = str(table.get(field) or "")
            variable = committed.get(f"{field}_env") or f"SWITCHBOARD_{name.upper()}_{field.upper()}"
            remedy = f"set {variable} or [{name}] {field} in the secrets file, or enabled = false"
            if value and value in PUBLISHED_SECRETS:
                refusals.append(Refusal(f"{name}: {field} is a published sandbox value", remedy))
            elif committed.get(field):
                refusals.append(Refusal(f"{path}: {field} is written in the committed file", remedy))
            elif not value and field in REQUIRED_SECRETS and f"{field}_env" in committed:
                refusals.append(Refusal(f"{name}: no {field}", remedy))
    return refusals


async def data_refusals(database_url: str, demo_users: list[Mapping[str, Any]]) -> list[Refusal]:
    from channels.sandbox.web import SOURCES

    engine = async_engine(database_url, pool_size=1)
    refusals = []
    try:
        async with engine.connect() as conn:
            active = await api_keys.active_digests(conn)
            for source, key in SOURCES:
                if api_keys.key_digest(key) in active:
                    refusals.append(Refusal(f"API source {source} accepts the sandbox's key",
                                            f"switchboard api-keys rotate {source}"))
            for user in demo_users:
                if await users.password_matches(conn, user["login"], user["password"]):
                    refusals.append(Refusal(f"user {user['login']} still has the demo password",
                                            f"switchboard users passwd {user['login']}  (or users disable)"))
    finally:
        await engine.dispose()
    return refusals


async def administrator_exists(database_url: str) -> bool:
    engine = async_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await users.has_administrator(conn)
    finally:
        await engine.dispose()


def refusals(settings: Settings, database_url: str) -> list[Refusal]:
    """Every reason the engine must not start as a production engine (none for a demo)."""
    if settings.engine.demo:
        return []
    demo_path = settings.config_dir / "demo.toml"
    demo_users = read_toml(demo_path).get("users", []) if demo_path.exists() else []
    return channel_refusals(settings) + asyncio.run(data_refusals(database_url, demo_users))


def preflight(config_dir: Path | None, database_url: str, echo: Any = print) -> bool:
    """Whether ``run`` may start; says why not, and how to create the first administrator."""
    from crm_core.database import migrate

    settings = Settings.load(config_dir)
    migrate(database_url)
    found = refusals(settings, database_url)
    if found:
        echo("Switchboard will not start: known demo secrets or missing secrets "
             "(set [engine] demo = true in engine.toml only for a demo):")
        for refusal in found:
            echo(f"  - {refusal}")
        return False
    if not asyncio.run(administrator_exists(database_url)):
        echo("No administrator yet: logins are refused until one exists.  Create one with\n"
             f"  {CREATE_ADMIN}\n(it asks for the password, or reads it from standard input with --password-stdin)")
    return True
