"""The role matrix in force in this gateway: ``config/roles.toml`` until an administrator saves a version
(``crm_core.role_matrix``), then the newest version.  A version saved here is in force at the next
request; one saved through another gateway within ``REFRESH_S``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from crm_core import role_matrix
from dashboards.context import GATEWAY, Gateway
from dashboards.settings import Role, role_of

log = logging.getLogger(__name__)

REFRESH_S = 5.0
#: What the administrator's own role always keeps, so nobody locks the administration out.
ADMIN_ROLE, ADMIN_KEEPS = "admin", ("admin.users", "admin.roles")
STORE = "role_matrix_version"


def as_tables(roles: Mapping[str, Role]) -> dict[str, dict[str, list[str]]]:
    return {name: {"permissions": sorted(r.permissions), "mask": sorted(r.mask)} for name, r in roles.items()}


def checked(tables: Any, known: Mapping[str, Role]) -> dict[str, Role]:
    """The roles of a new matrix; ValueError says why not (the role names are those of roles.toml)."""
    if not isinstance(tables, dict):
        raise ValueError("roles: expected an object of roles")
    if set(tables) != set(known):
        raise ValueError(f"roles: exactly {sorted(known)} (roles are added or removed in roles.toml)")
    roles = {}
    for name, table in tables.items():
        if not isinstance(table, dict) or set(table) - {"permissions", "mask"}:
            raise ValueError(f"role {name}: an object with permissions and mask")
        roles[name] = role_of(name, table)
    if missing := [p for p in ADMIN_KEEPS if p not in roles[ADMIN_ROLE].permissions] if ADMIN_ROLE in roles else []:
        raise ValueError(f"role {ADMIN_ROLE}: keeps {missing}")
    return roles


def version(gw: Gateway) -> int:
    return int(gw.extra.get(STORE, 0))


def put_in_force(gw: Gateway, number: int, roles: Mapping[str, Role]) -> None:
    gw.extra[STORE] = number
    gw.sessions.use_roles(roles)


async def refresh(gw: Gateway) -> None:
    async with gw.services.db.connect() as conn:
        found = await role_matrix.newest(conn)
    if found is not None and found[0] != version(gw):
        number, tables = found
        try:
            put_in_force(gw, number, checked(tables, gw.settings.roles))
        except ValueError as exc:  # roles.toml changed since that version was saved: the file's matrix stays
            log.warning("role matrix version %d not used: %s", number, exc)


async def follow_versions(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx`` entry: the newest version at start, then a look every ``REFRESH_S``."""
    gw = app[GATEWAY]

    async def every() -> None:
        while True:
            try:
                await refresh(gw)
            except Exception as exc:  # noqa: BLE001 - the database may be away; the next look tries again
                log.warning("role matrix not refreshed: %s", exc)
            await asyncio.sleep(REFRESH_S)

    task = asyncio.create_task(every(), name="role-matrix")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
