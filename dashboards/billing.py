"""The gateway's billing client (one per process, from ``config/billing.toml``) and what the card says
of its billing data: fetched when, and whether it is old enough to fetch again."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from crm_core.billing.client import BillingClient, BillingSettings
from dashboards.context import GATEWAY, gateway

CONFIG_FILE = "billing.toml"
URL_VARIABLE = "SWITCHBOARD_BILLING_URL"  # overrides the file's url (a deployment's own billing)


def billing_client(request: web.Request) -> BillingClient | None:
    """The billing client, or ``None`` when this installation has no billing configured."""
    gw = gateway(request)
    if "billing" not in gw.extra:
        path = Path(gw.services.settings.config_dir) / CONFIG_FILE
        data = tomllib.loads(path.read_text()) if path.exists() else {}
        if os.environ.get(URL_VARIABLE):
            data["url"] = os.environ[URL_VARIABLE]
        gw.extra["billing"] = BillingClient(BillingSettings.from_mapping(data)) if data.get("url") else None
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
