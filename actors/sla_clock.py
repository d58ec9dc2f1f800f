"""A ticket's SLA, kept by its conversation actor.  Mixed into :class:`actors.conversation.ConversationActor`.

The policy of ``config/sla.toml`` (by ticket type and priority) gives two clocks in business time: first
response and resolution (:class:`routing.sla.TicketSla`).  The first reply stops the first; On Hold
pauses both; Resolved and Closed stop the resolution clock; a reopened ticket resumes it.  The clocks and
the escalation steps already taken live in the ticket's ``attributes["sla"]``; the due instants are
copied to ``first_response_due`` / ``resolution_due`` for reports and the agent's desktop.

A ticket classified again (new type or priority) gets the policy those pick: its clocks are counted
afresh from the ticket's creation against the new targets (a first reply already sent still counts,
On Hold still pauses), the escalation steps start over, and the change is a ``sla_policy_changed`` event.

One durable reminder, ``sla``, fires at the next breach or escalation instant.  A breach is recorded
once per clock as a ``sla_breached`` ticket event; each escalation step (``escalated``) notifies the
supervisors on the live stream, raises the priority, or moves a waiting conversation to another queue or
department.  A late reminder catches up every step that came due, in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from actors import messages as m
from actors import supervisor_notices
from actors.routing_rules import requirements_from_json
from actors.runtime import ActorRef
from crm_core import tickets as db
from crm_core.notifications import NewNotification
from routing.escalation import ActionKind, Escalation
from routing.priority import raised
from routing.sla import SlaPolicy, TicketSla, TicketStatus
from routing.sla_config import SlaConfig
from routing.transfer import TransferError

SLA_REMINDER = "sla"
BREACH = "breach:"
STATUSES = {"new": TicketStatus.NEW, "in_progress": TicketStatus.IN_PROGRESS, "on_hold": TicketStatus.ON_HOLD,
            "resolved": TicketStatus.RESOLVED, "closed": TicketStatus.CLOSED}
DUE_COLUMNS = {"first_response": "first_response_due", "resolution": "resolution_due"}


def instant(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def new_ticket_sla(config: SlaConfig, ticket_type: str, priority: str, opened_at: datetime,
                   ) -> tuple[str | None, dict[str, Any], dict[str, datetime | None]]:
    """For a ticket being opened: its policy name, the SLA state for ``attributes["sla"]`` and the due
    columns; no policy matches -> no SLA."""
    policy = config.policies.for_ticket(ticket_type, priority)
    if policy is None:
        return None, {}, {column: None for column in DUE_COLUMNS.values()}
    sla = TicketSla(policy, opened_at.timestamp())
    return policy.name, {**sla.state_dict(), "fired": []}, \
        {DUE_COLUMNS[name]: instant(clock.deadline()) for name, clock in sla.clocks.items()}


@dataclass(frozen=True, slots=True)
class RepickedSla:
    """A ticket's SLA under the policy its new type and priority pick: the ticket columns to write, the
    ``sla_policy_changed`` event's data, and the clocks with the steps taken (none yet) to arm."""

    changes: dict[str, Any]
    event: dict[str, Any]
    clocks: tuple[TicketSla, set[str]]


def next_instant(config: SlaConfig, sla: TicketSla, attributes: dict[str, Any], fired: set[str]) -> float | None:
    """When the reminder must fire next: the earliest unrecorded breach or escalation step."""
    instants = [deadline for name, clock in sla.clocks.items()
                if BREACH + name not in fired and (deadline := clock.deadline()) is not None]
    step = config.escalations.next_due(sla, attributes, fired)
    if step is not None:
        instants.append(step)
    return min(instants, default=None)


