"""Ticket statuses and the transitions allowed between them (from config)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class TransitionRefused(ValueError):
    """A status change the configured lifecycle does not allow."""


@dataclass(frozen=True, slots=True)
class TicketLifecycle:
    initial: str
    transitions: Mapping[str, frozenset[str]]

    @classmethod
    def from_mapping(cls, initial: str, transitions: Mapping[str, Sequence[str]]) -> TicketLifecycle:
        table = {status: frozenset(targets) for status, targets in transitions.items()}
        unknown = {t for targets in table.values() for t in targets} - set(table)
        if initial not in table:
            raise ValueError(f"initial status {initial!r} is not in the transitions table")
        if unknown:
            raise ValueError(f"transitions name unknown statuses: {sorted(unknown)}")
        return cls(initial, table)

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self.transitions)

    def check(self, current: str, target: str) -> None:
        if target not in self.transitions:
            raise TransitionRefused(f"unknown status {target!r}")
        if target not in self.transitions.get(current, frozenset()):
            raise TransitionRefused(f"{current} -> {target} is not allowed")
