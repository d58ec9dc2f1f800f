"""The record of one end-to-end messaging run and its outcome: every message sent and the instant it
became visible, what PostgreSQL holds of them afterwards, and the printed result per channel."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.common import percentile
from crm_core.database import libpq_dsn

CHANNELS = ("telegram", "viber", "email", "web")
P99_BAR_S = 1.0


@dataclass(slots=True)
class Sent:
    """One customer message: where it went, whether it opened its conversation, when it was sent."""

    serial: int
    channel: str
    thread_key: str
    opens: bool
    at: float = 0.0


@dataclass(slots=True)
class Ledger:
    """What was sent and when each message became visible to the agent: ``opening`` names the serial of
    each new thread's first message, ``seen_threads`` the threads (per channel) the agent already sees,
    which follow-ups may write in."""

    run: str
    sent: dict[int, Sent] = field(default_factory=dict)
    visible: dict[int, float] = field(default_factory=dict)
    opening: dict[str, int] = field(default_factory=dict)
    seen_threads: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    handles: dict[str, tuple[str, Any]] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)

    def text(self, serial: int) -> str:
        return f"Звернення {self.run}#{serial}: прошу перевірити нарахування за газ"

    def serial_in(self, text: str) -> int | None:
        match = re.search(rf"{self.run}#(\d+)", text or "")
        return int(match.group(1)) if match else None

    def saw(self, thread_key: str, serial: int, at: float) -> None:
        if serial in self.visible:
            return
        self.visible[serial] = at
        if self.sent[serial].opens and thread_key in self.handles:
            channel, handle = self.handles[thread_key]
            self.seen_threads.setdefault(channel, []).append((thread_key, handle))

    def observe(self, event: dict[str, Any]) -> None:
        """The first event of a new thread shows its opening message; an inbound ``message`` event
        shows the follow-up whose text it carries."""
        thread_key = str(event.get("id"))
        state = event.get("state") or {}
        if event.get("type") == "message" and state.get("direction") == "in":
            serial = self.serial_in(str(state.get("text") or ""))
            if serial is not None and serial in self.sent:
                self.saw(thread_key, serial, event["at"])
        if thread_key in self.opening:
            self.saw(thread_key, self.opening[thread_key], event["at"])


@dataclass(slots=True)
class Stored:
    """What PostgreSQL holds of the run: serial -> (inbound message rows carrying its text, of which on a
    ticket), and the serials still waiting in the inbox unhandled."""

    rows: dict[int, tuple[int, int]]
    queued: set[int]

    def count(self, serial: int) -> int:
        return self.rows.get(serial, (0, 0))[0]

    def on_ticket(self, serial: int) -> bool:
        return self.rows.get(serial, (0, 0))[1] >= 1


def stored(url: str, ledger: Ledger) -> Stored:
    pattern = f"%{ledger.run}#%"
    with psycopg.connect(libpq_dsn(url)) as conn:
        found = conn.execute("SELECT text, ticket_id FROM messages WHERE direction = 'in' AND text LIKE %s",
                             (pattern,)).fetchall()
        waiting = conn.execute("SELECT payload->>'text' FROM inbox WHERE processed_at IS NULL"
                               " AND payload->>'text' LIKE %s", (pattern,)).fetchall()
    rows: dict[int, tuple[int, int]] = {}
    for text, ticket_id in found:
        serial = ledger.serial_in(text)
        if serial is not None:
            count, on_ticket = rows.get(serial, (0, 0))
            rows[serial] = (count + 1, on_ticket + (ticket_id is not None))
    queued = {serial for (text,) in waiting if (serial := ledger.serial_in(text)) is not None} - set(rows)
    return Stored(rows, queued)


@dataclass(frozen=True, slots=True)
class Tally:
    """One line of the result: messages of a channel (or of all) and what became of them."""

    sent: int
    failed: int
    stored: int
    on_ticket: int
    duplicates: int
    queued: int
    lost: int
    latencies: list[float]

    @classmethod
    def of(cls, sent: list[Sent], ledger: Ledger, db: Stored) -> Tally:
        delivered = [s for s in sent if s.serial not in ledger.failed]
        return cls(len(sent), len(sent) - len(delivered), sum(1 for s in sent if db.count(s.serial) >= 1),
                   sum(1 for s in sent if db.on_ticket(s.serial)), sum(max(0, db.count(s.serial) - 1) for s in sent),
                   sum(1 for s in sent if s.serial in db.queued),
                   sum(1 for s in delivered if db.count(s.serial) == 0 and s.serial not in db.queued),
                   [ledger.visible[s.serial] - s.at for s in sent if s.serial in ledger.visible])

    def line(self, name: str, baseline: list[float]) -> str:
        ms = 1000.0
        trip = f"{percentile(baseline, 0.5) * ms:6.2f} / {percentile(baseline, 0.99) * ms:6.2f}" if baseline else ""
        return (f"{name:<9} {self.sent:>6} {self.failed:>6} {self.stored:>6} {self.on_ticket:>6} {self.duplicates:>4} "
                f"{self.queued:>6} {self.lost:>4} {len(self.latencies):>6} {percentile(self.latencies, 0.5) * ms:>8.0f} "
                f"{percentile(self.latencies, 0.99) * ms:>8.0f} {max(self.latencies, default=float('nan')) * ms:>8.0f}"
                f"   {trip}").rstrip()

    def verdict(self) -> str:
        delivered = self.sent - self.failed
        fast = len(self.latencies) == delivered and percentile(self.latencies, 0.99) <= P99_BAR_S
        kept = ("every message stored on its ticket" if self.on_ticket == delivered else
                f"{self.lost} LOST (neither stored nor in the inbox), {self.queued} still queued in the inbox, "
                f"{self.stored - self.on_ticket} stored off a ticket")
        return (f"verdict: p99 inbound -> visible {'meets' if fast else 'MISSES'} the 1 s bar"
                f"{'' if len(self.latencies) == delivered else ' (not every message became visible)'}; {kept}; "
                f"{'no duplicates' if self.duplicates == 0 else f'{self.duplicates} DUPLICATES stored'}")


def report(ledger: Ledger, db: Stored, trips: dict[str, list[float]],
           args: argparse.Namespace, killed_at: float | None, insert_ms: float) -> None:
    print(f"{args.rate:.0f} msg/s for {args.seconds:.0f} s after {args.warmup:.0f} s of warm-up at {args.warmup_rate:.0f}"
          f" msg/s (not measured), run {ledger.run}; "
          + (f"channel:{args.restart} killed at +{args.seconds / 2:.0f} s and restarted by Ray"
             if killed_at is not None else "no channel restarted"))
    print(f"{'channel':<9} {'sent':>6} {'failed':>6} {'stored':>6} {'on tkt':>6} {'dup':>4} {'queued':>6} {'lost':>4} "
          f"{'seen':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   baseline round trip p50/p99 ms")
    channels = sorted({s.channel for s in ledger.sent.values()}, key=CHANNELS.index)
    for channel in channels:
        sent = [s for s in ledger.sent.values() if s.channel == channel]
        print(Tally.of(sent, ledger, db).line(channel, trips.get(channel, [])))
    overall = Tally.of(list(ledger.sent.values()), ledger, db)
    print(overall.line("all", []))
    print(overall.verdict())
    print(over_time(ledger))
    if killed_at is not None:
        restart_effect(ledger, args.restart, killed_at)
    print("baselines, same run: telegram getMe and viber get_account_info on their sandboxes; web the gateway's"
          f" /healthz (one PostgreSQL query); email one IMAP APPEND; a single-row PostgreSQL insert+commit on one"
          f" connection: {insert_ms:.2f} ms on average")


def over_time(ledger: Ledger, step_s: float = 10.0) -> str:
    """p99 of all channels by when the message was sent: a cold start, the restart and a growing backlog
    each show in their own stretch of the run."""
    if not ledger.sent:
        return "latency over the run: nothing sent"
    first = min(s.at for s in ledger.sent.values())
    windows: dict[int, list[float]] = {}
    for message in ledger.sent.values():
        if message.serial in ledger.visible:
            windows.setdefault(int((message.at - first) // step_s), []).append(ledger.visible[message.serial] - message.at)
    return "p99 by send time: " + ", ".join(
        f"+{w * step_s:.0f}-{(w + 1) * step_s:.0f} s {percentile(v, 0.99) * 1000:.0f} ms" for w, v in sorted(windows.items()))


def restart_effect(ledger: Ledger, channel: str, killed_at: float, window_s: float = 10.0) -> None:
    """How the restart shows: the restarted channel's messages sent within ``window_s`` after the kill,
    beside everything else."""
    during, rest = [], []
    for message in ledger.sent.values():
        if message.serial in ledger.visible:
            hit = message.channel == channel and 0 <= message.at - killed_at < window_s
            (during if hit else rest).append(ledger.visible[message.serial] - message.at)
    print(f"restart: {channel} messages sent in the {window_s:.0f} s after the kill: {len(during)}, "
          f"p50 {percentile(during, 0.5) * 1000:.0f} ms, max {max(during, default=float('nan')) * 1000:.0f} ms; "
          f"all other messages: p50 {percentile(rest, 0.5) * 1000:.0f} ms, p99 {percentile(rest, 0.99) * 1000:.0f} ms")
