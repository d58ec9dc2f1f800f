"""Configuration: the TOML files under ``config/`` parsed into typed sections.

``Settings.load(config_dir)`` reads every file the engine needs and refuses a bad one with the file and
the reason.  The files must agree: every ticket type, priority, category, segment, queue, skill, channel
and calendar one names in another's vocabulary must exist (:mod:`routing.vocabulary`); ``tickets.toml``
is read first and the routing and SLA rules are checked against it.  A running engine keeps the
settings it started with, except the routing and SLA rules (``routing.toml``, ``sla.toml``): they are
re-read when their files change, checked the same way, and a refused change keeps the last good rules
in force.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors import channel_secrets
from actors.routing_rules import RoutingRules, SlaRules, load_rules
from actors.runtime.placement import Placement
from routing.config_source import ConfigError as RoutingConfigError
from routing.tickets_config import TicketsConfig, load_tickets_config

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the reason."""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class EngineSettings:
    namespace: str = "switchboard"
    data_dir: Path = Path("var")
    shards: Mapping[str, int] = field(default_factory=lambda: {"conversation": 2, "agent": 1, "queue": 1,
                                                                            "sender": 1})
    crm_workers: int = 2
    redeliver_after_s: float = 3.0
    sweep_every_s: float = 1.0
    keep_handled_days: float = 30.0  # handled inbox items (and so their dedupe keys) are removed after this
    host_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notify_roles: tuple[str, ...] = ("supervisor",)  # who is told of escalations (config [engine.notifications])
    notify_email: bool = True
    demo: bool = False  # `[engine] demo = true`: this installation is a demo; known demo secrets are allowed

    @property
    def placement(self) -> Placement:
        return Placement.of(self.shards, self.host_groups)


#: The ticket configuration as the engine holds it (``config/tickets.toml``).
TicketSettings = TicketsConfig


@dataclass(frozen=True, slots=True)
class Settings:
    config_dir: Path
    engine: EngineSettings
    http: HttpSettings
    tickets: TicketSettings
    channels: Mapping[str, Mapping[str, Any]]
    routing: RoutingRules
    sla: SlaRules

    @classmethod
    def load(cls, config_dir: Path | str | None = None) -> Settings:
        directory = Path(config_dir or os.environ.get("SWITCHBOARD_CONFIG", DEFAULT_CONFIG_DIR)).resolve()
        engine_path = directory / "engine.toml"
        raw = read_toml(engine_path).get("engine", {})
        try:
            engine = EngineSettings(
                namespace=raw.get("namespace", "switchboard"),
                data_dir=Path(os.environ.get("SWITCHBOARD_DATA", raw.get("data_dir", "var"))),
                shards={**EngineSettings().shards, **raw.get("shards", {})},
                crm_workers=int(raw.get("crm", {}).get("workers", 2)),
                redeliver_after_s=float(raw.get("inbox", {}).get("redeliver_after_s", 3.0)),
                sweep_every_s=float(raw.get("inbox", {}).get("sweep_every_s", 1.0)),
                keep_handled_days=float(raw.get("inbox", {}).get("keep_handled_days", 30.0)),
                host_groups={name: tuple(members) for name, members in raw.get("host_groups", {}).items()},
                notify_roles=tuple(raw.get("notifications", {}).get("roles", ("supervisor",))),
                notify_email=bool(raw.get("notifications", {}).get("email", True)),
                demo=bool(raw.get("demo", False)),
            )
            Placement.of(engine.shards, engine.host_groups)  # a bad host group is refused here, with the file
            http = HttpSettings(**raw.get("http", {}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{engine_path}: {exc}") from exc
        if os.environ.get("SWITCHBOARD_HTTP_PORT"):
            http = HttpSettings(http.host, int(os.environ["SWITCHBOARD_HTTP_PORT"]))
        try:
            tickets = load_tickets_config(_read(directory / "tickets.toml"), str(directory / "tickets.toml"))
            routing, sla = load_rules(directory, tickets.vocabulary())
        except RoutingConfigError as exc:
            raise ConfigError(str(exc)) from exc
        except OSError as exc:
            raise ConfigError(f"{exc.filename}: {exc.strerror}") from exc
        return cls(config_dir=directory, engine=engine, http=http, tickets=tickets,
                   channels=_load_channels(directory / "channels", engine.data_dir), routing=routing, sla=sla)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc


def _load_channels(directory: Path, data_dir: Path) -> dict[str, dict[str, Any]]:
    """Each ``config/channels/<name>.toml`` holds a ``[<name>]`` table; ``enabled = false`` skips it.  Its
    secrets are filled in from the environment or the secrets file (:mod:`actors.channel_secrets`)."""
    try:
        secrets = channel_secrets.read_secrets(channel_secrets.secrets_path(data_dir))
    except channel_secrets.SecretsFileError as exc:
        raise ConfigError(str(exc)) from exc
    channels: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
        table = read_toml(path).get(path.stem)
        if table is None:
            raise ConfigError(f"{path}: expected a [{path.stem}] table")
        channels[path.stem] = channel_secrets.resolve(path.stem, table, secrets)
    return channels
