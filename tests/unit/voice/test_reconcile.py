"""Reconcile from channel lists as Asterisk 11 and 13+ report them (header names per version from the
Asterisk AMI documentation of CoreShowChannel and Status)."""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import Inbound
from channels.voice.codec import parse_block
from channels.voice.reconcile import live_channels, reconcile
from channels.voice.settings import VoiceSettings
from channels.voice.tracker import CallTracker

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def block(**headers: str) -> bytes:
    return "\r\n".join(f"{key}: {value}" for key, value in headers.items()).encode()


def test_asterisk11_lists_without_linkedid_are_joined_through_the_bridged_partner() -> None:
    core = [
        parse_block(block(Event="CoreShowChannel", ActionID="a1", Channel="SIP/kyivstar-00000001", UniqueID="300.1",
                          ChannelStateDesc="Up", CallerIDnum="0671234567", Application="Dial", ApplicationData="SIP/1001,30",
                          Duration="00:01:05", BridgedChannel="SIP/1001-00000002", BridgedUniqueID="300.2", Extension="0442900000")),
        parse_block(block(Event="CoreShowChannel", ActionID="a1", Channel="SIP/1001-00000002", UniqueID="300.2",
                          ChannelStateDesc="Up", CallerIDnum="1001", Application="AppDial", ApplicationData="(Outgoing Line)",
                          Duration="00:00:40", BridgedChannel="SIP/kyivstar-00000001", BridgedUniqueID="300.1")),
    ]
    known = {"300.1": "300.1"}
    channels = live_channels(core, [], known)
    assert {c.uniqueid: c.linkedid for c in channels} == {"300.1": "300.1", "300.2": "300.1"}
    assert {c.uniqueid: c.age_seconds for c in channels} == {"300.1": 65.0, "300.2": 40.0}

    emitted: list[Inbound] = []
    tracker = CallTracker(VoiceSettings(), emitted.append, clock=lambda: NOW)
    reconcile(tracker, channels, set(), NOW)
    assert [(i.metadata["call_event"], i.metadata["agent"]) for i in emitted] == [("started", None), ("answered", "1001")]
    assert emitted[0].occurred_at == datetime(2026, 11, 22, 11, 58, 55, tzinfo=UTC)
    assert emitted[0].metadata["caller"] == "+380671234567" and emitted[0].metadata["did"] == "0442900000"


def test_a_queued_call_and_a_vanished_call() -> None:
    emitted: list[Inbound] = []
    tracker = CallTracker(VoiceSettings(), emitted.append, clock=lambda: NOW)
    tracker.handle(parse_block(block(Event="Newchannel", Channel="PJSIP/kyivstar-00000009", Uniqueid="400.1", Linkedid="400.1",
                                     CallerIDNum="0501234567", Exten="0442900000", ChannelStateDesc="Ring")))
    status = [
        parse_block(block(Event="Status", ActionID="a2", Channel="PJSIP/kyivstar-0000000a", Uniqueid="500.1", Linkedid="500.1",
                          ChannelStateDesc="Up", CallerIDNum="0931234567", Exten="0442900000", Application="Queue",
                          Data="ingroup_kyiv,t", Seconds="12")),
    ]
    reconcile(tracker, live_channels([], status, tracker.channel_calls()), set(tracker.calls), NOW)
    kinds = [(i.metadata["linkedid"], i.metadata["call_event"]) for i in emitted]
    assert kinds == [("400.1", "started"), ("500.1", "started"), ("500.1", "queued"), ("400.1", "hangup")]
    assert emitted[-1].metadata["reconciled"] is True and emitted[-1].metadata["abandoned"] is True
    assert emitted[2].metadata["queue"] == "ingroup_kyiv"
