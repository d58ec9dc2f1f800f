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
ADMIN_ROLE = "admin"


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


async def has_administrator(conn: AsyncConnection) -> bool:
    """Whether an active user holds the administrator's role (a fresh installation has none)."""
    statement = select(User.id).where(User.role == ADMIN_ROLE, User.active.is_(True)).limit(1)
    return (await conn.execute(statement)).first() is not None


async def find_user(conn: AsyncConnection, login: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(*USER_COLUMNS).where(User.login == login))).first()
    return _user(row) if row is not None else None


async def set_password(conn: AsyncConnection, user_id: int, password: str) -> None:
    """A new password; every session of the user ends with it."""
    password_hash = await asyncio.to_thread(hash_password, password)
    await conn.execute(update(User.__table__).where(User.id == user_id)
                       .values(password_hash=password_hash, password_changed_at=func.now()))
    await end_sessions(conn, user_id)


async def set_active(conn: AsyncConnection, user_id: int, active: bool) -> None:
    """Activate or deactivate (never delete: tickets keep their author); a deactivated user's sessions end."""
    await conn.execute(update(User.__table__).where(User.id == user_id).values(active=active))
    if not active:
        await end_sessions(conn, user_id)


async def end_sessions(conn: AsyncConnection, user_id: int) -> list[str]:
    """End every session of the user; returns the ended sessions' token digests."""
    result = await conn.execute(delete(UserSession.__table__).where(UserSession.user_id == user_id)
                                .returning(UserSession.token_sha256))
    return list(result.scalars().all())


async def password_matches(conn: AsyncConnection, login: str, password: str) -> bool:
    """Whether the active user ``login`` still has ``password`` (a known demo password, say)."""
    row = (await conn.execute(select(User.password_hash).where(User.login == login, User.active.is_(True)))).first()
    return row is not None and await asyncio.to_thread(verify_password, row.password_hash, password)


SESSION_ID_CHARS = 16


async def list_sessions(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """The user's unexpired sessions; a session's id is the start of its token's digest (never the token)."""
    statement = (select(UserSession.token_sha256, UserSession.created_at, UserSession.expires_at)
                 .where(UserSession.user_id == user_id, UserSession.expires_at > func.now())
                 .order_by(UserSession.created_at.desc()))
    return [{"id": row.token_sha256[:SESSION_ID_CHARS], "created_at": row.created_at, "expires_at": row.expires_at}
            for row in (await conn.execute(statement)).all()]


async def end_session(conn: AsyncConnection, user_id: int, session_id: str) -> bool:
    """End one session of the user by its id; whether there was one."""
    if len(session_id) != SESSION_ID_CHARS or not all(c in "0123456789abcdef" for c in session_id):
        return False
    result = await conn.execute(delete(UserSession.__table__).where(
        UserSession.user_id == user_id, func.left(UserSession.token_sha256, SESSION_ID_CHARS) == session_id))
    return bool(result.rowcount)


async def set_extension(conn: AsyncConnection, user_id: int, extension: str | None) -> None:
    """The user's telephone extension (a user created before keeps its row: the extension may change)."""
    await conn.execute(update(User).where(User.id == user_id, User.extension.is_distinct_from(extension))
                       .values(extension=extension))

