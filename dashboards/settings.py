"""The gateway's own configuration: ``config/dashboards.toml`` and the role matrix ``config/roles.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

API_CHANNELS = ("webchat", "web_form", "app")
MASKABLE = ("name", "phone", "email", "messenger", "address", "account_no", "balance", "passport")
PERMISSIONS = ("desktop", "conversations.any", "clients.search", "clients.edit", "clients.merge", "tickets.read",
               "tickets.read_own", "tickets.create", "wall.view", "wall.act", "actors.view", "reports.view", "reports.own",
               "reports.export", "audit.read", "intake.parked", "admin.users", "admin.roles", "admin.keys",
               "informing.templates", "informing.send")


class DashboardConfigError(ValueError):
    """A dashboards or roles file that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    permissions: frozenset[str]
    mask: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True, slots=True)
class ApiSource:
    """One source of the generic API channel (a web site's chat, a form, the mobile app); its keys are in
    the database (``crm_core.api_keys``)."""

    name: str
    channel: str


@dataclass(frozen=True, slots=True)
class Limits:
    json_body_bytes: int = 65_536
    inbound_body_bytes: int = 8 * 1024 * 1024
    attachment_bytes: int = 2 * 1024 * 1024
    attachments_per_message: int = 5
    text_chars: int = 20_000
    export_batch_rows: int = 5_000
    body_read_s: float = 30.0  # a client that has not sent its whole body by then gets 408
    header_read_s: float = 20.0  # nor its request line and headers: 408, closed (dashboards/client_guard.py)
    connections_per_address: int = 500  # open connections of one client address; 0: no limit


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Wrong logins: after ``free_failures`` within ``window_s`` per account or per address, each next try
    waits ``base_delay_s`` doubled per failure up to ``max_delay_s`` (429, Retry-After) and is refused
    without hashing; at most ``hash_workers`` password hashes run at once."""

    free_failures: int = 5
    base_delay_s: float = 2.0
    max_delay_s: float = 900.0
    window_s: float = 3600.0
    hash_workers: int = 1


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    roles: Mapping[str, Role]
    sources: Mapping[str, ApiSource]
    session_ttl: timedelta = timedelta(hours=12)
    session_cookie: str = "sb_session"
    session_purge_every_s: float = 600.0
    limits: Limits = field(default_factory=Limits)
    default_language: str = "uk"
    languages: tuple[str, ...] = ("uk", "en")
    heartbeat_s: float = 10.0
    relay_ring: int = 20_000
    widgets: tuple[str, ...] = ("queues", "agents", "tickets", "escalations", "actors")
    default_widgets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reply_templates: tuple[str, ...] = ()  # keys; the texts are locale strings "template.<key>"
    ldap: Mapping[str, Any] = field(default_factory=dict)  # [ldap]: see dashboards/directory.py
    behind_tls_proxy: bool = False
    metrics_token_env: str = "SWITCHBOARD_METRICS_TOKEN"
    login: LoginThrottle = field(default_factory=lambda: LoginThrottle())

    @classmethod
    def load(cls, config_dir: Path) -> DashboardSettings:
        roles = _load_roles(config_dir / "roles.toml")
        path = config_dir / "dashboards.toml"
        raw = _read(path)
        try:
            session, i18n, live, widgets = (raw.get(k, {}) for k in ("session", "i18n", "live", "widgets"))
            sources = {}
            for name, table in raw.get("inbound", {}).get("sources", {}).items():
                if table["channel"] not in API_CHANNELS:
                    raise ValueError(f"source {name}: channel must be one of {API_CHANNELS}")
                sources[name] = ApiSource(name, table["channel"])
            available = tuple(widgets.get("available", cls.widgets))
            defaults = {role: tuple(names) for role, names in widgets.get("defaults", {}).items()}
            if unknown := {w for names in defaults.values() for w in names} - set(available):
                raise ValueError(f"unknown widgets {sorted(unknown)}")
            return cls(roles=roles, sources=sources,
                       session_ttl=timedelta(hours=float(session.get("ttl_hours", 12))),
                       session_cookie=session.get("cookie", "sb_session"),
                       session_purge_every_s=float(session.get("purge_every_minutes", 10)) * 60,
                       limits=Limits(**raw.get("limits", {})),
                       default_language=i18n.get("default", "uk"), languages=tuple(i18n.get("languages", ("uk", "en"))),
                       heartbeat_s=float(live.get("heartbeat_s", 10)), relay_ring=int(live.get("relay_ring", 20_000)),
                       widgets=available, default_widgets=defaults,
                       reply_templates=tuple(raw.get("replies", {}).get("templates", ())),
                       ldap=dict(raw.get("ldap", {})),
                       behind_tls_proxy=bool(raw.get("security", {}).get("behind_tls_proxy", False)),
                       login=LoginThrottle(**raw.get("login", {})),
                       metrics_token_env=str(raw.get("metrics", {}).get("token_env", "SWITCHBOARD_METRICS_TOKEN")))
        except (KeyError, TypeError, ValueError) as exc:
            raise DashboardConfigError(f"{path}: {exc!r}") from exc


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError) as exc:
        raise DashboardConfigError(f"{path}: {exc}") from exc


def role_of(name: str, table: Mapping[str, Any]) -> Role:
    """One role from its table (``permissions``, ``mask``); ValueError names what is unknown."""
    permissions, mask = table.get("permissions", ()), table.get("mask", ())
    if not isinstance(permissions, list | tuple) or not isinstance(mask, list | tuple):
        raise ValueError(f"role {name}: permissions and mask are lists")
    if unknown := sorted(set(map(str, permissions)) - set(PERMISSIONS)):
        raise ValueError(f"role {name}: unknown permissions {unknown}")
    if unknown := sorted(set(map(str, mask)) - set(MASKABLE)):
        raise ValueError(f"role {name}: unknown mask fields {unknown}")
    return Role(name, frozenset(permissions), frozenset(mask))


def _load_roles(path: Path) -> dict[str, Role]:
    roles = {}
    for name, table in _read(path).get("roles", {}).items():
        try:
            roles[name] = role_of(name, table)
        except ValueError as exc:
            raise DashboardConfigError(f"{path}: {exc}") from exc
    if not roles:
        raise DashboardConfigError(f"{path}: no roles defined")
    return roles
