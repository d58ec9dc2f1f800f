"""The intake: what every channel hands its items to, in front of the inbox.

An item is stored, or, when the store refuses it for what it holds (text the database refuses, a
payload the inbox cannot encode), tried a bounded number of times and then **parked**: kept byte-exact
with its error in the dead letters (:mod:`crm_core.parked`), so that the channel acknowledges it and
moves on instead of retrying it forever with everything behind it waiting.  A store that cannot be
reached (the database is down, a connection was lost) is no fault of the item: that error goes back to
the channel, which keeps the item unacknowledged and tries again, so nothing is parked for an outage.

An item stored but skipped on purpose (a bounce, an auto-reply: recorded, never answered; malformed mail
kept raw) is logged and counted by reason (:func:`skip_reason`), so that an operator tells "skipped on
purpose" from "lost" in the log and in ``/metrics``.

A parked item is listed for admins and replayed once fixed; replay goes through the inbox again, so its
dedupe key still holds: nothing is doubled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.base import Inbound, UnreadableItem
from channels.serialization import exact_bytes, inbound_to_json
from crm_core import parked as parked_store

log = logging.getLogger(__name__)

#: How often the store is tried with one item before the item is parked.
STORE_ATTEMPTS = 3
RETRY_FIRST_S = 0.05


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of one item: stored now, held already (a repeat), or parked."""

    inbox_id: int | None = None
    parked_id: int | None = None

    @property
    def duplicate(self) -> bool:
        return self.inbox_id is None and self.parked_id is None


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the store could not be reached (try again later) rather than that it refused
    the item (try a bounded number of times, then park)."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error.orig, psycopg.OperationalError | psycopg.InterfaceError)
    return isinstance(error, OSError | TimeoutError | PoolTimeout | psycopg.OperationalError | psycopg.InterfaceError)


def skip_reason(inbound: Inbound) -> str | None:
    """Why a stored item will not be answered, in a word fit for a metric label; None for a client's item."""
    if inbound.metadata.get("malformed"):
        return "malformed_kept_raw"
    if inbound.kind != "control":
        return None
    why = str(inbound.metadata.get("automatic_reason") or "")
    if "bounce" in why or "delivery-status" in why:
        return "bounce"
    if "our" in why:
        return "mail_loop"
    return "auto_reply" if why else "control"


def describe(error: BaseException) -> str:
    """The error in a line or two: the driver's own message, without the statement and its parameters."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return f"{type(cause).__name__}: {cause}".strip()[:2000]


class Intake:
    """Stores through ``store`` (the inbox's), parks in ``engine``'s dead letters what keeps failing."""

    def __init__(self, store: Callable[[Inbound], Awaitable[int | None]], engine: AsyncEngine,
                 attempts: int = STORE_ATTEMPTS, retry_first_s: float = RETRY_FIRST_S) -> None:
        self._store = store
        self._engine = engine
        self.attempts = attempts
        self.retry_first_s = retry_first_s

    async def take(self, inbound: Inbound) -> Taken:
        """Store ``inbound`` or park it; raises only when the store (or the dead letters) cannot be reached."""
        for attempt in range(1, self.attempts + 1):
            try:
                taken = Taken(inbox_id=await self._store(inbound))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - judged below: outage or refusal
                if is_outage(error):
                    raise
                if attempt == self.attempts:
                    return Taken(parked_id=await self._park_refused(inbound, error, attempt))
                log.info("intake: %s item %s refused by the store (%s); attempt %d of %d", inbound.channel,
                         inbound.dedupe_key, describe(error), attempt, self.attempts)
                await asyncio.sleep(self.retry_first_s * 2 ** (attempt - 1))
                continue
            if taken.inbox_id is not None and (reason := skip_reason(inbound)) is not None:
                await self._count_skipped(inbound, reason)
            return taken
        raise AssertionError("unreachable")

    async def _count_skipped(self, inbound: Inbound, reason: str) -> None:
        log.info("intake: %s item %s stored, skipped on purpose: %s (%s)", inbound.channel,
                 inbound.dedupe_key, reason, inbound.metadata.get("automatic_reason") or inbound.metadata.get("malformed"))
        try:
            async with self._engine.begin() as conn:
                await parked_store.count_skipped(conn, inbound.channel, reason)
        except Exception as exc:  # noqa: BLE001 - the item is stored; only its count is missing
            log.warning("intake: skipped %s item %s not counted (%s)", inbound.channel, inbound.dedupe_key, describe(exc))

    async def sink(self, inbound: Inbound) -> None:
        """The :data:`channels.base.InboundSink` of a channel."""
        await self.take(inbound)

    async def park_unreadable(self, item: UnreadableItem) -> None:
        """The :data:`channels.base.ParkingSink` of a channel: what its peer sent that it cannot read."""
        parked_id = await self._park(item.channel, item.item_key, "peer", item.raw, item.error, item.attempts)
        log.warning("intake: %s item %s parked as dead letter %d: unreadable after %d attempts (%s); raw payload: %r",
                    item.channel, item.item_key, parked_id, item.attempts, item.error, item.raw[:2000])

    async def _park_refused(self, inbound: Inbound, error: BaseException, attempts: int) -> int:
        raw = exact_bytes(inbound_to_json(inbound))
        parked_id = await self._park(inbound.channel, inbound.dedupe_key, "inbound", raw, describe(error), attempts)
        log.warning("intake: %s item %s parked as dead letter %d: refused by the store %d times (%s); raw payload: %r",
                    inbound.channel, inbound.dedupe_key, parked_id, attempts, describe(error), raw[:2000])
        return parked_id

    async def _park(self, channel: str, item_key: str, form: parked_store.ParkedForm, raw: bytes, error: str,
                    attempts: int) -> int:
        async with self._engine.begin() as conn:
            return await parked_store.park(conn, channel=channel, item_key=item_key, form=form, raw=raw,
                                           error=error, attempts=attempts)
