"""Conversation priorities and the order in which a queue serves its waiting conversations.

A waiting conversation's score is ``points[priority] + aging_per_second * waited``: priority first,
and waiting raises the score, so a low-priority conversation cannot starve.  Because every conversation
ages at the same rate, ordering by score at any instant equals ordering by the time-invariant key
``aging_per_second * enqueued_at - points[priority]``: queues keep that key in a heap and never re-sort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
DEFAULT_POINTS: Mapping[str, float] = {"low": 0.0, "normal": 100.0, "high": 200.0, "urgent": 400.0}


def raised(priority: str, steps: int = 1) -> str:
    """The priority ``steps`` levels higher, capped at the highest."""
    index = PRIORITIES.index(priority) if priority in PRIORITIES else 1
    return PRIORITIES[min(len(PRIORITIES) - 1, max(0, index + steps))]


@dataclass(frozen=True, slots=True)
class Ordering:
    """Priority points and aging rate of one queue.  ``aging_per_second = 0`` is strict priority then
    first-come-first-served; equal points for every priority with any aging is plain FIFO."""

    points: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    aging_per_second: float = 100.0 / 600.0

    def key(self, priority: str, enqueued_at: float) -> float:
        return self.aging_per_second * enqueued_at - self.points.get(priority, 0.0)

    def score(self, priority: str, enqueued_at: float, now: float) -> float:
        return self.points.get(priority, 0.0) + self.aging_per_second * (now - enqueued_at)
