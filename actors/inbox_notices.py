"""The inbox announces what it stores: the statement that stores a batch also notifies, on a channel of
each item's conversation shard (``NOTIFY inbox_<shard>``), the item's id and payload.  The host of the
shard listens there and puts each item in its conversation's mailbox.

This is the hand-off from any channel process to the conversation hosts: PostgreSQL already holds the
item and a listening connection reads the notice at the cost of parsing it, where a Ray call to the host
costs ~1.5 ms of CPU at both ends on a 2-core machine, one per batch per host, several per call.  A notice
is only heard by a host listening when the batch commits: what a host misses (it was restarting, its
connection dropped) is delivered by the inbox sweep (:meth:`actors.inbox.InboxWriter.redeliver_pending`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine

from actors import messages as m
from crm_core import driver_sql
from crm_core import inbox as inbox_store

log = logging.getLogger(__name__)

Hand = Callable[[str, m.InboxDelivery], None]


def notice_channel(shard: int) -> str:
    return f"inbox_{shard}"


class InboxNotices:
    """Follows one shard's notices on a connection of its own, reconnecting after a loss."""

    def __init__(self, engine: AsyncEngine, autocommit: driver_sql.AutocommitPool, shard: int, hand: Hand,
                 retry_s: float = 0.5) -> None:
        self._url = driver_sql.libpq_url(engine)
        self._autocommit = autocommit
        self.shard = shard
        self._hand = hand
        self._retry_s = retry_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Returns once the shard's channel is listened to."""
        listening = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._follow(listening), name=f"inbox-notices-{self.shard}")
        await listening

    async def stop(self, grace_s: float = 5.0) -> None:
        if self._task is not None:
            self._task.cancel()
            done, _ = await asyncio.wait({self._task}, timeout=grace_s)
            if not done:
                log.warning("inbox notices of shard %s did not stop within %.0f s; leaving them", self.shard, grace_s)

    async def _follow(self, listening: asyncio.Future[None]) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {notice_channel(self.shard)}")
                    if not listening.done():
                        listening.set_result(None)
                    # Closed on the way out: the generator holds the connection's lock while suspended, and
                    # closing the connection waits for that lock.
                    async with contextlib.aclosing(conn.notifies()) as notices:
                        async for notice in notices:
                            await self._deliver(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the sweep delivers what was missed meanwhile
                log.warning("inbox notices of shard %s lost (%r); listening again in %.1f s", self.shard, exc,
                            self._retry_s)
                if not listening.done():  # the host starts anyway; the sweep hands it its items
                    listening.set_result(None)
                await asyncio.sleep(self._retry_s)

    async def _deliver(self, notice: str) -> None:
        inbox_id, _, body = notice.partition(" ")
        try:
            payload: Any = json.loads(body) if body else await inbox_store.payload_of(self._autocommit, int(inbox_id))
        except Exception:  # the sweep delivers it
            log.exception("inbox notice %r of shard %s unreadable; left to the sweep", notice[:200], self.shard)
            return
        if payload is not None:
            self._hand(payload["thread_key"], m.InboxDelivery(int(inbox_id), payload))
