"""Users and their login sessions.

Passwords are hashed with Argon2id (argon2-cffi defaults); a session token is handed to the browser or
API client once and stored only as its SHA-256, so a leaked table grants no logins.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import User, UserSession

_hasher = PasswordHasher()
# Verified against when the login is unknown, so a wrong login costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("switchboard-no-such-user")

USER_COLUMNS = (User.id, User.login, User.full_name, User.role, User.skills, User.queues, User.capacity,
                User.extension, User.active)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


async def create_user(conn: AsyncConnection, *, login: str, full_name: str, role: str, password: str,
                      **values: Any) -> int:
    """Create a user; a login that exists already is left as it is and its id returned."""
    password_hash = await asyncio.to_thread(hash_password, password)
    statement = (pg_insert(User.__table__)
                 .values(login=login, full_name=full_name, role=role, password_hash=password_hash, **values)
                 .on_conflict_do_nothing(index_elements=["login"]).returning(User.id))
    user_id = (await conn.execute(statement)).scalar()
    if user_id is None:
        user_id = (await conn.execute(select(User.id).where(User.login == login))).scalar_one()
    return int(user_id)


async def get_user(conn: AsyncConnection, user_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(select(*USER_COLUMNS).where(User.id == user_id))).first()
    return _user(row) if row is not None else None


async def list_users(conn: AsyncConnection, roles: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    statement = select(*USER_COLUMNS).order_by(User.id)
    if roles:
        statement = statement.where(User.role.in_(roles))
    return [_user(r) for r in (await conn.execute(statement)).all()]


async def authenticate(conn: AsyncConnection, login: str, password: str,
                       hash_in: Callable[..., Awaitable[Any]] = asyncio.to_thread) -> dict[str, Any] | None:
    """The active user with this login and password, or None; rehashes an outdated hash.  The hashes run
    through ``hash_in`` (a bounded pool keeps a flood of logins from taking every core)."""
    row = (await conn.execute(select(*USER_COLUMNS, User.password_hash).where(User.login == login))).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    if not await hash_in(verify_password, stored, password) or row is None or not row.active:
        return None
    if _hasher.check_needs_rehash(stored):
        new_hash = await hash_in(hash_password, password)
        await conn.execute(update(User.__table__).where(User.id == row.id).values(password_hash=new_hash))
    user = _user(row)
    user.pop("password_hash")
    return user


async def open_session(conn: AsyncConnection, user_id: int, ttl: timedelta) -> tuple[str, datetime]:
    """A new session for the user: the token (shown once) and when it expires."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl
    await conn.execute(pg_insert(UserSession.__table__).values(
        token_sha256=token_digest(token), user_id=user_id, expires_at=expires_at))
    return token, expires_at


async def session_user(conn: AsyncConnection, token: str) -> tuple[dict[str, Any], datetime] | None:
    """The active user behind an unexpired session token, with the session's expiry."""
    statement = (select(*USER_COLUMNS, UserSession.expires_at)
                 .join(UserSession, UserSession.user_id == User.id)
                 .where(UserSession.token_sha256 == token_digest(token), UserSession.expires_at > func.now(),
                        User.active.is_(True)))
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    user = _user(row)
    return user, user.pop("expires_at")


async def close_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(delete(UserSession.__table__).where(UserSession.token_sha256 == token_digest(token)))


async def purge_expired_sessions(conn: AsyncConnection) -> int:
    result = await conn.execute(delete(UserSession.__table__).where(UserSession.expires_at <= func.now()))
    return result.rowcount or 0
