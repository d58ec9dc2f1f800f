"""How the demo is going, from the database: tickets opened and resolved per channel since it started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core.centre_figures import ChannelTally, channel_tally


async def ticket_tally(db: AsyncEngine, since: datetime) -> dict[str, ChannelTally]:
    async with db.connect() as conn:
        return await channel_tally(conn, since)


def tally_line(tally: dict[str, ChannelTally]) -> str:
    if not tally:
        return "no tickets yet"
    return ", ".join(f"{channel} {t.opened} ({t.resolved} resolved, {t.identified} identified)"
                     for channel, t in tally.items())
