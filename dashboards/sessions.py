"""Who a session token belongs to, with a short in-memory cache so a busy page does not cost a database
round-trip per request.  A logout drops the entry at once; an expiry is honoured to the second.

Concurrent look-ups of one token are coalesced into one query: a thousand live screens of one supervisor
opening at once (or their heartbeats' checks coming due together) hold one pooled database connection
for one statement, not one each while the pool runs dry and the API behind it waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core import users
from dashboards.context import Principal
from dashboards.settings import DashboardSettings, Role

Found = tuple[Principal, datetime] | None


class SessionCache:
    def __init__(self, db: AsyncEngine, settings: DashboardSettings, ttl_s: float = 5.0, size: int = 10_000) -> None:
        self.db = db
        self.settings = settings
        self.ttl_s = ttl_s
        self.size = size
        self.entries: dict[str, tuple[float, Principal, datetime]] = {}
        self.roles: Mapping[str, Role] = settings.roles
        self._looking: dict[str, asyncio.Future[Found]] = {}

    def use_roles(self, roles: Mapping[str, Role]) -> None:
        """A new role matrix: in force from the next request of every session."""
        self.roles = roles
        self.entries.clear()
        self._looking.clear()

    async def resolve(self, token: str) -> Principal | None:
        entry = self.entries.get(token)
        now = time.time()
        if entry is not None and entry[0] > now and entry[2].timestamp() > now:
            return entry[1]
        self.entries.pop(token, None)
        looking = self._looking.get(token)
        if looking is None:
            looking = asyncio.ensure_future(self._look_up(token))
            self._looking[token] = looking
            looking.add_done_callback(lambda done: self._looked_up(token, done))
        found = await asyncio.shield(looking)
        return found[0] if found is not None else None

    async def _look_up(self, token: str) -> Found:
        async with self.db.connect() as conn:
            found = await users.session_user(conn, token)
        if found is None:
            return None
        user, expires_at = found
        role = self.roles.get(user["role"])
        if role is None:
            return None
        return Principal(id=user["id"], login=user["login"], full_name=user["full_name"], role=role,
                         extension=user["extension"]), expires_at

    def _looked_up(self, token: str, done: asyncio.Future[Found]) -> None:
        if self._looking.get(token) is not done:  # forgotten (logged out) while the query ran
            return
        del self._looking[token]
        if done.cancelled() or done.exception() is not None or done.result() is None:
            return
        who, expires_at = done.result()  # type: ignore[misc]
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[token] = (time.time() + self.ttl_s, who, expires_at)

    def forget(self, token: str) -> None:
        self.entries.pop(token, None)
        self._looking.pop(token, None)

    def forget_user(self, user_id: int) -> None:
        """Drop every cached session of the user (deactivated, password reset, sessions ended): their next
        request asks the database, which no longer knows them.  Look-ups under way are not cached."""
        for token in [t for t, (_, who, _) in self.entries.items() if who.id == user_id]:
            self.entries.pop(token, None)
        self._looking.clear()
