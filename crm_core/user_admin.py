"""Changes to users made by an administrator (or the ``switchboard users`` command): each checked, each
audited in the same transaction (who, when, before, after; never a password or its hash).

Users are never deleted (tickets keep their author): they are deactivated, and their sessions end at
once.  The last active administrator cannot be deactivated or lose the role, and nobody removes their
own administrator's role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import audit, users
from crm_core.models import User
from crm_core.password_policy import PasswordPolicy

EDITABLE = ("full_name", "role", "skills", "queues", "capacity", "extension", "vicidial_user", "language")


class AdminRefused(ValueError):
    """A change refused; ``code`` is stable (the locale key ``error.<code>``), ``detail`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return type(self), (self.code, self.detail)


def _audited(user: Mapping[str, Any]) -> dict[str, Any]:
    return {k: user[k] for k in ("login", "active", *EDITABLE) if k in user}


async def _row(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    columns = (*users.USER_COLUMNS, User.vicidial_user, User.language)
    row = (await conn.execute(select(*columns).where(User.id == user_id).with_for_update())).first()
    if row is None:
        raise AdminRefused("not_found", f"user {user_id}")
    return dict(row._mapping)


async def user_id_of(conn: AsyncConnection, login: str) -> int:
    found = await users.find_user(conn, login)
    if found is None:
        raise AdminRefused("not_found", f"user {login}")
    return int(found["id"])


async def add_user(conn: AsyncConnection, actor: str, *, login: str, full_name: str, role: str, password: str,
                   policy: PasswordPolicy, **fields: Any) -> int:
    """A new user; a login already taken is refused (``login_taken``)."""
    if await users.find_user(conn, login) is not None:
        raise AdminRefused("login_taken", login)
    _check_password(policy, password, login)
    user_id = await users.create_user(conn, login=login, full_name=full_name, role=role, password=password,
                                      **fields)
    await audit.record(conn, actor=actor, action="user.created", entity="user", entity_id=user_id,
                       after=_audited(await _row(conn, user_id)))
    return user_id


async def update_user(conn: AsyncConnection, actor: str, user_id: int, changes: Mapping[str, Any],
                      acting_user_id: int | None = None) -> dict[str, Any]:
    """Change the ``EDITABLE`` fields given; returns the user after.  Unchanged values are no change."""
    if unknown := set(changes) - set(EDITABLE):
        raise AdminRefused("invalid_field", f"cannot change {sorted(unknown)}")
    before = await _row(conn, user_id)
    wanted = {k: v for k, v in changes.items() if before.get(k) != v}
    if not wanted:
        return before
    if "role" in wanted and before["role"] == users.ADMIN_ROLE:
        if acting_user_id == user_id:
            raise AdminRefused("own_admin_role", "an administrator cannot remove their own administrator's role")
        await _keep_an_administrator(conn, user_id)
    await conn.execute(update(User.__table__).where(User.id == user_id).values(**wanted))
    after = await _row(conn, user_id)
    action = "user.role_changed" if "role" in wanted else "user.updated"
    await audit.record(conn, actor=actor, action=action, entity="user", entity_id=user_id,
                       before={k: before[k] for k in wanted}, after={k: after[k] for k in wanted})
    return after


async def set_active(conn: AsyncConnection, actor: str, user_id: int, active: bool,
                     acting_user_id: int | None = None) -> bool:
    """Activate or deactivate; returns whether anything changed.  Deactivating ends the user's sessions."""
    before = await _row(conn, user_id)
    if before["active"] == active:
        return False
    if not active and before["role"] == users.ADMIN_ROLE:
        if acting_user_id == user_id:
            raise AdminRefused("own_admin_role", "an administrator cannot deactivate themselves")
        await _keep_an_administrator(conn, user_id)
    await users.set_active(conn, user_id, active)
    await audit.record(conn, actor=actor, action="user.activated" if active else "user.deactivated",
                       entity="user", entity_id=user_id, before={"active": before["active"]}, after={"active": active})
    return True


async def reset_password(conn: AsyncConnection, actor: str, user_id: int, password: str,
                         policy: PasswordPolicy) -> None:
    """A new password (checked against the policy); the user's sessions end."""
    before = await _row(conn, user_id)
    _check_password(policy, password, before["login"])
    await users.set_password(conn, user_id, password)
    await audit.record(conn, actor=actor, action="user.password_reset", entity="user", entity_id=user_id)


async def _keep_an_administrator(conn: AsyncConnection, leaving: int) -> None:
    """Refuse unless another active administrator stays; the administrators' rows stay locked until the
    transaction ends, so two administrators cannot remove each other at the same moment."""
    admins = (await conn.execute(select(User.id).where(User.role == users.ADMIN_ROLE, User.active.is_(True))
                                 .order_by(User.id).with_for_update())).scalars().all()
    if not [a for a in admins if a != leaving]:
        raise AdminRefused("last_administrator", "the last active administrator must stay one")


def _check_password(policy: PasswordPolicy, password: str, login: str) -> None:
    from crm_core.password_policy import WeakPassword

    try:
        policy.check(password, login)
    except WeakPassword as exc:
        raise AdminRefused(f"weak_password.{exc.reason}", exc.detail) from None


async def provision_directory_user(conn: AsyncConnection, actor: str, *, login: str, full_name: str,
                                   role: str) -> int:
    """A user who came from the directory for the first time: no local password; audited."""
    from crm_core.user_import import NO_PASSWORD

    statement = (pg_insert(User.__table__).values(login=login, full_name=full_name, role=role,
                                                  password_hash=NO_PASSWORD, active=True)
                 .on_conflict_do_nothing(index_elements=["login"]).returning(User.id))
    user_id = (await conn.execute(statement)).scalar()
    if user_id is None:
        return await user_id_of(conn, login)
    await audit.record(conn, actor=actor, action="user.created", entity="user", entity_id=user_id,
                       after=_audited(await _row(conn, user_id)))
    return int(user_id)
