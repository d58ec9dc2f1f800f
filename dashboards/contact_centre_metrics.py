"""Prometheus gauges of the contact centre, refreshed on every scrape of ``/metrics``: per queue the
waiting contacts, the longest wait, today's service level, answered and abandoned (the wall's and the
reports' definition, :mod:`dashboards.service_level`); agents by state; today's SLA breaches,
escalations and tickets by channel; the inbox backlog; the mailbox depth of each actor host."""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from crm_core.centre_figures import centre_figures
from dashboards.service_level import queue_service_levels, start_of_today

NO_QUEUE = "none"


class ContactCentreMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"switchboard_{name}", text, labels, registry=registry)

        self.waiting = gauge("queue_waiting", "Contacts waiting in the queue", ("queue",))
        self.longest_wait = gauge("queue_longest_wait_seconds", "Wait of the longest-waiting contact", ("queue",))
        self.service_level = gauge("queue_service_level_percent",
                                   "Today's share of contacts answered within the queue's threshold", ("queue",))
        self.answered = gauge("queue_answered_today", "Contacts answered by an agent today", ("queue",))
        self.abandoned = gauge("queue_abandoned_today", "Contacts gone before an agent took them, today", ("queue",))
        self.agents = gauge("agents", "Agents by state", ("state",))
        self.breaches = gauge("sla_breaches_today", "SLA clocks breached today")
        self.escalations = gauge("escalations_today", "Escalation steps taken today")
        self.tickets = gauge("tickets_created_today", "Tickets created today", ("channel",))
        self.backlog = gauge("inbox_backlog", "Inbound items stored and not yet processed")
        self.mailbox = gauge("actor_mailbox_depth", "Messages waiting in the mailboxes of a host's actors",
                             ("kind", "shard"))

    async def refresh(self, services: Any) -> None:
        today = start_of_today()
        snapshot = await services.hub.snapshot()
        levels = await queue_service_levels(services, today)
        async with services.db.connect() as conn:
            figures = await centre_figures(conn, today)
        hosts = await services.system.describe()
        for gauge in (self.waiting, self.longest_wait, self.service_level, self.answered, self.abandoned,
                      self.agents, self.tickets, self.mailbox):
            gauge.clear()
        for queue in snapshot.get("queue", []):
            state = queue.get("state") or {}
            self.waiting.labels(queue["id"]).set(state.get("waiting_count", 0))
            self.longest_wait.labels(queue["id"]).set(state.get("longest_wait_s", 0.0))
        for level in levels:
            name = level.queue or NO_QUEUE
            self.answered.labels(name).set(level.answered)
            self.abandoned.labels(name).set(level.abandoned)
            if level.service_level_pct is not None:
                self.service_level.labels(name).set(level.service_level_pct)
        for state, count in Tally((a.get("state") or {}).get("state", "offline")
                                  for a in snapshot.get("agent", [])).items():
            self.agents.labels(state).set(count)
        for channel, count in figures.tickets_by_channel.items():
            self.tickets.labels(channel).set(count)
        self.breaches.set(figures.sla_breaches)
        self.escalations.set(figures.escalations)
        self.backlog.set(figures.inbox_backlog)
        for host in hosts:
            depth = sum(entity.get("mailbox", 0) for entity in host.get("entities", []))
            self.mailbox.labels(host.get("kind", ""), str(host.get("shard", ""))).set(depth)
