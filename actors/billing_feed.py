"""The billing follower: one long-lived actor that keeps the CRM's copy of billing current (CM-02: at
least every 5 minutes) and writes the meter readings the centre accepted back to billing.

Every ``every_s`` it applies billing's change feed from the stored position (a first run, or a feed
that lost entries, loads every account) and sends the readings due for their write-back.  It starts its
loop itself, so a process Ray restarts after a crash goes on from the stored position with no call from
the composition root; a billing that is down costs one failed round (logged) and is tried next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from crm_core.billing import sync
from crm_core.billing.client import BillingClient, BillingSettings, BillingUnavailable
from crm_core.database import async_engine

log = logging.getLogger(__name__)


def billing_settings(config_dir: Path) -> BillingSettings | None:
    """The billing of ``config/billing.toml``, or ``None`` where this installation has none."""
    return BillingSettings.of_config(config_dir)


class BillingFollower:
    def __init__(self, database_url: str, settings: BillingSettings) -> None:
        self.every_s = settings.follow_every_s
        self._client = BillingClient(settings)
        self._db = async_engine(database_url, pool_size=2)
        self.rounds = 0
        self._loop = asyncio.get_event_loop().create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            await self.round()
            await asyncio.sleep(self.every_s)

    async def round(self) -> dict[str, int]:
        """One round: the change feed, then the readings' write-back; what each did."""
        done = {"accounts": 0, "readings": 0}
        try:
            done["accounts"] = await sync.follow_feed(self._client, self._db)
            done["readings"] = await sync.write_back_readings(self._client, self._db)
        except BillingUnavailable as exc:
            log.warning("billing round skipped: %s; next in %.0f s", exc, self.every_s)
        except Exception:
            log.exception("billing round failed; next in %.0f s", self.every_s)
        self.rounds += 1
        return done

    async def ping(self) -> int:
        return self.rounds

    async def stop(self) -> None:
        self._loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop
        await self._client.close()
        await self._db.dispose()
