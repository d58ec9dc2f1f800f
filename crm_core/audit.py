"""The audit log: who changed what, when, with the values before and after.  Append only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import AuditEntry


async def record(conn: AsyncConnection, *, actor: str, action: str, entity: str, entity_id: str | int,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> int:
    """Append one entry in the caller's transaction, so the change and its record commit together."""
    statement = insert(AuditEntry.__table__).values(
        actor=actor, action=action, entity=entity, entity_id=str(entity_id), before=before, after=after,
    ).returning(AuditEntry.id)
    return int((await conn.execute(statement)).scalar_one())


async def entries_for(conn: AsyncConnection, entity: str, entity_id: str | int,
                      limit: int = 200) -> list[dict[str, Any]]:
    statement = (select(*AuditEntry.__table__.c)
                 .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
                 .order_by(AuditEntry.id.desc()).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries to read: of one kind of entity (and one of them), by one author, in a time range."""

    entity: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(conn: AsyncConnection, flt: AuditFilter, limit: int = 100) -> list[dict[str, Any]]:
    """Entries matching ``flt``, newest first."""
    table = AuditEntry.__table__
    conditions = [column == value for column, value in (
        (table.c.entity, flt.entity), (table.c.entity_id, flt.entity_id), (table.c.actor, flt.actor))
        if value is not None]
    if flt.since is not None:
        conditions.append(table.c.at >= flt.since)
    if flt.until is not None:
        conditions.append(table.c.at < flt.until)
    statement = select(*table.c).where(*conditions).order_by(table.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]
