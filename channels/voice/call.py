"""What the voice channel knows about one call (all channels sharing a linkedid)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from channels.voice.vicidial_ids import VicidialCallId


@dataclass(slots=True)
class Call:
    """One call keyed by its linkedid: the caller's channel plus every leg dialled for it."""

    linkedid: str
    caller_uniqueid: str
    caller_channel: str
    caller_raw: str
    caller: str
    caller_name: str
    did: str
    started_at: datetime
    direction: str = "inbound"
    internal: bool = False
    vicidial: VicidialCallId | None = None
    queue: str | None = None
    agent: str | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    abandoned_in_queue: bool = False
    hangup_cause: str | None = None
    hangup_cause_txt: str | None = None
    live: set[str] = field(default_factory=set)
    agent_legs: dict[str, str] = field(default_factory=dict)
    emitted: set[str] = field(default_factory=set)
    hold_count: int = 0
    transfer_count: int = 0
    on_hold: bool = False
    recording_files: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def wait_seconds(self) -> float:
        """From the call's arrival to the agent's answer, or to the hang-up when nobody answered."""
        end = self.answered_at or self.ended_at
        return _seconds(self.started_at, end)

    def talk_seconds(self) -> float:
        if self.answered_at is None:
            return 0.0
        return _seconds(self.answered_at, self.ended_at)


def _seconds(start: datetime, end: datetime | None) -> float:
    if end is None:
        return 0.0
    return round(max(0.0, (end - start).total_seconds()), 3)


def extension_of(channel: str) -> str | None:
    """The endpoint behind an Asterisk channel name: ``PJSIP/101-0000001a`` -> ``101``,
    ``SIP/ivan-00000abc`` -> ``ivan``, ``Local/101@agents-00000003;1`` -> ``101``."""
    tech, sep, rest = channel.partition("/")
    if not sep or not rest:
        return None
    if tech.lower() == "local":
        return rest.split("@", 1)[0] or None
    name, dash, suffix = rest.rpartition("-")
    return (name if dash else suffix) or None


def event_time(timestamp: str | None, fallback: datetime) -> datetime:
    """An event's ``Timestamp`` header (manager.conf ``timestampevents = yes``) or ``fallback``."""
    if timestamp:
        try:
            return datetime.fromtimestamp(float(timestamp), UTC)
        except (ValueError, OverflowError, OSError):
            return fallback
    return fallback
