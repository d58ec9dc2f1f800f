"""Keys of the inbound API sources (``POST /api/v1/inbound/<source>`` with ``X-Api-Key``).

A key is shown once, when it is made, and stored only as its SHA-256 (keys are 256-bit random, so a
plain digest is as strong as a slow hash and costs a request nothing).  Rotating a source makes a new key
and disables the old ones at once; every change is audited in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import audit
from crm_core.models import ApiKey


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: ``key`` is shown to the person who asked for it, once, and never stored."""

    id: int
    source: str
    key: str


async def add_key(conn: AsyncConnection, source: str, actor: str, key: str | None = None) -> IssuedKey:
    """A new active key for ``source`` (random unless ``key`` is given); a known key is left as it is."""
    key = key or secrets.token_urlsafe(32)
    statement = (pg_insert(ApiKey.__table__).values(source=source, key_sha256=key_digest(key), active=True,
                                                    created_by=actor)
                 .on_conflict_do_nothing(index_elements=["key_sha256"]).returning(ApiKey.id))
    key_id = (await conn.execute(statement)).scalar()
    if key_id is None:
        key_id = (await conn.execute(select(ApiKey.id).where(ApiKey.key_sha256 == key_digest(key)))).scalar_one()
    else:
        await audit.record(conn, actor=actor, action="api_key.created", entity="api_source", entity_id=source,
                           after={"key_id": key_id})
    return IssuedKey(int(key_id), source, key)


async def disable_keys(conn: AsyncConnection, source: str, actor: str, *, keep: int | None = None) -> list[int]:
    """Disable every active key of ``source`` (but ``keep``); returns the ids disabled."""
    statement = (update(ApiKey.__table__).where(ApiKey.source == source, ApiKey.active.is_(True))
                 .values(active=False, disabled_at=func.now()).returning(ApiKey.id))
    if keep is not None:
        statement = statement.where(ApiKey.id != keep)
    disabled = [int(i) for i in (await conn.execute(statement)).scalars().all()]
    if disabled:
        await audit.record(conn, actor=actor, action="api_key.disabled", entity="api_source", entity_id=source,
                           before={"key_ids": disabled}, after={"key_ids": []})
    return disabled


async def rotate_key(conn: AsyncConnection, source: str, actor: str) -> IssuedKey:
    """A new key for ``source``; its earlier keys stop working in the same transaction."""
    issued = await add_key(conn, source, actor)
    disabled = await disable_keys(conn, source, actor, keep=issued.id)
    await audit.record(conn, actor=actor, action="api_key.rotated", entity="api_source", entity_id=source,
                       before={"key_ids": disabled}, after={"key_id": issued.id})
    return issued


async def key_is_valid(conn: AsyncConnection, source: str, key: str) -> bool:
    statement = select(ApiKey.id).where(ApiKey.source == source, ApiKey.key_sha256 == key_digest(key),
                                        ApiKey.active.is_(True))
    return (await conn.execute(statement)).first() is not None


async def active_digests(conn: AsyncConnection) -> set[str]:
    return set((await conn.execute(select(ApiKey.key_sha256).where(ApiKey.active.is_(True)))).scalars().all())


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: int
    source: str
    active: bool
    created_by: str
    created_at: datetime
    disabled_at: datetime | None

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "active": self.active, "created_by": self.created_by,
                "created_at": self.created_at, "disabled_at": self.disabled_at}


async def list_keys(conn: AsyncConnection, source: str | None = None) -> list[KeyRecord]:
    columns = (ApiKey.id, ApiKey.source, ApiKey.active, ApiKey.created_by, ApiKey.created_at, ApiKey.disabled_at)
    statement = select(*columns).order_by(ApiKey.source, ApiKey.id)
    if source is not None:
        statement = statement.where(ApiKey.source == source)
    return [KeyRecord(*row) for row in (await conn.execute(statement)).all()]
