"""The audit log: who changed what, when, with the values before and after.  Append only."""

from __future__ import annotations

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
