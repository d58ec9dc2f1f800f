"""What the engine asks of the voice channel: Redirect, click-to-call, recordings."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.base import ChannelError
from channels.sandbox.pbx import AmiServer, VicidialApiServer
from channels.voice import build
from tests.support.channels import channel_table
from tests.unit.voice.conftest import RecordingSink, VoiceFactory, settle


@pytest.fixture
async def vicidial(pbx: AmiServer) -> AsyncIterator[VicidialApiServer]:
    server = VicidialApiServer(pbx, agents={"1001"})
    await server.start()
    yield server
    await server.stop()


def vicidial_settings(api: VicidialApiServer) -> dict[str, str]:
    return {
        "vicidial_non_agent_api_url": f"{api.url}/vicidial/non_agent_api.php",
        "vicidial_agent_api_url": f"{api.url}/agc/api.php",
        "vicidial_api_user": "apiuser",
        "vicidial_api_pass": "apipass",
    }


async def test_route_mode_redirects_the_caller_to_the_chosen_agent(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice(mode="route", agent_context="agents")
    script = pbx.start_call("routed", vicidial=False)
    await sink.wait_for(lambda: "started" in sink.events())
    await channel.redirect(sink.items[0].metadata["linkedid"], "1007")
    await sink.wait_for(lambda: "hangup" in sink.events())
    await settle(pbx, channel)
    assert sink.events() == ["started", "ringing", "answered", "recording", "hangup"]
    assert sink.items[2].metadata["agent"] == "1007"
    redirect = next(a for a in pbx.actions_seen if a["action"] == "Redirect")
    assert redirect["channel"] == script.caller.name and redirect["exten"] == "1007" and redirect["context"] == "agents"


async def test_redirecting_a_call_that_is_not_live_fails_clearly(voice: VoiceFactory) -> None:
    channel = await voice(mode="route")
    with pytest.raises(ChannelError, match="no live call"):
        await channel.redirect("1700000000.1", "1001")


async def test_click_to_call_originates_from_the_agent_phone(pbx: AmiServer, voice: VoiceFactory, sink: RecordingSink) -> None:
    channel = await voice(mode="route", agent_channel_template="PJSIP/{extension}", outbound_context="outbound")
    call_id = await channel.originate("1001", "+380671234567", ticket_number="T-42")
    await sink.wait_for(lambda: "hangup" in sink.events())
    await settle(pbx, channel)
    assert sink.events() == ["started", "answered", "hangup"]
    started = sink.items[0]
    assert started.thread_key == f"voice:{call_id}" and started.metadata["direction"] == "outbound"
    assert started.metadata["caller"] == "+380671234567" and started.metadata["agent"] == "1001"
    originate = next(a for a in pbx.actions_seen if a["action"] == "Originate")
    assert originate["channel"] == "PJSIP/1001" and originate["exten"] == "0671234567" and originate["context"] == "outbound"
    assert originate["variable"] == "SWITCHBOARD_TICKET=T-42" and originate["channelid"] == call_id


async def test_click_to_call_refuses_what_is_not_a_phone(voice: VoiceFactory) -> None:
    channel = await voice(mode="route")
    with pytest.raises(ChannelError, match="not a dialable"):
        await channel.originate("1001", "hello", ticket_number=None)


async def test_observe_mode_dials_through_vicidial_agent_api(
    pbx: AmiServer, vicidial: VicidialApiServer, voice: VoiceFactory, sink: RecordingSink
) -> None:
    channel = await voice(**vicidial_settings(vicidial))
    call_id = await channel.originate("1001", "0671234567", ticket_number="T-1")
    await sink.wait_for(lambda: "hangup" in sink.events())
    started = sink.items[0].metadata
    assert started["linkedid"] == call_id and started["agent"] == "1001"
    assert started["direction"] == "outbound" and started["caller"] == "+380671234567"
    assert started["vicidial"]["type"] == "M"
    with pytest.raises(ChannelError, match="not logged in"):
        await channel.originate("2002", "0671234567", ticket_number=None)


async def test_recording_url_from_mixmonitor_and_from_vicidial_lookup(
    pbx: AmiServer, vicidial: VicidialApiServer, voice: VoiceFactory, sink: RecordingSink
) -> None:
    with_template = await voice()
    linkedid = await pbx.play("answered", lead_id=855319)
    await settle(pbx, with_template)
    url = await with_template.recording_url(linkedid)
    assert url is not None and url.startswith("https://vicidial.example/RECORDINGS/MP3/") and url.endswith("_1001-all.mp3")

    lookup_only = await voice(recording_url_template="", **vicidial_settings(vicidial))
    second = await pbx.play("answered", lead_id=777001)
    await settle(pbx, lookup_only)
    url = await lookup_only.recording_url(second)
    assert url == next(r["location"] for r in pbx.recordings if r["lead_id"] == "777001")
    assert await lookup_only.recording_url("1.1") is None


def test_the_shipped_configuration_builds_a_channel() -> None:
    table = channel_table("voice")
    channel = build(table)
    assert channel.name == "voice" and channel.settings.mode == "observe" and channel.settings.port == 5038
    with pytest.raises(ChannelError, match="mode"):
        build({**table, "mode": "predictive"})
