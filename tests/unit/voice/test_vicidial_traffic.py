"""VICIdial's own call shapes: an auto-dial (V) call placed through a Local channel and sent into an
agent's session conference; the agent's session itself (an S call) is never a ticket."""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import Inbound
from channels.voice.codec import parse_block
from channels.voice.settings import VoiceSettings
from channels.voice.tracker import CallTracker


def event(**headers: str) -> bytes:
    return "\r\n".join(f"{key.replace('_', '-')}: {value}" for key, value in headers.items()).encode()


def feed(tracker: CallTracker, *blocks: bytes) -> None:
    for block in blocks:
        tracker.handle(parse_block(block))  # type: ignore[arg-type]


def test_auto_dial_call_is_outbound_to_the_lead_and_answered_in_the_agent_session() -> None:
    emitted: list[Inbound] = []
    tracker = CallTracker(VoiceSettings(), emitted.append, clock=lambda: datetime(2026, 11, 22, tzinfo=UTC))
    feed(
        tracker,
        event(Event="Newchannel", Channel="SIP/cc101-00000001", CallerIDNum="0000000000", CallerIDName="S1122100000008600051",
              Exten="8600051", Uniqueid="100.1", Linkedid="100.1", ChannelStateDesc="Up"),
        event(Event="ConfbridgeJoin", Conference="8600051", Channel="SIP/cc101-00000001", Uniqueid="100.1", Linkedid="100.1"),
        event(Event="Newchannel", Channel="Local/90671234567@default-00000002;1", CallerIDNum="0442900000",
              CallerIDName="V1221005010000855319", Exten="90671234567", Uniqueid="200.1", Linkedid="200.1", ChannelStateDesc="Down"),
        event(Event="ConfbridgeJoin", Conference="8600051", Channel="Local/90671234567@default-00000002;1", Uniqueid="200.1", Linkedid="200.1"),
        event(Event="Hangup", Channel="Local/90671234567@default-00000002;1", Uniqueid="200.1", Linkedid="200.1", Cause="16"),
    )
    assert [(i.metadata["call_event"], i.metadata["agent"]) for i in emitted] == [
        ("started", None), ("ringing", "cc101"), ("answered", "cc101"), ("hangup", "cc101"),
    ]
    started = emitted[0].metadata
    assert started["direction"] == "outbound" and started["caller"] == "+380671234567"
    assert started["vicidial"] == {"call_id": "V1221005010000855319", "lead_id": "855319", "type": "V"}
    assert {i.thread_key for i in emitted} == {"voice:200.1"}
