"""Routing workflows as data: ordered filters -> ordered targets, widening with timeouts (bullseye).

The first filter whose expression matches a conversation's attributes gives its targets; none matching
gives the default targets.  The conversation is placed in the first target; when it waits past that
target's ``timeout`` it moves to the next one (often the same queue with fewer required skills, or a
wider queue).  A target with ``skip_when_unstaffed`` is passed over at once when no signed-in agent
could take the conversation there.  When every target was passed over, the default target takes it.

The conversation actor calls :meth:`Workflow.place` for a new conversation and
:meth:`Workflow.next_placement` when the target's timeout fires; it sets a reminder at
``entered_at + placement.timeout``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from routing.expressions import Expression
from routing.skills import Requirements

#: Attributes a target may require agents to match (``match = ["language", "segment"]``).
MATCHABLE = ("language", "segment", "department")

#: ``staffed(queue, requirements)``: whether the queue has a signed-in agent who could take it.
Staffing = Callable[[str, Requirements], bool]


@dataclass(frozen=True, slots=True)
class Target:
    """One step of a workflow: a queue, what agents there must have, and how long to wait there."""

    queue: str
    skills: Mapping[str, int] = field(default_factory=dict)
    match: tuple[str, ...] = ()
    department: str | None = None
    priority: str | None = None
    timeout: float | None = None
    skip_when_unstaffed: bool = False
    _built: dict[Any, Requirements] = field(default_factory=dict, init=False, repr=False,
                                                        compare=False, hash=False)

    def requirements(self, attributes: Mapping[str, Any]) -> Requirements:
        """The requirements of a conversation with these attributes in this target (built once per
        distinct channel and matched values, then reused)."""
        match, channel = self.match, attributes.get("channel")
        key = (channel, *[attributes.get(name) for name in match]) if match else channel
        try:
            built = self._built.get(key)
        except TypeError:  # an unhashable attribute value: build without the cache
            key, built = (channel, *[str(attributes.get(name)) for name in match]) if match else str(channel), None
        if built is None:
            if len(self._built) >= 4096:
                self._built.clear()
            matched = dict(zip(match, key[1:], strict=True)) if match else {}
            department = self.department if self.department is not None else matched.get("department")
            built = self._built[key] = Requirements.of(
                str(channel or ""), self.skills, language=matched.get("language"),
                segment=matched.get("segment"), department=department)
        return built


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    expression: Expression
    targets: tuple[Target, ...]


class Placement(NamedTuple):
    """Where a conversation waits now: ``targets[index]`` of filter ``filter_name``."""

    filter_name: str
    index: int
    target: Target
    requirements: Requirements
    priority: str

    @property
    def queue(self) -> str:
        return self.target.queue

    @property
    def timeout(self) -> float | None:
        return self.target.timeout

    def deadline(self, entered_at: float) -> float | None:
        """When to widen, for a conversation that entered this target at ``entered_at``."""
        return None if self.target.timeout is None else entered_at + self.target.timeout


DEFAULT_FILTER = "default"


@dataclass(frozen=True, slots=True)
class Workflow:
    filters: tuple[Filter, ...]
    default: tuple[Target, ...]

    def place(self, attributes: Mapping[str, Any], *, staffed: Staffing | None = None) -> Placement:
        """The first target for a new conversation with these attributes."""
        for flt in self.filters:
            if flt.expression.test(attributes):
                return self._first_from(flt.name, flt.targets, 0, attributes, staffed)
        return self._first_from(DEFAULT_FILTER, self.default, 0, attributes, staffed)

    def next_placement(self, placement: Placement, attributes: Mapping[str, Any], *,
                       staffed: Staffing | None = None) -> Placement | None:
        """The next target after ``placement`` timed out; None when it is the last (stay put)."""
        targets = self._targets(placement.filter_name)
        if placement.index + 1 >= len(targets):
            return None
        return self._first_from(placement.filter_name, targets, placement.index + 1, attributes, staffed)

    def resume(self, filter_name: str, index: int, attributes: Mapping[str, Any]) -> Placement:
        """The placement stored as (filter name, index) by a conversation that was passivated; when the
        config changed since and that target no longer exists, the conversation is placed afresh."""
        targets = self._targets(filter_name)
        known = filter_name == DEFAULT_FILTER or any(f.name == filter_name for f in self.filters)
        if not known or not 0 <= index < len(targets):
            return self.place(attributes)
        target = targets[index]
        priority = str(attributes.get("priority") or "normal")
        return Placement(filter_name, index, target, target.requirements(attributes), target.priority or priority)

    def _targets(self, filter_name: str) -> tuple[Target, ...]:
        for flt in self.filters:
            if flt.name == filter_name:
                return flt.targets
        return self.default

    def _first_from(self, name: str, targets: tuple[Target, ...], start: int, attributes: Mapping[str, Any],
                    staffed: Staffing | None) -> Placement:
        priority = str(attributes.get("priority") or "normal")
        for index in range(start, len(targets)):
            target = targets[index]
            requirements = target.requirements(attributes)
            if target.skip_when_unstaffed and staffed is not None and not staffed(target.queue, requirements):
                continue
            return Placement(name, index, target, requirements, target.priority or priority)
        fallback = self.default[0]
        return Placement(DEFAULT_FILTER, 0, fallback, fallback.requirements(attributes),
                         fallback.priority or priority)


@dataclass(frozen=True, slots=True)
class Overflow:
    """A queue's overflow: conversations waiting longer than ``after`` seconds, or arriving when
    ``max_waiting`` already wait, go to queue ``to`` (requirements reduced to the channel and the
    matched attributes, since the other queue's agents may have other skills)."""

    to: str
    after: float | None = None
    max_waiting: int | None = None

    def full(self, waiting: int) -> bool:
        return self.max_waiting is not None and waiting >= self.max_waiting

    def due_at(self, entered_at: float) -> float | None:
        return None if self.after is None else entered_at + self.after

    @staticmethod
    def requirements(requirements: Requirements) -> Requirements:
        return requirements.with_skills({})
