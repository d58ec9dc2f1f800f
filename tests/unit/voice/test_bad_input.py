"""A PBX that misbehaves: garbage, cut packets, huge headers, refused logins, silence, lost calls."""

from __future__ import annotations

import logging

import pytest

from channels.sandbox.pbx import AmiServer, CallParams, CallScript
from tests.unit.voice.conftest import RecordingSink, VoiceFactory, settle, until


def incoming(pbx: AmiServer, **params: object) -> CallScript:
    call = CallScript(pbx, CallParams(**params))  # type: ignore[arg-type]
    call.arrive()
    call.join_queue()
    return call


async def test_garbage_bytes_are_logged_raw_and_the_call_goes_on(
    pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await voice()
    call = incoming(pbx)
    pbx.inject_raw(b"\x00\xffNOT AMI AT ALL\r\n\xde\xad\xbe\xef\r\n\r\n")
    leg = call.ring("1001")
    call.answer(leg)
    call.hang_up()
    with caplog.at_level(logging.WARNING, logger="channels.voice"):
        await settle(pbx, channel)
    assert sink.events(call.linkedid) == ["started", "queued", "ringing", "answered", "recording", "hangup"]
    assert "NOT AMI AT ALL" in caplog.text and "\\xde\\xad\\xbe\\xef" in caplog.text
    assert channel.stats.sessions == 1 and channel.stats.bad_frames == 1


async def test_a_huge_header_is_dropped_without_losing_the_call(
    pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await voice(max_frame_bytes=64 * 1024)
    call = incoming(pbx)
    pbx.inject_raw(b"Event: UserEvent\r\nUserEvent: Flood\r\nData: " + b"A" * 300_000 + b"\r\n\r\n")
    call.abandon()
    with caplog.at_level(logging.WARNING, logger="channels.voice"):
        await settle(pbx, channel)
    assert sink.events(call.linkedid) == ["started", "queued", "hangup"]
    assert "exceeds" in caplog.text and "UserEvent: Flood" in caplog.text


async def test_unknown_and_malformed_events_are_ignored(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice()
    call = incoming(pbx)
    pbx.emit("SomethingFromAsterisk42", [("Foo", "bar")])
    pbx.emit("Hangup", [("Channel", "PJSIP/nobody-00000001")])
    pbx.emit("DialBegin", [("Uniqueid", call.linkedid)])
    pbx.inject_raw(b"Event: Newchannel\r\nno colon on this line\r\n\r\n")
    call.abandon()
    await settle(pbx, channel)
    assert sink.events(call.linkedid) == ["started", "queued", "hangup"]
    assert channel.stats.handler_errors == 0


async def test_cut_mid_packet_reconnects_and_reconciles_missed_calls(
    pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await voice()
    ended_unseen = incoming(pbx, caller="0501111111")
    continues = incoming(pbx, caller="0502222222")
    await settle(pbx, channel)
    pbx.faults.refuse_login = True
    with caplog.at_level(logging.WARNING, logger="channels.voice"):
        pbx.cut_mid_packet()
        await until(lambda: not channel.connected)
    assert "closed mid-message" in caplog.text
    ended_unseen.abandon()
    leg = continues.ring("1001")
    continues.answer(leg)
    arrived_unseen = incoming(pbx, caller="0503333333")
    pbx.faults.refuse_login = False
    await channel.wait_connected(10)
    await settle(pbx, channel)
    assert sink.events(ended_unseen.linkedid) == ["started", "queued", "hangup"]
    reconciled_hangup = [i for i in sink.items if i.metadata["linkedid"] == ended_unseen.linkedid][-1]
    assert reconciled_hangup.metadata["reconciled"] is True
    assert sink.events(continues.linkedid) == ["started", "queued", "answered"]
    assert sink.events(arrived_unseen.linkedid) == ["started", "queued"]
    continues.hang_up()
    arrived_unseen.abandon()
    await settle(pbx, channel)
    assert sink.events(continues.linkedid)[-1] == "hangup" and sink.events(arrived_unseen.linkedid)[-1] == "hangup"
    keys = [i.dedupe_key for i in sink.items]
    assert len(keys) == len(set(keys))
    assert channel.stats.sessions == 2 and channel.stats.reconciles == 2


async def test_reconcile_after_restart_repeats_only_known_keys(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    first = await voice()
    call = incoming(pbx)
    call.answer(call.ring("1001"))
    await settle(pbx, first)
    before = {i.dedupe_key for i in sink.items}
    await first.stop()
    second = await voice()
    await settle(pbx, second)
    again = [i.dedupe_key for i in sink.items if i.metadata["linkedid"] == call.linkedid][len(before):]
    assert again and set(again) <= before


async def test_refused_login_is_retried_until_the_pbx_accepts(
    pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    pbx.faults.refuse_login = True
    with caplog.at_level(logging.WARNING, logger="channels.voice"):
        channel = await voice(action_timeout_seconds=0.3)
        await until(lambda: caplog.text.count("login as 'switchboard' refused") >= 2)
    assert not channel.connected
    pbx.faults.refuse_login = False
    await channel.wait_connected(10)
    linkedid = await pbx.play("abandoned_in_queue")
    await settle(pbx, channel)
    assert sink.events(linkedid) == ["started", "queued", "hangup"]


async def test_a_pbx_that_stops_answering_pings_is_dropped_and_reconnected(
    pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await voice(ping_interval_seconds=0.05, ping_timeout_seconds=0.1)
    pbx.faults.ignore_pings = True
    with caplog.at_level(logging.WARNING, logger="channels.voice"):
        await until(lambda: channel.stats.sessions >= 2)
    assert "stopped answering pings" in caplog.text
    pbx.faults.ignore_pings = False
    await channel.wait_connected(10)
    linkedid = await pbx.play("answered")
    await settle(pbx, channel)
    assert sink.events(linkedid)[0] == "started" and sink.events(linkedid)[-1] == "hangup"


async def test_a_start_in_the_middle_of_vicidial_calls_finds_their_agents(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    talking = CallScript(pbx, CallParams(agent="cc101"))
    talking.arrive()
    talking.join_agent("cc101")
    channel = await voice()
    await settle(pbx, channel)
    assert [(i.metadata["call_event"], i.metadata["agent"]) for i in sink.items] == [
        ("started", None), ("ringing", "cc101"), ("answered", "cc101"),
    ]
    talking.hang_up()
    await settle(pbx, channel)
    assert sink.events(talking.linkedid)[-1] == "hangup"
