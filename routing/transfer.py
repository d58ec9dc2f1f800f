"""Transfers and reassignment: to a queue, to a department or to a named agent, with the reason.

:func:`plan_transfer` says where a transferred conversation waits next and with which requirements;
the conversation actor records the :class:`Transfer` (who, when, why) as a ticket event, removes the
conversation from its current queue book and adds it to the target's with its priority and original
``enqueued_at`` kept.  Skills required in the old queue are dropped: the target's agents are chosen for
the target, not for the old skill mix; language and segment matching stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing.config import RoutingConfig
from routing.skills import Requirements


class TransferTo(StrEnum):
    QUEUE = "queue"
    DEPARTMENT = "department"
    AGENT = "agent"


class TransferError(ValueError):
    """A transfer to a queue or department the routing config does not know."""


@dataclass(frozen=True, slots=True)
class Transfer:
    kind: TransferTo
    target: str
    reason: str
    by: str
    at: float


def plan_transfer(config: RoutingConfig, transfer: Transfer, current_queue: str,
                  requirements: Requirements) -> tuple[str, Requirements]:
    """The queue and the requirements for the transferred conversation."""
    base = requirements.with_skills({})
    if transfer.kind is TransferTo.QUEUE:
        if transfer.target not in config.queues:
            raise TransferError(f"unknown queue {transfer.target!r}")
        return transfer.target, base._replace(agent=None, department=None)
    if transfer.kind is TransferTo.DEPARTMENT:
        queue = config.queue_for_department(transfer.target)
        if queue is None:
            raise TransferError(f"no queue serves department {transfer.target!r}")
        return queue, base._replace(agent=None, department=None)
    return current_queue, base._replace(agent=transfer.target)
