"""Password logins against Active Directory / LDAP (ldap3): the user's own bind over TLS proves the
password; the groups the user is a member of give the role, through ``[ldap.groups]`` of dashboards.toml
(first match wins).  A directory that cannot be reached is :class:`DirectoryUnavailable`, never a
refused password."""

from __future__ import annotations

import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class DirectoryUnavailable(Exception):
    """The directory did not answer (down, unreachable, TLS refused); ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return type(self), (self.reason,)


@dataclass(frozen=True, slots=True)
class LdapSettings:
    url: str  # ldaps://dc1.gas.example.ua:636
    user_dn: str  # "uid={login},ou=people,dc=gas,dc=example,dc=ua" (AD: "{login}@gas.example.ua" also works)
    group_base: str
    groups: Mapping[str, str]  # group cn -> role, in order
    ca_file: str | None = None
    timeout_s: float = 3.0
    #: logins that keep their local password while the directory is in use (the break-glass
    #: administrators); every other user logs in through the directory only
    local_logins: tuple[str, ...] = ()
    create_users: bool = True  # a directory user of a mapped group logging in for the first time is created

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> LdapSettings | None:
        if not table.get("enabled", False):
            return None
        return cls(url=str(table["url"]), user_dn=str(table["user_dn"]), group_base=str(table["group_base"]),
                   groups=dict(table.get("groups", {})), ca_file=table.get("ca_file") or None,
                   timeout_s=float(table.get("timeout_s", 3.0)), local_logins=tuple(table.get("local_logins", ())),
                   create_users=bool(table.get("create_users", True)))


@dataclass(frozen=True, slots=True)
class DirectoryPerson:
    login: str
    full_name: str
    groups: tuple[str, ...]


class LdapDirectory:
    def __init__(self, settings: LdapSettings) -> None:
        import ldap3

        self.settings = settings
        parts = urlsplit(settings.url)
        secure = parts.scheme == "ldaps"
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file) if secure else None
        self.server = ldap3.Server(parts.hostname or "localhost", port=parts.port or (636 if secure else 389),
                                   use_ssl=secure, tls=tls, connect_timeout=settings.timeout_s, get_info=ldap3.NONE)

    def verify(self, login: str, password: str) -> DirectoryPerson | None:
        """The person when ``password`` is theirs, None when it is not (blocking: run it in a thread)."""
        import ldap3
        from ldap3.core import exceptions as errors
        from ldap3.utils.conv import escape_filter_chars
        from ldap3.utils.dn import escape_rdn

        if not login or not password:  # an empty password would be an anonymous bind, which "succeeds"
            return None
        dn = self.settings.user_dn.format(login=escape_rdn(login))
        connection = ldap3.Connection(self.server, dn, password, receive_timeout=max(1, math.ceil(self.settings.timeout_s)),
                                      raise_exceptions=False)
        try:
            if not connection.bind():
                return None
            connection.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["cn"])
            full_name = str(connection.entries[0].cn) if connection.entries else login
            connection.search(self.settings.group_base, f"(member={escape_filter_chars(dn)})", attributes=["cn"])
            groups = tuple(str(entry.cn) for entry in connection.entries)
        except (errors.LDAPSocketOpenError, errors.LDAPSocketReceiveError, errors.LDAPSessionTerminatedByServerError,
                errors.LDAPStartTLSError, errors.LDAPCommunicationError) as exc:
            raise DirectoryUnavailable(type(exc).__name__) from None
        finally:
            connection.unbind()
        return DirectoryPerson(login, full_name, groups)

    def role_for(self, person: DirectoryPerson) -> str | None:
        return next((role for group, role in self.settings.groups.items() if group in person.groups), None)
