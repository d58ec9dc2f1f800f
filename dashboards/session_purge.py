"""Expired sessions are deleted on a schedule (``[session] purge_every_minutes`` of dashboards.toml), so the
table holds live sessions only; every gateway may run it (a delete of what is expired is idempotent)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from crm_core import users
from dashboards.context import GATEWAY

log = logging.getLogger(__name__)


async def purge_once(app: web.Application) -> int:
    async with app[GATEWAY].services.db.begin() as conn:
        return await users.purge_expired_sessions(conn)


async def _every(app: web.Application, every_s: float) -> None:
    while True:
        try:
            purged = await purge_once(app)
            if purged:
                log.info("purged %d expired sessions", purged)
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next round tries again
            log.warning("expired sessions not purged: %s", exc)
        await asyncio.sleep(every_s)


async def purge_expired(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx`` entry: purge at start and then every ``session_purge_every_s``."""
    task = asyncio.create_task(_every(app, app[GATEWAY].settings.session_purge_every_s), name="session-purge")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
