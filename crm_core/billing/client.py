"""The REST client of the billing contract: every call bounded by a timeout and guarded by a circuit
breaker (purgatory), so billing that is down or slow costs a caller at most one timeout per breaker
period, never a hung card."""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from crm_core.billing.records import BillingAccount, BillingContractError, Change, parse_account, parse_change

log = logging.getLogger(__name__)
BREAKER = "billing"
CONFIG_FILE = "billing.toml"
URL_VARIABLE = "SWITCHBOARD_BILLING_URL"  # overrides the file's url (a deployment's own billing)


class BillingUnavailable(Exception):
    """Billing did not answer in time, answered with an error, or its breaker is open; the message says
    which."""


class UnknownAccount(Exception):
    """Billing does not know this account number."""


class FeedGap(Exception):
    """The change feed no longer holds the entries after the cursor: a full re-sync is needed."""


@dataclass(frozen=True, slots=True)
class BillingSettings:
    url: str
    timeout: float = 2.0
    breaker_threshold: int = 5  # failures in a row that open the breaker
    breaker_seconds: float = 30.0  # how long it stays open before one trial call
    refresh_after: float = 300.0  # a card's billing data older than this is fetched again (CM: 5 min)
    follow_every_s: float = 60.0  # how often the change feed is followed and readings written back

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> BillingSettings:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    @classmethod
    def of_config(cls, config_dir: Path | str) -> BillingSettings | None:
        """The billing ``config/billing.toml`` describes, its url overridden by ``SWITCHBOARD_BILLING_URL``;
        ``None`` where this installation has no billing."""
        path = Path(config_dir) / CONFIG_FILE
        data: dict[str, Any] = tomllib.loads(path.read_text()) if path.exists() else {}
        if os.environ.get(URL_VARIABLE):
            data["url"] = os.environ[URL_VARIABLE]
        return cls.from_mapping(data) if data.get("url") else None


class BillingClient:
    """One billing connection pool and breaker for a process."""

    def __init__(self, settings: BillingSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._breakers = AsyncCircuitBreakerFactory(default_threshold=settings.breaker_threshold,
                                                    default_ttl=settings.breaker_seconds,
                                                    exclude=[UnknownAccount, FeedGap])

    async def _get(self, path: str, **params: Any) -> Any:
        return await self._call("GET", path, params=params)

    async def _call(self, method: str, path: str, **request: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                base_url=self.settings.url, timeout=aiohttp.ClientTimeout(total=self.settings.timeout))
        try:
            breaker = await self._breakers.get_breaker(BREAKER)
            async with breaker, self._session.request(method, path, **request) as response:
                if response.status in (404, 422):
                    raise UnknownAccount(path)
                if response.status == 410:
                    raise FeedGap(path)
                if response.status >= 400:
                    raise BillingUnavailable(f"billing answered {response.status} to {path}")
                return await response.json()
        except OpenedState:
            raise BillingUnavailable("billing is not answering; its circuit breaker is open") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise BillingUnavailable(f"billing did not answer {path}: {type(exc).__name__}") from None

    async def account(self, account_no: str) -> BillingAccount:
        """One account with its charges, payments, equipment and meters."""
        return parse_account(await self._get(f"/v1/accounts/{account_no}"))

    async def pages(self, page_size: int = 10_000) -> AsyncIterator[tuple[list[BillingAccount], int]]:
        """Every account, a page at a time, with the feed position the export started from."""
        cursor: str | None = ""
        while cursor is not None:
            page = await self._get("/v1/accounts", cursor=cursor, limit=page_size)
            accounts = []
            for item in page.get("items", []):
                try:
                    accounts.append(parse_account(item))
                except BillingContractError as exc:
                    log.warning("billing account skipped in the bulk load: %s: %r", exc, item)
            yield accounts, int(page.get("feed_seq") or 0)
            cursor = page.get("next_cursor")

    async def changes(self, after: int, limit: int = 10_000) -> tuple[list[Change], int]:
        """Feed entries after ``after`` and the feed's last position; :class:`FeedGap` when it no longer
        holds them."""
        page = await self._get("/v1/changes", after=after, limit=limit)
        changes = []
        for item in page.get("changes", []):
            try:
                changes.append(parse_change(item))
            except BillingContractError as exc:
                log.warning("billing change skipped: %s", exc)
        return changes, int(page.get("last_seq") or after)

    async def post_reading(self, reading: dict[str, Any]) -> None:
        """Write a meter reading back (once per idempotency key: billing answers a repeat as accepted)."""
        await self._call("POST", "/v1/readings", json=reading)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
