"""The voice channel against the sandbox PBX: every scenario, the metadata contract, delivery."""

from __future__ import annotations

import logging

import pytest

from channels.base import ChannelError, Outbound
from channels.sandbox.pbx import AmiServer
from tests.unit.voice.conftest import RecordingSink, VoiceFactory, settle

EXPECTED = {
    "answered": ["started", "queued", "ringing", "answered", "recording", "hold", "unhold", "hangup"],
    "abandoned_in_queue": ["started", "queued", "hangup"],
    "agent_no_answer": ["started", "queued", "ringing", "agent_no_answer", "ringing", "answered", "recording", "hangup"],
    "caller_hangs_up_ringing": ["started", "queued", "ringing", "hangup"],
    "blind_transfer": ["started", "queued", "ringing", "answered", "recording", "transferred", "ringing", "recording", "hangup"],
    "attended_transfer": ["started", "queued", "ringing", "answered", "recording", "hold", "transferred", "unhold", "hangup"],
    "vicidial_inbound": ["started", "ringing", "answered", "hangup"],
    "vicidial_closer_transfer": ["started", "ringing", "answered", "transferred", "hangup"],
}
CONTRACT_KEYS = {"call_event", "linkedid", "uniqueid", "asterisk_channel", "caller", "did", "queue", "agent", "mode"}


@pytest.mark.parametrize("scenario", list(EXPECTED))
async def test_each_scenario_becomes_its_call_events(scenario: str, pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice()
    linkedid = await pbx.play(scenario, caller="0671234567", agent="1001", agent2="1002")
    await settle(pbx, channel)
    assert sink.events(linkedid) == EXPECTED[scenario]
    items = [i for i in sink.items if i.metadata["linkedid"] == linkedid]
    assert len({i.dedupe_key for i in items}) == len(items)
    assert {i.thread_key for i in items} == {f"voice:{linkedid}"}
    hangup = items[-1].metadata
    assert hangup["abandoned"] is (scenario in ("abandoned_in_queue", "caller_hangs_up_ringing"))


async def test_call_event_metadata_follows_the_contract(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice()
    linkedid = await pbx.play("answered", caller="380671234567", did="0442900000", queue="ingroup_kyiv", agent="1001", lead_id=855319)
    await settle(pbx, channel)
    by_kind = {i.metadata["call_event"]: i for i in sink.items}
    started = by_kind["started"]
    assert set(started.metadata) >= CONTRACT_KEYS
    assert started.channel == "voice" and started.kind == "call_event" and started.text == ""
    assert started.sender.kind == "phone" and started.sender.value == "+380671234567"
    assert started.metadata["caller"] == "+380671234567" and started.metadata["did"] == "0442900000"
    assert started.metadata["asterisk_channel"].startswith("PJSIP/kyivstar-")
    # An inbound call's VICIdial id is set by VICIdial's AGI after the call arrives: from `queued` on.
    assert by_kind["queued"].metadata["vicidial"]["type"] == "Y"
    assert by_kind["queued"].metadata["vicidial"]["lead_id"] == "855319"
    assert started.metadata["mode"] == "observe" and started.metadata["linkedid"] == linkedid
    assert by_kind["ringing"].metadata["agent"] == "1001" and by_kind["answered"].metadata["queue"] == "ingroup_kyiv"
    recording = by_kind["recording"].metadata["recording"]
    assert recording["file"].endswith("-all.wav") and recording["url"].startswith("https://vicidial.example/RECORDINGS/MP3/")
    hangup = by_kind["hangup"].metadata
    assert hangup["hangup_cause"] == "16" and hangup["hangup_cause_txt"] == "Normal Clearing"
    assert hangup["abandoned"] is False and hangup["wait_seconds"] >= 0 and hangup["talk_seconds"] >= 0
    assert sink.items[0].metadata["call_event"] == "started"
    assert sink.items[0].occurred_at <= sink.items[-1].occurred_at


async def test_sink_failures_are_retried_in_order_and_nothing_is_lost(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    sink.fail_first = 5
    channel = await voice()
    linkedid = await pbx.play("answered")
    await settle(pbx, channel)
    assert sink.refusals == 5
    assert sink.events(linkedid) == EXPECTED["answered"]


async def test_route_mode_is_reported_on_every_event(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice(mode="route")
    await pbx.play("abandoned_in_queue")
    await settle(pbx, channel)
    assert {i.metadata["mode"] for i in sink.items} == {"route"}


async def test_voice_has_no_text_replies(voice: VoiceFactory) -> None:
    channel = await voice()
    with pytest.raises(ChannelError):
        await channel.send(Outbound("voice", "voice:1.1", None, "hello", "k"))  # type: ignore[arg-type]


async def test_stopping_while_the_sink_is_down_reports_what_was_not_stored(
    pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    sink.fail_first = 10**9
    channel = await voice(action_timeout_seconds=0.3)
    await pbx.play("abandoned_in_queue")
    await pbx.flush()
    await channel.ping()
    with caplog.at_level(logging.ERROR, logger="channels.voice"):
        await channel.stop()
    assert "3 call events not stored" in caplog.text and sink.items == []


async def test_vicidial_session_conferences_name_the_agent(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice()
    linkedid = await pbx.play("vicidial_closer_transfer", agent="cc101", agent2="cc205", lead_id=4711)
    await settle(pbx, channel)
    items = {i.metadata["call_event"]: i.metadata for i in sink.items if i.metadata["linkedid"] == linkedid}
    assert items["ringing"]["agent"] == items["answered"]["agent"] == "cc101"
    assert items["transferred"]["agent"] == "cc205" and items["transferred"]["transfer"]["from_agent"] == "cc101"
    assert items["answered"]["vicidial"] == {"call_id": items["answered"]["vicidial"]["call_id"], "lead_id": "4711", "type": "Y"}
    assert {i.metadata["linkedid"] for i in sink.items} == {linkedid}
