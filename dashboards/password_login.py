"""Which way a login with a password goes: the local password (Argon2) or, when ``[ldap]`` is enabled,
the directory.  With the directory on, only its ``local_logins`` (break-glass administrators) keep a
local password, and they keep it when the directory is down; everyone else gets a clear 503
``directory_unavailable`` then.  A directory user is created (or their role follows their groups) at
login, each change audited."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import user_admin, users
from dashboards.context import Gateway
from dashboards.directory import DirectoryUnavailable, LdapDirectory, LdapSettings
from dashboards.errors import ApiError

log = logging.getLogger(__name__)

DIRECTORY = "ldap_directory"
ACTOR = "directory:ldap"


def directory(gw: Gateway) -> LdapDirectory | None:
    if DIRECTORY not in gw.extra:
        settings = LdapSettings.from_table(gw.settings.ldap)
        gw.extra[DIRECTORY] = LdapDirectory(settings) if settings is not None else None
    return gw.extra[DIRECTORY]


async def authenticate(gw: Gateway, conn: AsyncConnection, login: str,
                       password: str) -> tuple[dict[str, Any] | None, str]:
    """The active user and the way they came ("password" or "ldap"), or (None, way) when refused."""
    ldap = directory(gw)
    if ldap is None or login in ldap.settings.local_logins:
        return await users.authenticate(conn, login, password, hash_in=gw.logins.hash_in), "password"
    try:
        person = await asyncio.to_thread(ldap.verify, login, password)
    except DirectoryUnavailable as exc:
        log.warning("directory unavailable for the login of %r: %s", login, exc.reason)
        raise ApiError(503, "directory_unavailable") from None
    role = ldap.role_for(person) if person is not None else None
    if person is None or role is None:
        return None, "ldap"
    found = await users.find_user(conn, login)
    if found is None:
        if not ldap.settings.create_users:
            return None, "ldap"
        await user_admin.provision_directory_user(conn, ACTOR, login=login, full_name=person.full_name, role=role)
    elif not found["active"]:
        return None, "ldap"
    elif found["role"] != role:
        try:
            await user_admin.update_user(conn, ACTOR, found["id"], {"role": role})
        except user_admin.AdminRefused as exc:
            log.warning("the directory's role %s for %r not taken: %s", role, login, exc.detail)
    return await users.find_user(conn, login), "ldap"
