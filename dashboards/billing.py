"""The gateway's billing client (one per process, from ``config/billing.toml``) and what the card says
of its billing data: fetched when, and whether it is old enough to fetch again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from crm_core.billing.client import BillingClient, BillingSettings
from dashboards.context import GATEWAY, gateway


def billing_client(request: web.Request) -> BillingClient | None:
    """The billing client, or ``None`` when this installation has no billing configured."""
    gw = gateway(request)
    if "billing" not in gw.extra:
        settings = BillingSettings.of_config(gw.services.settings.config_dir)
        gw.extra["billing"] = BillingClient(settings) if settings is not None else None
    return gw.extra["billing"]


async def close_billing(app: web.Application) -> None:
    client = app[GATEWAY].extra.pop("billing", None)
    if client is not None:
        await client.close()


def billing_state(card: dict[str, Any], refresh_after: float, now: datetime | None = None) -> dict[str, Any]:
    """When the card's billing data was fetched (the oldest of its accounts) and whether it is stale."""
    now = now or datetime.now(UTC)
    fetched = [datetime.fromisoformat(a["billing"]["fetched_at"]) if a.get("billing") else None
               for a in card.get("accounts", [])]
    if not fetched:
        return {"fetched_at": None, "stale": False}
    oldest = None if None in fetched else min(f for f in fetched if f is not None)
    stale = oldest is None or (now - oldest).total_seconds() > refresh_after
    return {"fetched_at": oldest.isoformat() if oldest else None, "stale": stale}
