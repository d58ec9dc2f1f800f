"""Security events: logins (success, failure; which way they came), logouts, changes of users, roles and
keys, exports of personal data.  Each is an entry of the audit log (entity ``security``) and a JSON log
line of the ``switchboard.security`` logger with an ``event`` object, so a SIEM (ELK) takes them as they
are."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from crm_core import audit
from dashboards.context import PRINCIPAL, gateway

log = logging.getLogger("switchboard.security")


def _where(request: web.Request) -> dict[str, Any]:
    who = request.get(PRINCIPAL)
    return {"remote": request.remote, "user_agent": request.headers.get("User-Agent", "")[:200],
            **({"by_user": who.id, "by_login": who.login} if who is not None else {})}


def emit(request: web.Request, action: str, **fields: Any) -> None:
    """The JSON log line only (the audit entry is written elsewhere in the change's own transaction)."""
    log.info(action, extra={"event": {"action": action, **_where(request), **fields}})


async def record(request: web.Request, action: str, *, entity_id: str | int, actor: str | None = None,
                 **fields: Any) -> None:
    """An audit entry in a transaction of its own (a refused login still leaves its trace) and the log line."""
    who = request.get(PRINCIPAL)
    details = {"action": action, **_where(request), **fields}
    async with gateway(request).services.db.begin() as conn:
        await audit.record(conn, actor=actor or (who.author if who else "anonymous"), action=action,
                           entity="security", entity_id=entity_id, after=details)
    log.info(action, extra={"event": details})


async def login_throttled(request: web.Request, login: str) -> None:
    """A login refused unheard: too many failures of the account or from the address (429)."""
    await record(request, "login.throttled", entity_id=login[:64], login=login)


async def login(request: web.Request, login: str, user: dict[str, Any] | None, method: str = "password") -> None:
    """A login that succeeded (``user`` given) or failed, and which way it came (password, ldap, saml...)."""
    if user is None:
        await record(request, "login.failed", entity_id=login[:64], login=login, method=method)
    else:
        await record(request, "login.succeeded", entity_id=user["id"], actor=f"user:{user['id']}",
                     login=user["login"], method=method)
