"""Service level as contact centres mean it: the share of contacts answered within a threshold.

One definition serves the supervisor wall, the reports and ``/metrics``: :func:`service_level_pct` over
:class:`ContactCounts` that a query (``crm_core.service_level``) takes from durable data, the wait before
the first assignment kept on each ticket.  Each queue and kind of work has a :class:`Target` (for example
80 % within 20 s for calls, 80 % within 60 s for chats) from the ``[service_level]`` table of
``config/routing.toml``.  Abandoned contacts are in the denominator by default; like Genesys and Amazon
Connect, the rule is configurable:

* ``count`` -- answered within the threshold / (answered + abandoned);
* ``ignore`` -- answered within the threshold / answered;
* ``after_threshold`` -- answered within the threshold / (answered + abandoned after the threshold):
  a caller who hung up within the threshold counts neither way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.config_source import Section
from routing.skills import DEFAULT_CAPACITY

ABANDON_RULES = ("count", "ignore", "after_threshold")
DEFAULT_TARGETS = {"voice": (80.0, 20.0), "chat": (80.0, 60.0), "email": (80.0, 4 * 3600.0)}


@dataclass(frozen=True, slots=True)
class Target:
    """``goal_pct`` of contacts answered within ``threshold_s`` seconds."""

    goal_pct: float
    threshold_s: float

    def label(self) -> str:
        return f"{self.goal_pct:g}/{self.threshold_s:g}"


@dataclass(frozen=True, slots=True)
class ContactCounts:
    """Contacts of one queue and kind of work over a period: answered (first assigned to an agent),
    answered within the threshold, abandoned (gone before an agent took them), abandoned within it."""

    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0

    def __add__(self, other: ContactCounts) -> ContactCounts:
        return ContactCounts(self.answered + other.answered, self.answered_within + other.answered_within,
                             self.abandoned + other.abandoned, self.abandoned_within + other.abandoned_within)


def service_level_pct(counts: ContactCounts, abandoned: str = "count") -> float | None:
    """The service level in percent, or None when no contact counts (nothing to measure yet)."""
    if abandoned == "count":
        whole = counts.answered + counts.abandoned
    elif abandoned == "ignore":
        whole = counts.answered
    elif abandoned == "after_threshold":
        whole = counts.answered + counts.abandoned - counts.abandoned_within
    else:
        raise ValueError(f"unknown abandon rule {abandoned!r} (known: {', '.join(ABANDON_RULES)})")
    return round(100.0 * counts.answered_within / whole, 1) if whole else None


@dataclass(frozen=True, slots=True)
class ServiceLevelConfig:
    """Targets per kind of work, per-queue overrides, and how abandoned contacts count."""

    abandoned: str = "count"
    targets: Mapping[str, Target] = field(
        default_factory=lambda: {c: Target(*goal) for c, goal in DEFAULT_TARGETS.items()})
    queues: Mapping[str, Mapping[str, Target]] = field(default_factory=dict)

    def target(self, queue: str | None, channel: str) -> Target:
        own = self.queues.get(queue or "", {})
        return own.get(channel) or self.targets.get(channel) or Target(*DEFAULT_TARGETS["voice"])

    def thresholds(self) -> tuple[float, ...]:
        """Every distinct threshold in force (a query counts the contacts answered within each)."""
        found = {t.threshold_s for t in self.targets.values()}
        found |= {t.threshold_s for own in self.queues.values() for t in own.values()}
        return tuple(sorted(found))

    def pct(self, counts: ContactCounts) -> float | None:
        return service_level_pct(counts, self.abandoned)


def _targets(section: Section, channels: tuple[str, ...]) -> dict[str, Target]:
    targets = {}
    for channel in channels:
        if channel not in section.data:
            continue
        spec = section.table(channel)
        spec.only("goal", "within")
        goal = float(spec.get("goal", (int, float)))
        spec.check("goal", 0 < goal <= 100, "goal must be a percentage above 0 and at most 100")
        within = spec.duration("within")
        spec.check("within", within is not None and within > 0, "within must be a positive duration")
        targets[channel] = Target(goal, float(within or 0.0))
    return targets


def load_service_level(section: Section, queues: Mapping[str, object]) -> ServiceLevelConfig:
    """The ``[service_level]`` table: ``abandoned``, a target per kind of work (``voice = { goal = 80,
    within = "20s" }``) and ``[service_level.queues.<queue>]`` overrides for named queues."""
    channels = tuple(DEFAULT_CAPACITY)
    section.only("abandoned", "queues", *channels)
    abandoned = section.get("abandoned", str, "count")
    section.check("abandoned", abandoned in ABANDON_RULES,
                  f"unknown abandon rule {abandoned!r} (known: {', '.join(ABANDON_RULES)})")
    targets = {c: Target(*goal) for c, goal in DEFAULT_TARGETS.items()} | _targets(section, channels)
    overrides = {}
    listed = section.table("queues", {})
    for name, own in listed.items():
        listed.check(name, name in queues, f"service level for unknown queue {name!r}")
        own.only(*channels)
        overrides[name] = _targets(own, channels)
    return ServiceLevelConfig(abandoned, targets, overrides)