class TicketSlaClock:
    """Needs ``ctx``, ``ref``, ``row``, ``ticket``, ``_attributes``, ``_route``, ``_wait_in`` and
    ``_publish_state`` of the actor."""

    ctx: Any
    ref: Any
    row: Any
    ticket: Any
    _attributes: Any
    _route: Any
    _wait_in: Any
    _publish_state: Any

    @property
    def _sla_config(self) -> SlaConfig:
        return self.ctx.services.sla.current

    def _ticket_sla(self, ticket: dict[str, Any] | None = None) -> tuple[TicketSla, set[str]] | None:
        """The clocks of the ticket (this actor's, or ``ticket``) and the steps already taken; a ticket
        saved without SLA state (opened before SLA was kept, or bulk-loaded) gets clocks from its
        creation time and history."""
        ticket = ticket or self.ticket
        if ticket is None:
            return None
        saved = (ticket.get("attributes") or {}).get("sla") or {}
        policies = self._sla_config.policies
        policy: SlaPolicy | None = next((p for p in policies.policies if p.name == saved.get("policy")), None) \
            or policies.for_ticket(ticket["type"], ticket["priority"])
        if policy is None:
            return None
        if saved.get("clocks"):
            return TicketSla.restore(policy, saved), set(saved.get("fired", ()))
        sla = TicketSla(policy, ticket["created_at"].timestamp())
        if ticket.get("first_response_at") is not None:
            sla.responded(ticket["first_response_at"].timestamp())
        if ticket["status"] in STATUSES and ticket["status"] not in ("new", "in_progress"):
            sla.status_changed(STATUSES[ticket["status"]], time.time())
        return sla, set()

    def _repicked_sla(self, now: float) -> RepickedSla | None:
        """The SLA under the policy the ticket's (new) type and priority pick; None when that is the policy
        it has."""
        if self.ticket is None:
            return None
        saved = (self.ticket.get("attributes") or {}).get("sla") or {}
        current = saved.get("policy") or self.ticket.get("sla_policy")
        policy = self._sla_config.policies.for_ticket(self.ticket["type"], self.ticket["priority"])
        if policy is None or policy.name == current:
            return None
        sla = TicketSla(policy, self.ticket["created_at"].timestamp())
        if self.ticket.get("first_response_at") is not None:
            sla.responded(self.ticket["first_response_at"].timestamp())
        if self.ticket["status"] in STATUSES and self.ticket["status"] not in ("new", "in_progress"):
            sla.status_changed(STATUSES[self.ticket["status"]], now)
        changes = self._sla_changes(sla, (), sla_policy=policy.name)
        due = {name: _iso(clock.deadline()) for name, clock in sla.clocks.items()}
        return RepickedSla(changes, {"before": current, "after": policy.name, "due": due}, (sla, set()))

    async def _sla_changed(self, change: Callable[[TicketSla, float], None]) -> None:
        """Apply a change to the clocks (first reply, status), save them and re-arm the reminder."""
        found = self._ticket_sla()
        if found is None:
            return
        sla, fired = found
        change(sla, time.time())
        changes = self._sla_changes(sla, fired)
        async with self.ctx.db.begin() as conn:
            await db.update_ticket(conn, self.ticket["id"], **changes)
        self.ticket.update(changes)
        await self._arm_sla(sla, fired)

    async def _sla_responded(self) -> None:
        await self._sla_changed(lambda sla, now: sla.responded(now))

    async def _sla_status(self, status: str) -> None:
        if status in STATUSES:
            await self._sla_changed(lambda sla, now: sla.status_changed(STATUSES[status], now))

    def _sla_changes(self, sla: TicketSla, fired: Iterable[str], **extra: Any) -> dict[str, Any]:
        """Ticket columns to write: the SLA state and the due instants of running clocks (a paused
        clock keeps its last due instant until it runs again)."""
        attributes = {**(self.ticket.get("attributes") or {}), "sla": {**sla.state_dict(), "fired": sorted(fired)}}
        changes: dict[str, Any] = {"attributes": attributes, **extra}
        for name, clock in sla.clocks.items():
            deadline = clock.deadline()
            if deadline is not None:
                changes[DUE_COLUMNS[name]] = instant(deadline)
        return changes

    async def _arm_sla(self, sla: TicketSla | None = None, fired: set[str] | None = None, conn: Any = None) -> None:
        """Set the SLA reminder at the next breach or escalation step (in ``conn``'s transaction when given)."""
        if sla is None or fired is None:
            found = self._ticket_sla()
            if found is None:
                return
            sla, fired = found
        due = next_instant(self._sla_config, sla, self._attributes(), fired)
        if due is None or self.ticket["status"] == "closed":
            await self.ctx.cancel_reminder(SLA_REMINDER, conn=conn)
        else:
            await self.ctx.set_reminder(SLA_REMINDER, datetime.fromtimestamp(due, UTC), conn=conn)

    async def _sla_due(self, due_at: float) -> None:
        """The SLA reminder for ``due_at`` fired: record breaches, take every escalation step that came
        due (its own instant counts as come, however the clocks differ)."""
        if self.ticket is None or self.ticket["status"] == "closed":
            return
        found = self._ticket_sla()
        if found is None:
            return
        sla, fired = found
        detected_at = time.time()
        now = max(detected_at, due_at)
        attributes = self._attributes()
        breaches = [(name, deadline) for name, clock in sla.clocks.items()
                    if BREACH + name not in fired and (deadline := clock.deadline()) is not None and deadline <= now]
        fired |= {BREACH + name for name, _ in breaches}
        steps: list[Escalation] = []
        while due := self._sla_config.escalations.due(sla, attributes, fired, now):
            steps.extend(due)
            fired |= {step.key for step in due}
        if not breaches and not steps:
            await self._arm_sla(sla, fired)
            return
        raise_by = sum(int(a.value) for step in steps for a in step.actions if a.kind is ActionKind.RAISE_PRIORITY)
        priority = raised(self.ticket["priority"], raise_by)
        extra = {"priority": priority} if priority != self.ticket["priority"] else {}
        changes = self._sla_changes(sla, fired, **extra)
        detected = datetime.now(UTC)
        events = [("sla", "sla_breached", {"clock": name, "due_at": instant(deadline).isoformat(),
                                           "policy": sla.policy.name}) for name, deadline in breaches]
        events += [("sla", "escalated", {"rule": step.rule.name, "level": step.level, "key": step.key,
                                         "clock": step.rule.clock, "due_at": instant(step.due_at).isoformat(),
                                         "actions": [{"action": a.kind.value, "value": a.value} for a in step.actions]})
                   for step in steps]
        if extra:
            events.append(("sla", "reclassified", {"before": {"priority": self.ticket["priority"]}, "after": extra}))
        async with self.ctx.db.begin() as conn:
            await db.update_ticket(conn, self.ticket["id"], **changes)
            await db.add_events(conn, self.ticket["id"], events, at=detected)
            self.ticket.update(changes)
            notices = [row for notice in self._escalation_notices(breaches, steps)
                       for row in await supervisor_notices.record(self, conn, notice)]
        await supervisor_notices.deliver(self, notices)
        for name, deadline in breaches:
            self._publish_escalation(name, deadline, detected_at, kind="breach")
        for step in steps:
            self._publish_escalation(step.rule.clock, step.due_at, detected_at, kind="escalation", step=step)
        await self._arm_sla(sla, fired)
        await self._escalation_actions(steps, raise_by)
        self._publish_state()

    def _escalation_notices(self, breaches: list[tuple[str, float]], steps: list[Escalation],
                            ) -> list[NewNotification]:
        """What the supervisors are told: each breach (keyed like the escalations feed, ``number:clock``)
        and each escalation step that notifies."""
        ticket = self.ticket
        base = {"queue": ticket["queue"], "priority": ticket["priority"], "category": ticket["category"],
                "conversation": self.ref.id}
        notices = [NewNotification(ticket["id"], ticket["number"], ticket["queue"], "breach",
                                   f"{ticket['number']}:{name}", {**base, "clock": name, "due_at": _iso(deadline)})
                   for name, deadline in breaches]
        notices += [NewNotification(ticket["id"], ticket["number"], ticket["queue"], "escalation",
                                    f"{ticket['number']}:{step.key}",
                                    {**base, "clock": step.rule.clock, "rule": step.rule.name, "level": step.level})
                    for step in steps if any(a.kind is ActionKind.NOTIFY for a in step.actions)]
        return notices

    def _publish_escalation(self, clock: str, due_at: float, now: float, *, kind: str,
                            step: Escalation | None = None) -> None:
        ticket = self.ticket
        state = {"ticket": ticket["number"], "clock": clock, "kind": kind, "level": step.level if step else 1,
                 "queue": ticket["queue"], "priority": ticket["priority"], "due_at": instant(due_at).isoformat(),
                 "deadline": due_at, "detected_at": now, "conversation": self.ref.id}
        if step is not None:
            state.update(rule=step.rule.name, key=step.key,
                         actions=[{"action": a.kind.value, "value": a.value} for a in step.actions])
        self.ctx.publish({"type": "escalation", "id": f"{ticket['number']}:{clock}", "agent_id": ticket["agent_id"],
                          "state": state})

    async def _escalation_actions(self, steps: list[Escalation], raise_by: int) -> None:
        """Raise the priority in the queue; move a conversation still waiting to another queue or a
        department's queue (one an agent works on stays with the agent: the supervisors are told)."""
        waiting = self.row is not None and self.row["routing_state"] in ("queued", "offered")
        if raise_by and waiting:
            new = raised(self._route.get("priority") or self.ticket["priority"], raise_by)
            self.row["state"] = {**self.row["state"], "routing": {**self._route, "priority": new}}
            async with self.ctx.db.begin() as conn:
                await db.update_conversation(conn, self.row["id"], state=self.row["state"])
            self.ctx.system.tell(ActorRef("queue", self.row["queue"]), m.SetPriority(self.ref.id, new))
        for step in steps:
            for action in step.actions:
                if waiting and action.kind in (ActionKind.MOVE_TO_QUEUE, ActionKind.DEPARTMENT):
                    await self._escalate_to(action.kind, str(action.value), step.rule.name)

    async def _escalate_to(self, kind: ActionKind, target: str, rule: str) -> None:
        rules = self.ctx.services.router.current
        queue = target if kind is ActionKind.MOVE_TO_QUEUE else rules.queue_for_department(target)
        if queue is None or queue not in rules.queues:
            raise TransferError(f"escalation {rule!r}: no queue {target!r}")
        if queue == self.row["queue"]:
            return
        route = self._route
        requirements = requirements_from_json(route.get("requirements"), self.row["channel"]).with_skills({})
        await self._wait_in(queue, requirements._replace(agent=None, department=None),
                            route.get("priority") or self.ticket["priority"],
                            float(self.row["state"].get("enqueued_at", time.time())), placement=None,
                            kind="escalated_to_queue", author="sla", data={"rule": rule})

    def sla_view(self, ticket: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """What the agent sees (of this actor's ticket, or ``ticket``): the policy and, per clock, its
        state (running, paused while On Hold, stopped once met), due instant and time left (frozen while
        paused)."""
        found = self._ticket_sla(ticket)
        if found is None:
            return None
        sla, fired = found
        now = time.time()
        return {"policy": sla.policy.name, "breached": sorted(k.removeprefix(BREACH) for k in fired
                                                              if k.startswith(BREACH)),
                "clocks": {name: {"state": clock.state.value, "due_at": _iso(clock.deadline()),
                                  "remaining_s": round(clock.remaining(now), 1), "met": clock.met()}
                           for name, clock in sla.clocks.items()}}


def _iso(value: float | None) -> str | None:
    return instant(value).isoformat() if value is not None else None
