"""The inbox: the sink of every channel.  An inbound item is stored durably before the channel is told
it was taken, then handed to its conversation.

Storing is idempotent by ``dedupe_key``; the statement that stores an item also announces it to the
host of its conversation's shard (:mod:`actors.inbox_notices`), and an item whose host missed the notice
or died before handling it is delivered again by :meth:`InboxWriter.redeliver_pending`.

Text is made storable first: a NUL or half a surrogate pair (PostgreSQL refuses both) becomes U+FFFD,
and the item as it came is kept byte-exact beside it (``payload["original"]``, the base64 of its JSON).
An item the store still refuses is parked by the :class:`~actors.intake.Intake` in front of the inbox.

Items arriving while a commit is on its way are stored together by the next one (group commit): under
load one INSERT (committed on its own, on the process's autocommit pool) takes many items, instead of a
round trip and a WAL flush each.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from actors import messages as m
from actors.inbox_notices import Hand, InboxNotices
from actors.intake import Intake
from actors.runtime import ActorRef, ActorSystem
from channels.base import Inbound
from channels.serialization import exact_bytes, inbound_to_json, storable
from crm_core import driver_sql
from crm_core import inbox as inbox_store
from crm_core import tickets as ticket_store

log = logging.getLogger(__name__)

#: At most this many items in one INSERT.
BATCH_LIMIT = 500

# Made once: ``json.dumps`` with options builds an encoder for every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_ESCAPED_NUL = "\\u0000"

@dataclass(eq=False)
class _Pending:
    dedupe_key: str
    channel: str
    thread_key: str
    shard: int
    payload: dict[str, Any]
    body: str
    stored: asyncio.Future[int | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class InboxWriter:
    def __init__(self, engine: AsyncEngine, system: ActorSystem, autocommit: driver_sql.AutocommitPool,
                 stop_replies: Any = None) -> None:
        """``stop_replies`` (:class:`actors.informing.stop_replies.StopReplies`) records the opt-out an
        item asks for (an SMS STOP, a Viber unsubscribe) before the item is acknowledged."""
        self.engine = engine
        self.stop_replies = stop_replies
        self.system = system
        self.autocommit = autocommit
        self._waiting: list[_Pending] = []
        self._committer: asyncio.Task[None] | None = None
        self._followed: list[InboxNotices] = []
        #: Where channels hand their items: stores through this inbox, parks what it keeps refusing.
        self.intake = Intake(self.store, engine)

    async def follow(self, shard: int, hand: Hand) -> None:
        """Hand every item announced for ``shard`` to ``hand`` (its host), from once this returns."""
        notices = InboxNotices(self.engine, self.autocommit, shard, hand)
        await notices.start()
        self._followed.append(notices)

    async def close(self) -> None:
        for notices in self._followed:
            await notices.stop()
        self._followed.clear()

    async def store(self, inbound: Inbound) -> int | None:
        """Store one item; its inbox id, or None when an item with its dedupe key was stored before."""
        thread_key = await self._thread_of(inbound)
        payload = inbound_to_json(inbound)
        payload["thread_key"] = thread_key
        payload, body = storable_payload(payload)
        thread_key = payload["thread_key"]
        item = _Pending(payload["dedupe_key"], inbound.channel, thread_key,
                        self.system.shard(ActorRef("conversation", thread_key)), payload, body)
        self._waiting.append(item)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting(), name="inbox-commit")
        stored = await item.stored
        if self.stop_replies is not None:
            await self.stop_replies.notice(inbound)
        return stored

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH_LIMIT], self._waiting[BATCH_LIMIT:]
            try:
                await self._commit(batch)
            except DBAPIError as error:
                if error.connection_invalidated or len(batch) == 1:
                    _fail(batch, error)
                else:  # one bad item must not refuse the others: store them one by one
                    for item in batch:
                        await self._commit_alone(item)
            except Exception as error:  # noqa: BLE001 - every waiting caller must hear of it
                _fail(batch, error)

    async def _commit_alone(self, item: _Pending) -> None:
        try:
            await self._commit([item])
        except Exception as error:  # noqa: BLE001
            _fail([item], error)

    async def _commit(self, batch: list[_Pending]) -> None:
        first: dict[str, _Pending] = {}
        for item in batch:
            first.setdefault(item.dedupe_key, item)
        rows = list(first.values())
        stored = await inbox_store.store_batch(
            self.autocommit, [i.dedupe_key for i in rows], [i.channel for i in rows], [i.thread_key for i in rows],
            [i.shard for i in rows], [i.body for i in rows])
        ids = {row["dedupe_key"]: row["id"] for row in stored}
        for item in batch:
            if not item.stored.done():
                item.stored.set_result(ids.get(item.dedupe_key) if first[item.dedupe_key] is item else None)

    async def _thread_of(self, inbound: Inbound) -> str:
        """An e-mail whose headers lost the thread but whose subject names a ticket joins that ticket."""
        number = inbound.metadata.get("ticket_number") if inbound.channel == "email" else None
        if not number:
            return inbound.thread_key
        if await ticket_store.find_open_conversation(self.autocommit, inbound.thread_key) is not None:
            return inbound.thread_key
        thread = await ticket_store.open_thread_of_ticket(self.autocommit, str(number))
        return thread or inbound.thread_key

    async def redeliver_pending(self, shard: int, older_than_s: float, skip: list[int] | None = None,
                                limit: int = 100) -> int:
        """Hand again to their conversations the items of one shard stored but not handled in time;
        ``skip`` names the items still waiting in a mailbox (slow, not lost)."""
        rows = await inbox_store.pending(self.autocommit, shard, older_than_s, skip or [], limit)
        for row in rows:
            self.system.tell(ActorRef("conversation", row["thread_key"]), m.InboxDelivery(row["id"], row["payload"]))
        return len(rows)

    async def prune_handled(self, shard: int, keep: timedelta) -> int:
        """Remove the shard's items handled longer ago than ``keep`` (:func:`crm_core.inbox.prune_handled`)."""
        return await inbox_store.prune_handled(self.autocommit, shard, keep)


def storable_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The payload PostgreSQL will take and its JSON: as it is when it holds no NUL, lone surrogate or
    non-finite number, else made storable with the original kept byte-exact in ``"original"``."""
    try:
        body = _ENCODER.encode(payload)
        body.encode("utf-8")  # a lone surrogate has no UTF-8
        if _ESCAPED_NUL not in body:
            return payload, body
    except ValueError:  # NaN or infinity (JSON has no word for them), or a lone surrogate
        pass
    safe = storable(payload)
    safe["original"] = base64.b64encode(exact_bytes(payload)).decode("ascii")
    return safe, _ENCODER.encode(safe)


def _fail(batch: list[_Pending], error: Exception) -> None:
    for item in batch:
        if not item.stored.done():
            item.stored.set_exception(error)
