"""Escalation rules: before and at SLA breach, notify, raise priority, move to a queue or a department.

A rule watches one clock of a ticket (first response or resolution) and fires at a trigger: a share of
the target (``at = "80%"``) or the breach plus an offset (``at = "breach"``, ``"breach+30m"``).  With
``repeat_every`` it fires again at later levels (level 1, 2, ... up to ``max_levels``).  The ticket
actor keeps the set of fired steps (each a ticket event), asks :meth:`EscalationRules.due` when a
reminder fires and :meth:`EscalationRules.next_due` to set the next reminder.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from routing.expressions import ALWAYS, Expression
from routing.sla import TicketSla


class ActionKind(StrEnum):
    NOTIFY = "notify"
    RAISE_PRIORITY = "raise_priority"
    MOVE_TO_QUEUE = "move_to_queue"
    DEPARTMENT = "department"


@dataclass(frozen=True, slots=True)
class EscalationAction:
    """``notify`` (``value``: who, e.g. ``supervisors``), ``raise_priority`` (``value``: steps),
    ``move_to_queue`` (``value``: queue name), ``department`` (``value``: department name)."""

    kind: ActionKind
    value: Any


@dataclass(frozen=True, slots=True)
class EscalationRule:
    name: str
    clock: str
    fraction: float | None  # trigger at this share of the target, or
    breach_offset: float  # ... at the breach plus this many seconds (used when fraction is None)
    actions: tuple[EscalationAction, ...]
    repeat_every: float | None = None
    max_levels: int = 1
    applies_to: Expression = ALWAYS

    def trigger(self, sla: TicketSla) -> float | None:
        """Instant of level 1, or None while the clock is not running."""
        clock = sla.clocks[self.clock]
        if self.fraction is not None:
            return clock.instant_at(self.fraction)
        deadline = clock.deadline()
        return None if deadline is None else deadline + self.breach_offset

    def level_at(self, level: int, first: float) -> float:
        return first + (level - 1) * (self.repeat_every or 0.0)


@dataclass(frozen=True, slots=True)
class Escalation:
    """One step to carry out now: rule ``rule`` at ``level``; ``key`` identifies it for idempotency."""

    rule: EscalationRule
    level: int
    due_at: float

    @property
    def key(self) -> str:
        return f"{self.rule.name}:{self.level}"

    @property
    def actions(self) -> tuple[EscalationAction, ...]:
        return self.rule.actions


class EscalationRules:
    def __init__(self, rules: Collection[EscalationRule]) -> None:
        self.rules = tuple(rules)

    def _steps(self, sla: TicketSla, attributes: Mapping[str, Any],
               fired: Collection[str]) -> Iterator[Escalation]:
        for rule in self.rules:
            if not rule.applies_to.test(attributes):
                continue
            first = rule.trigger(sla)
            if first is None:
                continue
            for level in range(1, rule.max_levels + 1):
                step = Escalation(rule, level, rule.level_at(level, first))
                if step.key not in fired:
                    yield step
                    break

    def due(self, sla: TicketSla, attributes: Mapping[str, Any], fired: Collection[str],
            now: float) -> list[Escalation]:
        """Steps whose instant has come and that were not fired yet (one level per rule per call; the
        actor records each key in ``fired`` and asks again, so a late reminder catches up in order)."""
        return [step for step in self._steps(sla, attributes, fired) if step.due_at <= now]

    def next_due(self, sla: TicketSla, attributes: Mapping[str, Any], fired: Collection[str]) -> float | None:
        """The earliest instant a step not yet fired comes due (None: nothing left, or clocks paused)."""
        return min((step.due_at for step in self._steps(sla, attributes, fired)), default=None)
