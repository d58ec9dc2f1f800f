"""Configuration: the TOML files under ``config/`` parsed into typed sections.

``Settings.load(config_dir)`` reads every file the engine needs and refuses a bad one with the file and
the reason.  A running engine keeps the settings it started with, except the routing and SLA rules
(``routing.toml``, ``sla.toml``): they are re-read when their files change, and a refused change keeps
the last good rules in force.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.routing_rules import RoutingRules, SlaRules, load_rules
from actors.runtime.placement import Placement
from routing.classification import ClassificationRule
from routing.config_source import ConfigError as RoutingConfigError
from routing.ticket_lifecycle import TicketLifecycle

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
    host_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def placement(self) -> Placement:
        return Placement.of(self.shards, self.host_groups)


@dataclass(frozen=True, slots=True)
class TicketSettings:
    number_format: str
    repeat_window_hours: float
    lifecycle: TicketLifecycle
    types: tuple[str, ...]
    priorities: tuple[str, ...]
    categories: Mapping[str, str]
    rules: tuple[ClassificationRule, ...]

    @property
    def statuses(self) -> tuple[str, ...]:
        return self.lifecycle.statuses

    @property
    def transitions(self) -> Mapping[str, frozenset[str]]:
        return self.lifecycle.transitions


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
                host_groups={name: tuple(members) for name, members in raw.get("host_groups", {}).items()},
            )
            Placement.of(engine.shards, engine.host_groups)  # a bad host group is refused here, with the file
            http = HttpSettings(**raw.get("http", {}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{engine_path}: {exc}") from exc
        if os.environ.get("SWITCHBOARD_HTTP_PORT"):
            http = HttpSettings(http.host, int(os.environ["SWITCHBOARD_HTTP_PORT"]))
        try:
            routing, sla = load_rules(directory)
        except RoutingConfigError as exc:
            raise ConfigError(str(exc)) from exc
        except OSError as exc:
            raise ConfigError(f"{exc.filename}: {exc.strerror}") from exc
        return cls(config_dir=directory, engine=engine, http=http,
                   tickets=_load_tickets(directory / "tickets.toml"),
                   channels=_load_channels(directory / "channels"), routing=routing, sla=sla)


def _load_tickets(path: Path) -> TicketSettings:
    raw = read_toml(path)
    try:
        statuses = raw["statuses"]
        return TicketSettings(
            number_format=raw.get("numbering", {}).get("format", "{year:02d}-{seq:06d}"),
            repeat_window_hours=float(raw.get("repeat_contacts", {}).get("window_hours", 72)),
            lifecycle=TicketLifecycle.from_mapping(statuses.get("initial", "new"), statuses["transitions"]),
            types=tuple(raw["types"]), priorities=tuple(raw["priorities"]),
            categories=dict(raw.get("categories", {})),
            rules=tuple(ClassificationRule.from_mapping(r) for r in raw.get("classification", {}).get("rules", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc!r}") from exc


def _load_channels(directory: Path) -> dict[str, dict[str, Any]]:
    """Each ``config/channels/<name>.toml`` holds a ``[<name>]`` table; ``enabled = false`` skips it."""
    channels: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
        table = read_toml(path).get(path.stem)
        if table is None:
            raise ConfigError(f"{path}: expected a [{path.stem}] table")
        channels[path.stem] = table
    return channels
