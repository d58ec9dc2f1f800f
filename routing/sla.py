"""SLA policies and clocks: first-response and resolution targets in business time, paused On Hold.

:class:`SlaPolicies` picks the policy of a ticket by type and priority (the most specific rule wins,
``*`` matches any).  A :class:`TicketSla` holds the two :class:`SlaClock` of one ticket; the ticket
(conversation) actor feeds it status changes and the first agent reply, asks :meth:`SlaClock.deadline`
to set its durable reminder and :meth:`SlaClock.remaining` for dashboards.  Instants are seconds since
the epoch; targets are business seconds of the policy's calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from routing.calendar import BusinessCalendar

ANY = "*"
FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
CLOCKS = (FIRST_RESPONSE, RESOLUTION)


class TicketStatus(StrEnum):
    NEW = "New"
    IN_PROGRESS = "In Progress"
    ON_HOLD = "On Hold"
    RESOLVED = "Resolved"
    CLOSED = "Closed"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    name: str
    ticket_type: str
    priority: str
    calendar: BusinessCalendar
    first_response: float
    resolution: float

    def specificity(self) -> int:
        return (self.ticket_type != ANY) * 2 + (self.priority != ANY)

    def target(self, clock: str) -> float:
        return self.first_response if clock == FIRST_RESPONSE else self.resolution


class SlaPolicies:
    """Policies in config order; :meth:`for_ticket` returns the most specific match."""

    def __init__(self, policies: Iterable[SlaPolicy]) -> None:
        self.policies = tuple(policies)
        self._cache: dict[tuple[str, str], SlaPolicy | None] = {}

    def for_ticket(self, ticket_type: str, priority: str) -> SlaPolicy | None:
        key = (ticket_type, priority)
        if key not in self._cache:
            matches = [p for p in self.policies
                       if p.ticket_type in (ANY, ticket_type) and p.priority in (ANY, priority)]
            self._cache[key] = max(matches, key=SlaPolicy.specificity, default=None)
        return self._cache[key]


class SlaClock:
    """Business time counted against one target.  Pausing stops the count; stopping records the
    instant the target was met (a stopped clock may be resumed when a resolved ticket is reopened)."""

    __slots__ = ("calendar", "target", "started_at", "state", "since", "paused_business", "stopped_at")

    def __init__(self, calendar: BusinessCalendar, target: float, started_at: float) -> None:
        self.calendar = calendar
        self.target = target
        self.started_at = started_at
        self.state = ClockState.RUNNING
        self.since = started_at
        self.paused_business = 0.0
        self.stopped_at: float | None = None

    def elapsed(self, now: float) -> float:
        """Business seconds counted so far."""
        calendar = self.calendar
        counted = calendar.business_seconds(self.started_at, now) - self.paused_business
        if self.state is not ClockState.RUNNING:
            counted -= calendar.business_seconds(self.since, now)
        return counted

    def remaining(self, now: float) -> float:
        """Business seconds left before breach (negative once breached); frozen while paused."""
        return self.target - self.elapsed(now)

    def deadline(self) -> float | None:
        """The breach instant while running; None while paused or stopped."""
        if self.state is not ClockState.RUNNING:
            return None
        return self.calendar.add_business(self.started_at, self.target + self.paused_business)

    def instant_at(self, fraction: float) -> float | None:
        """When ``fraction`` of the target will have elapsed (e.g. 0.8 for a warning); None unless
        running."""
        if self.state is not ClockState.RUNNING:
            return None
        return self.calendar.add_business(self.started_at, self.target * fraction + self.paused_business)

    def breached(self, now: float) -> bool:
        return self.remaining(now) <= 0

    def pause(self, now: float) -> None:
        if self.state is ClockState.RUNNING:
            self.state = ClockState.PAUSED
            self.since = now

    def stop(self, now: float) -> None:
        """The target was met (first reply sent, ticket resolved)."""
        if self.state is ClockState.RUNNING:
            self.since = now
        if self.state is not ClockState.STOPPED:
            self.state = ClockState.STOPPED
            self.stopped_at = now

    def resume(self, now: float) -> None:
        if self.state is not ClockState.RUNNING:
            self.paused_business += self.calendar.business_seconds(self.since, now)
            self.state = ClockState.RUNNING
            self.since = now
            self.stopped_at = None

    def met(self) -> bool | None:
        """True/False once stopped (met within target or not); None while still counting."""
        if self.state is not ClockState.STOPPED or self.stopped_at is None:
            return None
        return self.remaining(self.stopped_at) >= 0

    def state_dict(self) -> dict[str, Any]:
        """Plain values to persist; :meth:`restore` rebuilds the clock."""
        return {"target": self.target, "started_at": self.started_at, "state": self.state.value,
                "since": self.since, "paused_business": self.paused_business, "stopped_at": self.stopped_at}

    @classmethod
    def restore(cls, calendar: BusinessCalendar, state: Mapping[str, Any]) -> SlaClock:
        clock = cls(calendar, float(state["target"]), float(state["started_at"]))
        clock.state = ClockState(state["state"])
        clock.since = float(state["since"])
        clock.paused_business = float(state["paused_business"])
        clock.stopped_at = state.get("stopped_at")
        return clock


class TicketSla:
    """The first-response and resolution clocks of one ticket under one policy."""

    def __init__(self, policy: SlaPolicy, opened_at: float) -> None:
        self.policy = policy
        self.clocks: dict[str, SlaClock] = {
            name: SlaClock(policy.calendar, policy.target(name), opened_at) for name in CLOCKS}

    @property
    def first_response(self) -> SlaClock:
        return self.clocks[FIRST_RESPONSE]

    @property
    def resolution(self) -> SlaClock:
        return self.clocks[RESOLUTION]

    def responded(self, now: float) -> None:
        """The first agent reply went out."""
        self.first_response.stop(now)

    def status_changed(self, status: TicketStatus | str, now: float) -> None:
        """On Hold pauses both clocks; Resolved/Closed stop the resolution clock; back to New or In
        Progress resumes what was paused (and reopens a resolved ticket's clock)."""
        status = TicketStatus(status)
        response, resolution = self.first_response, self.resolution
        if status is TicketStatus.ON_HOLD:
            response.pause(now)
            resolution.pause(now)
        elif status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            resolution.stop(now)
            if response.state is ClockState.RUNNING:
                response.pause(now)
        else:
            if response.state is ClockState.PAUSED:
                response.resume(now)
            resolution.resume(now)

    def state_dict(self) -> dict[str, Any]:
        """Plain values to persist with the ticket; :meth:`restore` rebuilds it under the same policy."""
        return {"policy": self.policy.name, "clocks": {name: clock.state_dict() for name, clock in self.clocks.items()}}

    @classmethod
    def restore(cls, policy: SlaPolicy, state: Mapping[str, Any]) -> TicketSla:
        sla = cls.__new__(cls)
        sla.policy = policy
        sla.clocks = {name: SlaClock.restore(policy.calendar, clock) for name, clock in state["clocks"].items()}
        return sla

    def next_deadline(self) -> tuple[str, float] | None:
        """The earliest running clock's breach instant (for the durable reminder)."""
        found = [(deadline, name) for name, clock in self.clocks.items()
                 if (deadline := clock.deadline()) is not None]
        if not found:
            return None
        deadline, name = min(found)
        return name, deadline
