"""How the demo is going, from the database: tickets opened and resolved per channel since it started."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class ChannelTally:
    opened: int
    resolved: int
    identified: int


async def ticket_tally(db: AsyncEngine, since: datetime) -> dict[str, ChannelTally]:
    """Per channel: tickets opened since ``since``, how many of them are resolved (or closed), and how
    many have their client identified."""
    async with db.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT channel, count(*),"
            " count(*) FILTER (WHERE resolved_at IS NOT NULL OR status IN ('resolved', 'closed')),"
            " count(*) FILTER (WHERE identified)"
            " FROM tickets WHERE created_at >= :since GROUP BY channel ORDER BY channel"), {"since": since})).all()
    return {row[0]: ChannelTally(int(row[1]), int(row[2]), int(row[3])) for row in rows}


def tally_line(tally: dict[str, ChannelTally]) -> str:
    if not tally:
        return "no tickets yet"
    return ", ".join(f"{channel} {t.opened} ({t.resolved} resolved, {t.identified} identified)"
                     for channel, t in tally.items())
