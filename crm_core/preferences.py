"""A user's preferences by key (the wall's layout per role, say), kept in ``user_preferences`` so every
gateway of a cluster serves and saves the same."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import UserPreference


async def preference(conn: AsyncConnection, user_id: int, key: str) -> Any:
    """The saved value, or None."""
    return (await conn.execute(select(UserPreference.value).where(
        UserPreference.user_id == user_id, UserPreference.key == key))).scalar_one_or_none()


async def save_preference(conn: AsyncConnection, user_id: int, key: str, value: Any) -> None:
    """Save (replacing the user's value of ``key``); saving the same twice is one."""
    statement = insert(UserPreference).values(user_id=user_id, key=key, value=value)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[UserPreference.user_id, UserPreference.key],
        set_={"value": statement.excluded.value, "updated_at": func.now()}))
