"""A fresh installation has no administrator: until ``switchboard users add --role admin`` made one,
logins are refused with ``setup_required`` (503), so nobody uses an engine nobody administers."""

from __future__ import annotations

from crm_core import users
from dashboards.context import Gateway
from dashboards.errors import ApiError

KNOWN = "administrator_exists"


async def require_administrator(gw: Gateway) -> None:
    """Refuse with 503 ``setup_required`` while no active administrator exists (checked until one does;
    the last one can never be removed, so the answer is kept once it is yes)."""
    if gw.extra.get(KNOWN):
        return
    async with gw.services.db.connect() as conn:
        exists = await users.has_administrator(conn)
    if not exists:
        raise ApiError(503, "setup_required")
    gw.extra[KNOWN] = True
