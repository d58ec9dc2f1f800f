"""The offer (reservation) lifecycle: offered -> accepted | rejected | timed out | cancelled.

The queue actor keeps one :class:`Reservations` per queue.  :meth:`Reservations.offer` returns the
instant the offer expires; the actor sets a timer (or a durable reminder) for it and, when it fires,
calls :meth:`Reservations.expire`.  Every outcome is final and idempotent: a late accept after the
timeout is refused, a repeated reject changes nothing.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from enum import StrEnum


class ReservationStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class ReservationError(ValueError):
    """An unknown reservation."""


@dataclass(slots=True)
class Reservation:
    reservation_id: str
    conversation_id: str
    agent_id: str
    queue: str
    channel: str
    offered_at: float
    expires_at: float
    status: ReservationStatus = ReservationStatus.OFFERED
    closed_at: float | None = None

    @property
    def open(self) -> bool:
        return self.status is ReservationStatus.OFFERED


class Reservations:
    """Open and recently closed offers of one queue, with their timeouts as instants."""

    def __init__(self, queue: str, timeout: float) -> None:
        self.queue = queue
        self.timeout = timeout
        self._by_id: dict[str, Reservation] = {}
        self._open_by_conversation: dict[str, str] = {}
        self._expiries: list[tuple[float, str]] = []

    def offer(self, conversation_id: str, agent_id: str, channel: str, now: float,
              timeout: float | None = None) -> Reservation:
        """Open an offer; an open offer of the same conversation is returned unchanged (idempotent)."""
        current = self._open_by_conversation.get(conversation_id)
        if current is not None:
            return self._by_id[current]
        reservation_id = f"{self.queue}:{conversation_id}:{agent_id}:{round(now * 1000)}"
        expires_at = now + (self.timeout if timeout is None else timeout)
        reservation = Reservation(reservation_id, conversation_id, agent_id, self.queue, channel, now, expires_at)
        self._by_id[reservation_id] = reservation
        self._open_by_conversation[conversation_id] = reservation_id
        heapq.heappush(self._expiries, (expires_at, reservation_id))
        return reservation

    def get(self, reservation_id: str) -> Reservation:
        try:
            return self._by_id[reservation_id]
        except KeyError:
            raise ReservationError(f"unknown reservation {reservation_id!r}") from None

    def open_for(self, conversation_id: str) -> Reservation | None:
        reservation_id = self._open_by_conversation.get(conversation_id)
        return self._by_id[reservation_id] if reservation_id is not None else None

    def accept(self, reservation_id: str, now: float) -> Reservation:
        """Accept if still open and not past its expiry; a late accept times the offer out instead.
        Check ``status`` on the result."""
        reservation = self.get(reservation_id)
        if reservation.open:
            self._close(reservation, ReservationStatus.ACCEPTED if now < reservation.expires_at
                        else ReservationStatus.TIMED_OUT, now)
        return reservation

    def reject(self, reservation_id: str, now: float) -> Reservation:
        reservation = self.get(reservation_id)
        if reservation.open:
            self._close(reservation, ReservationStatus.REJECTED, now)
        return reservation

    def cancel(self, reservation_id: str, now: float) -> Reservation:
        """Withdraw an offer (the client hung up, the conversation was moved)."""
        reservation = self.get(reservation_id)
        if reservation.open:
            self._close(reservation, ReservationStatus.CANCELLED, now)
        return reservation

    def expire(self, now: float) -> list[Reservation]:
        """Time out every open offer whose expiry is at or before ``now``; returns them."""
        expired = []
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            _, reservation_id = heapq.heappop(expiries)
            reservation = self._by_id.get(reservation_id)
            if reservation is not None and reservation.open:
                self._close(reservation, ReservationStatus.TIMED_OUT, now)
                expired.append(reservation)
        return expired

    def next_expiry(self) -> float | None:
        """The earliest instant an open offer expires (for the actor's timer)."""
        expiries = self._expiries
        while expiries:
            reservation = self._by_id.get(expiries[0][1])
            if reservation is not None and reservation.open:
                break
            heapq.heappop(expiries)
        return expiries[0][0] if expiries else None

    def forget_closed(self) -> None:
        """Drop closed reservations (after their outcome was persisted as ticket events)."""
        for reservation_id in [r for r, res in self._by_id.items() if not res.open]:
            del self._by_id[reservation_id]

    def _close(self, reservation: Reservation, status: ReservationStatus, now: float) -> None:
        reservation.status = status
        reservation.closed_at = now
        self._open_by_conversation.pop(reservation.conversation_id, None)
