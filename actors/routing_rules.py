"""The routing and SLA configuration as the running engine holds it, and how routing values are stored.

``config/routing.toml`` and ``config/sla.toml`` are parsed by the routing package's own loaders.  A
:class:`WatchedConfig` re-reads its file when it changes (checked at most every few seconds, when the
configuration is used); a changed file that is refused keeps the engine on its last good configuration
and the refusal (file, line, reason) is logged.

Conversations arrive on many channels, but an agent's capacity and a queue's decisions count three
kinds of work: calls, chats and e-mails (:func:`routing_channel`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from routing.config import LastGoodConfig, RoutingConfig, load_routing_config
from routing.config_source import ConfigError
from routing.escalation import ActionKind
from routing.skills import CHAT, EMAIL, VOICE, Requirements
from routing.sla_config import SlaConfig, load_sla_config
from routing.vocabulary import Vocabulary

log = logging.getLogger(__name__)

Config = TypeVar("Config")

#: Channels whose conversations count as calls or as e-mails; every other channel is chat work.
CHANNEL_KINDS: Mapping[str, str] = {"voice": VOICE, "email": EMAIL, "web_form": EMAIL}

CHECK_EVERY_S = 2.0


def routing_channel(channel: str) -> str:
    """The kind of work a conversation of this channel is for capacity and routing: voice, chat, email."""
    return CHANNEL_KINDS.get(channel, CHAT)


class WatchedConfig(Generic[Config]):
    """One configuration file, parsed by ``loader``; reloaded when the file's modification time changes."""

    def __init__(self, path: Path, loader: Callable[[str, str], Config],
                 check_every_s: float = CHECK_EVERY_S) -> None:
        self.path = path
        self.loader = loader
        self.check_every_s = check_every_s
        self._stamp = self._modified()
        self._held = LastGoodConfig(loader, self._read(), str(path))
        self._checked_at = time.monotonic()

    @property
    def current(self) -> Config:
        """The configuration in force (re-read first if the file changed since the last check)."""
        now = time.monotonic()
        if now - self._checked_at >= self.check_every_s:
            self._checked_at = now
            if self._modified() != self._stamp:
                self.reload()
        return self._held.current

    def reload(self) -> ConfigError | None:
        """Read the file again; a refused version is logged and the last good one stays in force."""
        self._stamp = self._modified()
        try:
            text = self._read()
        except OSError as exc:
            error = ConfigError(str(self.path), 1, f"cannot be read: {exc}")
        else:
            error = self._held.reload(text, str(self.path))
        if error is not None:
            log.error("configuration refused, the last good one stays in force: %s", error)
        return error

    def _read(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def _modified(self) -> float | None:
        try:
            return os.stat(self.path).st_mtime
        except OSError:
            return None


RoutingRules = WatchedConfig[RoutingConfig]
SlaRules = WatchedConfig[SlaConfig]


def load_rules(directory: Path, vocabulary: Vocabulary | None = None) -> tuple[RoutingRules, SlaRules]:
    """``routing.toml`` and ``sla.toml`` of a config directory, checked at load and on every reload
    against ``vocabulary`` (the tickets' types, priorities and categories, the CRM's segments) and
    against each other: escalations to unknown queues or departments are refused against the routing
    configuration in force, and a routing change that drops a queue or department the SLA rules in
    force name is refused too."""
    held: dict[str, SlaRules] = {}

    def load_routing(text: str, file: str) -> RoutingConfig:
        config = load_routing_config(text, file, vocabulary)
        if "sla" in held:
            _check_sla_targets(held["sla"].current, config)
        return config

    routing: RoutingRules = WatchedConfig(directory / "routing.toml", load_routing)

    def load_sla(text: str, file: str) -> SlaConfig:
        queues = routing.current.queues
        return load_sla_config(text, file, queues=queues, vocabulary=vocabulary,
                               departments={q.department for q in queues.values() if q.department})

    held["sla"] = WatchedConfig(directory / "sla.toml", load_sla)
    return routing, held["sla"]


def _check_sla_targets(sla: SlaConfig, routing: RoutingConfig) -> None:
    departments = {q.department for q in routing.queues.values() if q.department}
    for rule in sla.escalations.rules:
        for action in rule.actions:
            missing = (action.kind is ActionKind.MOVE_TO_QUEUE and action.value not in routing.queues) or \
                (action.kind is ActionKind.DEPARTMENT and action.value not in departments)
            if missing:
                known = routing.queues if action.kind is ActionKind.MOVE_TO_QUEUE else sorted(departments)
                raise ConfigError(routing.file, 1, f"{sla.file} escalation {rule.name!r} names "
                                  f"{action.kind.value} {action.value!r}, which this file no longer has "
                                  f"(known: {', '.join(known)})")


# --- requirements as stored in a conversation's state ------------------------------------------------


def requirements_to_json(requirements: Requirements) -> list[Any]:
    channel, skills, language, segment, department, agent = requirements
    return [channel, [list(pair) for pair in skills], language, segment, department, agent]


def requirements_from_json(stored: Sequence[Any] | None, channel: str) -> Requirements:
    """Requirements saved by :func:`requirements_to_json`; just the channel when nothing was saved."""
    if not stored:
        return Requirements.of(routing_channel(channel))
    kind, skills, language, segment, department, agent = stored
    return Requirements(kind, tuple((str(name), int(level)) for name, level in skills), language, segment,
                        department, agent)
