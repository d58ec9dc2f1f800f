"""The routing configuration (``config/routing.toml``): queues, strategies, capacity, workflow.

:func:`load_routing_config` turns TOML text into a validated :class:`RoutingConfig` or refuses it with
:class:`~routing.config_source.ConfigError` (file, line, reason): unknown queue, unknown strategy or
skill, a cycle of overflows, an expression that does not parse.  Routing does no file I/O: the caller
reads the file and passes its text and name.  :class:`LastGoodConfig` keeps the running engine on its
last good configuration when a reload is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from routing.config_source import ConfigError, Section, parse_toml
from routing.expressions import ExpressionError, parse
from routing.priority import DEFAULT_POINTS, PRIORITIES, Ordering
from routing.queue_book import QueueBook
from routing.service_level import ServiceLevelConfig, load_service_level
from routing.skills import DEFAULT_CAPACITY, MAX_LEVEL, MIN_LEVEL, VOICE
from routing.strategies import STRATEGIES, Strategy, strategy_named
from routing.vocabulary import Vocabulary
from routing.workflow import MATCHABLE, Filter, Overflow, Target, Workflow

#: Conversation attributes routing expressions may use.
#: How a queue offers: ``reserve`` (one agent accepts or rejects within the offer timeout), ``ring_all``
#: (every eligible agent free for it at once; the first to accept takes it) or ``auto_accept`` (the
#: conversation is the agent's as soon as the agent has room for it).
OFFER_MODES = ("reserve", "ring_all", "auto_accept")
ATTRIBUTES = ("channel", "category", "type", "priority", "segment", "language", "department", "identified")


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    department: str | None
    channels: tuple[str, ...]
    strategy: str
    sticky: bool
    offer_timeout: float
    ordering: Ordering
    overflow: Overflow | None
    offer_mode: str = "reserve"

    def new_strategy(self) -> Strategy:
        return strategy_named(self.strategy, sticky=self.sticky)

    def new_book(self) -> QueueBook:
        """An empty queue book for this queue (the queue actor's decision structure)."""
        return QueueBook(self.name, self.new_strategy(), self.ordering, ring_all=self.offer_mode == "ring_all")


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    file: str
    skills: tuple[str, ...]
    capacity: Mapping[str, int]
    wrap_up: Mapping[str, float]
    offer_timeout: float
    max_missed_offers: int
    pending_offers: int
    queues: Mapping[str, QueueConfig]
    workflow: Workflow
    service_level: ServiceLevelConfig = ServiceLevelConfig()

    def queue_for_department(self, department: str) -> str | None:
        """The first queue of a department (transfers to a department land there)."""
        return next((q.name for q in self.queues.values() if q.department == department), None)


def _target(section: Section, queues: Mapping[str, Section], skills: tuple[str, ...], vocabulary: Vocabulary,
            ) -> Target:
    section.only("queue", "skills", "match", "department", "priority", "timeout", "skip_when_unstaffed")
    queue = section.get("queue", str)
    section.check("queue", queue in queues, f"unknown queue {queue!r} (known: {', '.join(queues)})")
    required = section.table("skills", {})
    for name, level in required.data.items():
        required.check(name, name in skills, f"unknown skill {name!r} (known: {', '.join(skills)})")
        required.check(name, isinstance(level, int) and not isinstance(level, bool)
                       and MIN_LEVEL <= level <= MAX_LEVEL, f"skill {name!r}: level must be {MIN_LEVEL}-{MAX_LEVEL}")
    match = section.strings("match", [])
    for name in match:
        section.check("match", name in MATCHABLE, f"cannot match {name!r} (can match: {', '.join(MATCHABLE)})")
    priority = section.get("priority", str, None)
    section.check("priority", priority is None or priority in PRIORITIES,
                  f"unknown priority {priority!r} (known: {', '.join(PRIORITIES)})")
    if priority is not None:
        vocabulary.check(section, "priority", "priority", priority)
    department = section.get("department", str, None)
    if department is not None:
        vocabulary.check(section, "department", "department", department)
    return Target(queue, dict(required.data), tuple(match), section.get("department", str, None), priority,
                  section.duration("timeout", None), section.get("skip_when_unstaffed", bool, False))


def _targets(section: Section, queues: Mapping[str, Section], skills: tuple[str, ...], vocabulary: Vocabulary,
             ) -> tuple[Target, ...]:
    targets = tuple(_target(t, queues, skills, vocabulary) for t in section.tables("targets"))
    section.check("targets", bool(targets), f"{section.where('targets')!r} needs at least one target")
    return targets


def _workflow(section: Section, queues: Mapping[str, Section], skills: tuple[str, ...], vocabulary: Vocabulary,
              ) -> Workflow:
    section.only("filters", "default")
    filters = []
    for flt in section.tables("filters"):
        flt.only("name", "when", "targets")
        text = flt.get("when", str)
        try:
            expression = parse(text, ATTRIBUTES)
        except ExpressionError as exc:
            flt.fail("when", f"expression {text!r} does not parse: {exc}")
        vocabulary.check_expression(flt, "when", expression)
        filters.append(Filter(flt.get("name", str), expression, _targets(flt, queues, skills, vocabulary)))
    default = section.table("default")
    return Workflow(tuple(filters), _targets(default, queues, skills, vocabulary))


def _ordering(section: Section, vocabulary: Vocabulary) -> Ordering:
    section.only("points", "aging_per_minute")
    points = section.table("points", {})
    merged = dict(DEFAULT_POINTS)
    for name in points.data:
        points.check(name, name in PRIORITIES, f"unknown priority {name!r} (known: {', '.join(PRIORITIES)})")
        vocabulary.check(points, name, "priority", name)
        merged[name] = float(points.get(name, (int, float)))
    aging = float(section.get("aging_per_minute", (int, float), 10.0))
    section.check("aging_per_minute", aging >= 0, "aging_per_minute must not be negative")
    return Ordering(merged, aging / 60.0)


def _check_overflow_cycles(queues: Mapping[str, QueueConfig], sections: Mapping[str, Section]) -> None:
    for start in queues:
        seen = [start]
        current = queues[start].overflow
        while current is not None:
            if current.to in seen:
                cycle = " -> ".join([*seen[seen.index(current.to):], current.to])
                sections[seen[-1]].fail("overflow", f"overflow cycle: {cycle}")
            seen.append(current.to)
            current = queues[current.to].overflow


def _queue(name: str, section: Section, ordering: Ordering, queue_names: Mapping[str, Section],
           offer_timeout: float, vocabulary: Vocabulary) -> QueueConfig:
    section.only("department", "channels", "strategy", "sticky", "offer_timeout", "overflow", "offer_mode")
    offer_mode = section.get("offer_mode", str, "reserve")
    section.check("offer_mode", offer_mode in OFFER_MODES,
                  f"unknown offer_mode {offer_mode!r} (known: {', '.join(OFFER_MODES)})")
    strategy = section.get("strategy", str, "longest_idle")
    section.check("strategy", strategy in STRATEGIES,
                  f"unknown strategy {strategy!r} (known: {', '.join(sorted(STRATEGIES))})")
    overflow = None
    if "overflow" in section.data:
        spec = section.table("overflow")
        spec.only("to", "after", "max_waiting")
        to = spec.get("to", str)
        spec.check("to", to in queue_names, f"overflow to unknown queue {to!r} (known: {', '.join(queue_names)})")
        spec.check("to", to != name, f"queue {name!r} overflows into itself")
        max_waiting = spec.get("max_waiting", int, None)
        spec.check("max_waiting", max_waiting is None or max_waiting > 0, "max_waiting must be positive")
        overflow = Overflow(to, spec.duration("after", None), max_waiting)
        spec.check("to", overflow.after is not None or max_waiting is not None,
                   "overflow needs 'after' or 'max_waiting'")
    channels = tuple(section.strings("channels", list(DEFAULT_CAPACITY)))
    vocabulary.check_all(section, "channels", "channel", channels)
    return QueueConfig(name, section.get("department", str, None), channels, strategy,
                       section.get("sticky", bool, False), section.duration("offer_timeout", offer_timeout) or 0.0,
                       ordering, overflow, offer_mode)


def load_routing_config(text: str, file: str, vocabulary: Vocabulary | None = None) -> RoutingConfig:
    """Parse and validate ``config/routing.toml`` text; raises ConfigError with file and line.  Values of
    other files' vocabularies (priorities, categories, types, segments, channels) are checked against
    ``vocabulary`` (default: the segments and channels of the CRM and the channels)."""
    vocabulary = vocabulary or Vocabulary.base()
    data, source = parse_toml(text, file)
    root = Section(data, (), file, source)
    root.only("skills", "defaults", "priorities", "queues", "workflow", "service_level")
    skills = tuple(root.strings("skills", []))
    defaults = root.table("defaults", {})
    defaults.only("offer_timeout", "max_missed_offers", "pending_offers", "capacity", "wrap_up")
    capacity = dict(DEFAULT_CAPACITY)
    cap = defaults.table("capacity", {})
    for channel in cap.data:
        vocabulary.check(cap, channel, "channel", channel)
        slots = cap.get(channel, int)
        cap.check(channel, slots >= 0, f"capacity for {channel!r} must not be negative")
        capacity[channel] = slots
    wrap = defaults.table("wrap_up", {})
    for channel in wrap.data:
        vocabulary.check(wrap, channel, "channel", channel)
    wrap_up = {VOICE: 30.0} | {channel: float(wrap.get(channel, (int, float))) for channel in wrap.data}
    offer_timeout = defaults.duration("offer_timeout", 20.0) or 20.0
    misses = defaults.get("max_missed_offers", int, 3)
    defaults.check("max_missed_offers", misses >= 0, "max_missed_offers must not be negative")
    pending = defaults.get("pending_offers", int, 1)
    defaults.check("pending_offers", pending >= 0, "pending_offers must not be negative (0: capacity only)")
    ordering = _ordering(root.table("priorities", {}), vocabulary)
    queue_sections = dict(root.table("queues").items())
    root.check("queues", bool(queue_sections), "at least one queue is required")
    queues = {name: _queue(name, section, ordering, queue_sections, offer_timeout, vocabulary)
              for name, section in queue_sections.items()}
    _check_overflow_cycles(queues, queue_sections)
    vocabulary = vocabulary.with_words(department=sorted({q.department for q in queues.values() if q.department}))
    workflow = _workflow(root.table("workflow"), queue_sections, skills, vocabulary)
    return RoutingConfig(file, skills, capacity, wrap_up, offer_timeout, misses, pending, queues, workflow,
                         load_service_level(root.table("service_level", {}), queues))


Config = TypeVar("Config")


class LastGoodConfig(Generic[Config]):
    """Holds the configuration in force; a reload that fails leaves it unchanged and returns the error."""

    def __init__(self, loader: Callable[[str, str], Config], text: str, file: str) -> None:
        self.loader = loader
        self.current: Config = loader(text, file)

    def reload(self, text: str, file: str) -> ConfigError | None:
        try:
            self.current = self.loader(text, file)
        except ConfigError as exc:
            return exc
        return None
