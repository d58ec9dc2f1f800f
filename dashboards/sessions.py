"""Who a session token belongs to, with a short in-memory cache so a busy page does not cost a database
round-trip per request.  A logout drops the entry at once; an expiry is honoured to the second."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core import users
from dashboards.context import Principal
from dashboards.settings import DashboardSettings, Role


class SessionCache:
    def __init__(self, db: AsyncEngine, settings: DashboardSettings, ttl_s: float = 5.0, size: int = 10_000) -> None:
        self.db = db
        self.settings = settings
        self.ttl_s = ttl_s
        self.size = size
        self.entries: dict[str, tuple[float, Principal, datetime]] = {}
        self.roles: Mapping[str, Role] = settings.roles

    def use_roles(self, roles: Mapping[str, Role]) -> None:
        """A new role matrix: in force from the next request of every session."""
        self.roles = roles
        self.entries.clear()

    async def resolve(self, token: str) -> Principal | None:
        entry = self.entries.get(token)
        now = time.time()
        if entry is not None and entry[0] > now and entry[2].timestamp() > now:
            return entry[1]
        self.entries.pop(token, None)
        async with self.db.connect() as conn:
            found = await users.session_user(conn, token)
        if found is None:
            return None
        user, expires_at = found
        role = self.roles.get(user["role"])
        if role is None:
            return None
        who = Principal(id=user["id"], login=user["login"], full_name=user["full_name"], role=role,
                        extension=user["extension"])
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[token] = (now + self.ttl_s, who, expires_at)
        return who

    def forget(self, token: str) -> None:
        self.entries.pop(token, None)

    def forget_user(self, user_id: int) -> None:
        """Drop every cached session of the user (deactivated, password reset, sessions ended): their next
        request asks the database, which no longer knows them."""
        for token in [t for t, (_, who, _) in self.entries.items() if who.id == user_id]:
            self.entries.pop(token, None)
