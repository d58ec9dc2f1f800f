"""Long polling with at-least-once delivery and ordered acknowledgement.

Telegram forgets an update once ``getUpdates`` is called with an ``offset`` above its ``update_id``.
So the poller asks for the next batch with ``offset = last + 1`` only after every update of the current
batch was handed over (the delivery callback returned).  A crash or restart in between makes Telegram
deliver the batch again; the engine's inbox drops the repeats by ``dedupe_key``.

PTB's ``Application``/``Updater`` is not used: it confirms a batch when it fetches the next one,
whether or not the handlers finished, so an update being processed during a crash is lost.  And PTB's
``Bot.get_updates`` parses the whole batch at once, so one update it cannot parse would stall the bot
forever; here ``getUpdates`` is called raw and every update is handed over (and parsed) on its own.

Within a batch, updates of different chats are delivered concurrently and updates of one chat in
order.  A delivery that fails because the engine cannot store it now is retried with backoff until it
succeeds (the engine's intake parks an item it keeps refusing).  An update the channel itself cannot read
(:class:`UnreadableUpdate`: its handler chokes on it) is tried ``READ_ATTEMPTS`` times and then parked with
its raw JSON, so the offset moves on and the chats behind it are served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from channels.base import READ_ATTEMPTS, ChannelError

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

UpdateDelivery = Callable[[Mapping[str, Any]], Awaitable[None]]
"""Hands one raw update (its JSON, ``update_id`` an int) over; returns once it is safely stored."""

UpdateParking = Callable[[Mapping[str, Any], str, int], Awaitable[None]]
"""Parks one raw update the channel could not read, with the error and the number of attempts."""


class UnreadableUpdate(ChannelError):
    """The channel could not turn an update into an item (not a failure of the store)."""


def _chat_of(raw: Mapping[str, Any]) -> object:
    """The chat an update belongs to, read defensively: the update may be malformed."""
    message = raw.get("message") or raw.get("edited_message")
    query = raw.get("callback_query")
    if message is None and isinstance(query, Mapping):
        message = query.get("message")
    chat = message.get("chat") if isinstance(message, Mapping) else None
    return chat.get("id") if isinstance(chat, Mapping) else None


class UpdatePoller:
    """Fetches updates with ``getUpdates`` and hands each to ``deliver`` before confirming it."""

    def __init__(self, bot: Bot, deliver: UpdateDelivery, park: UpdateParking, *, timeout_s: int, limit: int,
                 retry_initial_s: float, retry_max_s: float) -> None:
        self._bot = bot
        self._deliver = deliver
        self._park = park
        self._timeout_s = timeout_s
        self._limit = limit
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self.offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled."""
        failures = 0
        while True:
            try:
                batch = await self._fetch()
            except InvalidToken:
                log.error("telegram: the Bot API refused the token; polling stops")
                raise
            except TelegramError as exc:
                failures += 1
                delay = min(self._retry_max_s, self._retry_initial_s * 2 ** min(failures, 10))
                log.warning("telegram: getUpdates failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if batch:
                await self.deliver_batch(batch)
                self.offset = max(int(raw["update_id"]) for raw in batch) + 1

    async def _fetch(self) -> list[Mapping[str, Any]]:
        params: dict[str, Any] = {"timeout": self._timeout_s, "limit": self._limit,
                                  "allowed_updates": list(ALLOWED_UPDATES)}
        if self.offset is not None:
            params["offset"] = self.offset
        # Bot API method names are case-insensitive; the lower-case spelling keeps PTB from warning
        # that a typed ``get_updates`` exists (it is avoided on purpose, see the module docstring).
        result = await self._bot.do_api_request(
            "getupdates", api_kwargs=params, read_timeout=self._timeout_s + 10)
        if not isinstance(result, list):
            raise TelegramError(f"getUpdates answered {type(result).__name__}, not a list")
        return [raw for raw in result if isinstance(raw, Mapping) and isinstance(raw.get("update_id"), int)]

    async def deliver_batch(self, batch: list[Mapping[str, Any]]) -> None:
        """Deliver every update of ``batch``: chats concurrently, each chat in order."""
        by_chat: dict[object, list[Mapping[str, Any]]] = {}
        for raw in sorted(batch, key=lambda item: int(item["update_id"])):
            by_chat.setdefault(_chat_of(raw), []).append(raw)
        await asyncio.gather(*(self._deliver_in_order(updates) for updates in by_chat.values()))

    async def _deliver_in_order(self, updates: list[Mapping[str, Any]]) -> None:
        for raw in updates:
            await self._deliver_until_done(raw)

    async def _deliver_until_done(self, raw: Mapping[str, Any]) -> None:
        delay = self._retry_initial_s
        unreadable = 0
        while True:
            try:
                await self._deliver(raw)
                return
            except asyncio.CancelledError:
                raise
            except UnreadableUpdate as exc:
                unreadable += 1
                if unreadable >= READ_ATTEMPTS and await self._parked(raw, exc, unreadable):
                    return
                log.warning("telegram: update %s unreadable (%s), attempt %d of %d; retrying in %.1fs",
                            raw["update_id"], exc, unreadable, READ_ATTEMPTS, delay)
            except Exception:
                log.exception("telegram: delivering update %s failed; retrying in %.1fs", raw["update_id"], delay)
            await asyncio.sleep(delay)
            delay = min(self._retry_max_s, delay * 2)

    async def _parked(self, raw: Mapping[str, Any], error: UnreadableUpdate, attempts: int) -> bool:
        try:
            await self._park(raw, str(error), attempts)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("telegram: parking update %s failed; it is tried again", raw["update_id"])
            return False
        return True
