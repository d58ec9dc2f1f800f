"""Service level per queue from durable data: the tickets of a period with the wait before their first
assignment (``waited_s`` / ``assigned_at``, kept by the triggers of migration 0003) and the contacts that
left before an agent took them.  The definition itself is :mod:`routing.service_level`; this module
only counts.

- answered: a ticket first assigned to an agent in the period's tickets, not an abandoned call;
  its wait is ``waited_s`` (or ``assigned_at - created_at`` when the event had none);
- abandoned: a call whose caller hung up before an agent answered (``attributes.call.abandoned``),
  or a ticket closed without ever being assigned; its wait is the call's ``wait_seconds`` (or the time
  from creation to closing); it counts in the queue the caller left, not in the call-back queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, false, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Ticket
from routing.service_level import ContactCounts, ServiceLevelConfig

CHAT = "chat"


@dataclass(frozen=True, slots=True)
class QueueServiceLevel:
    """One queue's service level over a period, with the counts it comes from."""

    queue: str | None
    answered: int
    answered_within: int
    abandoned: int
    abandoned_within: int
    service_level_pct: float | None
    targets: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.queue, "answered": self.answered, "answered_within": self.answered_within,
                "abandoned": self.abandoned, "abandoned_within": self.abandoned_within,
                "service_level_pct": self.service_level_pct, "targets": self.targets}


def _seconds(interval: Any) -> Any:
    return func.date_part("epoch", interval)


def call_abandoned() -> Any:
    """True for a call whose caller hung up before an agent answered; false (never null) otherwise."""
    return func.coalesce(Ticket.attributes["call"]["abandoned"].as_string() == "true", false())


def contact_queue() -> Any:
    """The queue a contact is measured in: a call-back's is the queue the caller left (none when
    VICIdial routed the call), not the call-back queue it waits in afterwards."""
    call_back = Ticket.attributes["call_back"]
    return case((call_back.is_not(None), call_back["from_queue"].as_string()), else_=Ticket.queue)


def _kind(kinds: Mapping[str, str]) -> Any:
    return case({channel: literal(kind) for channel, kind in kinds.items()}, value=Ticket.channel,
                else_=literal(CHAT)) if kinds else literal(CHAT)


async def service_levels(conn: AsyncConnection, config: ServiceLevelConfig, kinds: Mapping[str, str],
                         start: datetime, end: datetime | None = None) -> list[QueueServiceLevel]:
    """Every queue's service level over tickets created from ``start`` (to ``end``), each contact
    measured against its queue's target for its kind of work (``kinds``: channel -> voice/chat/email)."""
    abandoned_call = call_abandoned()
    answered = and_(Ticket.assigned_at.is_not(None), not_(abandoned_call))
    abandoned = or_(abandoned_call, and_(Ticket.status == "closed", Ticket.assigned_at.is_(None)))
    answer_wait = func.coalesce(Ticket.waited_s, _seconds(Ticket.assigned_at - Ticket.created_at))
    abandon_wait = func.coalesce(cast(Ticket.attributes["call"]["wait_seconds"].as_string(), Float),
                                 _seconds(func.coalesce(Ticket.closed_at, Ticket.updated_at) - Ticket.created_at))
    kind = _kind(kinds).label("kind")
    queue = contact_queue().label("queue")
    thresholds = config.thresholds()
    columns = [func.count().filter(answered).label("answered"), func.count().filter(abandoned).label("abandoned")]
    for n, threshold in enumerate(thresholds):
        columns.append(func.count().filter(and_(answered, answer_wait <= threshold)).label(f"answered_{n}"))
        columns.append(func.count().filter(and_(abandoned, abandon_wait <= threshold)).label(f"abandoned_{n}"))
    period = [Ticket.created_at >= start, *([Ticket.created_at < end] if end is not None else [])]
    statement = select(queue, kind, *columns).where(*period).group_by(queue, kind)
    per_queue: dict[str | None, tuple[ContactCounts, dict[str, str]]] = {}
    for row in (await conn.execute(statement)).all():
        target = config.target(row.queue, row.kind)
        at = thresholds.index(target.threshold_s)
        counts = ContactCounts(row.answered, getattr(row, f"answered_{at}"), row.abandoned,
                               getattr(row, f"abandoned_{at}"))
        total, targets = per_queue.get(row.queue, (ContactCounts(), {}))
        per_queue[row.queue] = (total + counts, {**targets, row.kind: target.label()})
    return [QueueServiceLevel(queue, c.answered, c.answered_within, c.abandoned, c.abandoned_within,
                              config.pct(c), targets)
            for queue, (c, targets) in sorted(per_queue.items(), key=lambda item: item[0] or "")]
