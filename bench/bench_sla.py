"""SLA clocks at scale: 100,000 open tickets under the shipped config/sla.toml policies.

Figures: deadlines computed per second (policy choice, both clocks, next breach instant), remaining time
per second, next escalation instant per second, and the cost of finding the tickets that breach at a
tick from a deadline heap.  Baselines, same run: the same deadlines with the calendar's caches
disabled, and breach detection by scanning every ticket's remaining time.

    .venv/bin/python -m bench.bench_sla [--tickets N]
"""

from __future__ import annotations

import argparse
import heapq
import random
import time
from datetime import date
from pathlib import Path

from routing.calendar import BusinessCalendar, Interval
from routing.sla import TicketSla, TicketStatus
from routing.sla_config import load_sla_config

ROOT = Path(__file__).resolve().parents[1]
TYPES = ["question", "complaint", "emergency", "billing", "meter_reading"]
PRIORITIES = ["low", "normal", "normal", "high", "urgent"]
NOW = 1_778_493_600.0  # Monday 11 May 2026, 13:00 in Kyiv: the office calendar is open


class UncachedCalendar(BusinessCalendar):
    """The baseline: every look-up recomputes local dates and the day's open intervals."""

    def open_intervals(self, day: date) -> tuple[Interval, ...]:
        self._days.clear()
        return super().open_intervals(day)

    def local_date(self, instant: float) -> date:
        self._quarters.clear()
        return super().local_date(instant)


def open_tickets(count: int, rng: random.Random) -> list[tuple[str, str, float]]:
    """Tickets opened over the last two hours (a busy day's open backlog)."""
    return [(rng.choice(TYPES), rng.choice(PRIORITIES), NOW - rng.random() * 7200) for _ in range(count)]


def compute(config, tickets) -> tuple[list[TicketSla], float]:
    started = time.perf_counter()
    slas = []
    for ticket_type, priority, opened_at in tickets:
        sla = TicketSla(config.policies.for_ticket(ticket_type, priority), opened_at)
        sla.next_deadline()
        slas.append(sla)
    return slas, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_sla", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args(argv)
    text = (ROOT / "config" / "sla.toml").read_text(encoding="utf-8")
    config = load_sla_config(text, "config/sla.toml")
    baseline_config = load_sla_config(text, "config/sla.toml")
    for name, calendar in baseline_config.calendars.items():
        calendar.__class__ = UncachedCalendar
        baseline_config.calendars[name]._days.clear()  # type: ignore[attr-defined]
    rng = random.Random(5)
    tickets = open_tickets(args.tickets, rng)

    slas, elapsed = compute(config, tickets)
    baseline_count = max(1, args.tickets // 10)
    _, baseline_elapsed = compute(baseline_config, tickets[:baseline_count])
    for sla in slas[: args.tickets // 5]:
        sla.status_changed(TicketStatus.ON_HOLD, NOW - 3600)
        sla.status_changed(TicketStatus.IN_PROGRESS, NOW - 600)

    started = time.perf_counter()
    for sla in slas:
        sla.first_response.remaining(NOW)
        sla.resolution.remaining(NOW)
    remaining_elapsed = time.perf_counter() - started

    attributes = {"segment": "regular"}
    started = time.perf_counter()
    for sla in slas:
        config.escalations.next_due(sla, attributes, ())
    escalation_elapsed = time.perf_counter() - started

    deadlines = []
    for index, sla in enumerate(slas):
        found = sla.next_deadline()
        if found is not None:
            deadlines.append((found[1], index))
    heapq.heapify(deadlines)
    ticks, tick_times, due_total = 900, [], 0
    now = NOW
    for _ in range(ticks):
        now += 1.0
        began = time.perf_counter()
        while deadlines and deadlines[0][0] <= now:
            heapq.heappop(deadlines)
            due_total += 1
        tick_times.append(time.perf_counter() - began)
    began = time.perf_counter()
    scanned = sum(1 for sla in slas if sla.first_response.remaining(now) <= 0 or sla.resolution.remaining(now) <= 0)
    scan_elapsed = time.perf_counter() - began
    tick_times.sort()

    per_second = args.tickets / elapsed
    print(f"{args.tickets:,} open tickets, policies and calendars from config/sla.toml (Europe/Kyiv, 2026 holidays)")
    print(f"{'':40}{'measured':>14}{'baseline':>14}")
    print(f"{'deadlines computed / s':40}{per_second:>14,.0f}{baseline_count / baseline_elapsed:>14,.0f}"
          "   (baseline: no calendar caches)")
    print(f"{'remaining time, 2 clocks / s':40}{args.tickets / remaining_elapsed:>14,.0f}")
    print(f"{'next escalation instant / s':40}{args.tickets / escalation_elapsed:>14,.0f}")
    print(f"{'breach check per 1 s tick, p99 (ms)':40}{tick_times[int(0.99 * ticks)] * 1000:>14.3f}"
          f"{scan_elapsed * 1000:>14.1f}   (baseline: scan every ticket)")
    print(f"all {args.tickets:,} deadlines in {elapsed:.2f} s; {due_total} breaches found over {ticks} ticks; "
          f"{scanned:,} tickets past a deadline at the end")


if __name__ == "__main__":
    main()
