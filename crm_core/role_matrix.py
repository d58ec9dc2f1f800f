"""The role matrix (permissions and masked personal data per role) as the administrators edit it: every
change a new version, never overwritten; the newest is in force.  Without any version, the matrix of
``config/roles.toml`` is.  A change names the version it was made on, so two administrators editing at
once cannot overwrite each other unseen (``StaleMatrix``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import audit
from crm_core.models import RoleMatrixVersion


class StaleMatrix(ValueError):
    """The matrix changed since the version the change was made on."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the role matrix is at version {current} now")
        self.current = current

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return type(self), (self.current,)


async def newest(conn: AsyncConnection) -> tuple[int, dict[str, Any]] | None:
    """(version, {role: {"permissions": [...], "mask": [...]}}) in force, or None before the first change."""
    row = (await conn.execute(select(RoleMatrixVersion.version, RoleMatrixVersion.roles)
                              .order_by(RoleMatrixVersion.version.desc()).limit(1))).first()
    return (int(row.version), dict(row.roles)) if row is not None else None


async def save(conn: AsyncConnection, actor: str, roles: dict[str, Any], *, on_version: int,
               before: dict[str, Any]) -> int:
    """Store ``roles`` as the version after ``on_version`` (0: the file's matrix); audited with the roles
    that changed, before and after."""
    version = on_version + 1
    inserted = (await conn.execute(pg_insert(RoleMatrixVersion.__table__)
                                   .values(version=version, roles=roles, created_by=actor)
                                   .on_conflict_do_nothing(index_elements=["version"])
                                   .returning(RoleMatrixVersion.version))).scalar()
    if inserted is None:
        current = await newest(conn)
        raise StaleMatrix(current[0] if current else 0)
    changed = sorted(name for name in roles if roles[name] != before.get(name))
    await audit.record(conn, actor=actor, action="role_matrix.changed", entity="role_matrix", entity_id=version,
                       before={"version": on_version, "roles": {n: before.get(n) for n in changed}},
                       after={"version": version, "roles": {n: roles[n] for n in changed}})
    return version
