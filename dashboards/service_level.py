"""The service level the wall, the reports and ``/metrics`` show: one query (``crm_core.service_level``)
under one definition (``routing.service_level``) with the targets of the routing configuration in force.
"Today" starts at midnight in the contact centre's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from actors.routing_rules import CHANNEL_KINDS
from crm_core.service_level import QueueServiceLevel, service_levels

CENTRE_ZONE = ZoneInfo("Europe/Kyiv")


def start_of_today(now: datetime | None = None) -> datetime:
    local = (now or datetime.now(UTC)).astimezone(CENTRE_ZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


async def queue_service_levels(services: Any, start: datetime, end: datetime | None = None) -> list[QueueServiceLevel]:
    config = services.router.current.service_level
    async with services.db.connect() as conn:
        return await service_levels(conn, config, CHANNEL_KINDS, start, end)
