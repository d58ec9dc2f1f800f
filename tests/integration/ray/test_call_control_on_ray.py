"""Call control across a Ray boundary: the voice channel runs in its own Ray actor, another process asks
the channel directory for its call control role and places a call through it to the sandbox PBX; the
channel's refusal of a number it cannot dial comes back through Ray as the same ChannelError."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from channels.base import CallControl, ChannelError
from channels.sandbox.pbx import AmiServer
from tests.support.channels import channel_table

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[3] / "config"
VOICE = channel_table("voice")


@pytest.fixture
async def pbx():
    server = AmiServer(time_scale=0.0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def ray_engine(db_url):
    from actors.system import RayEngine

    ray.init(num_cpus=2, namespace="switchboard-call-control", logging_level="ERROR", include_dashboard=False)
    engine = RayEngine(config_dir=CONFIG, database_url=db_url)
    engine.namespace = "switchboard-call-control"
    yield engine
    ray.shutdown()


async def connected(control: CallControl, timeout_s: float = 30.0) -> None:
    """Until the channel is connected to the PBX: before, its refusal comes back through Ray as a
    ChannelError."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await control.ping()
            return
        except ChannelError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_a_call_placed_through_the_voice_channels_ray_actor(pbx, ray_engine):
    engine = ray_engine
    engine.start(channels={"voice": {**VOICE, "port": pbx.port, "mode": "route"}}, gateway=False)
    control = engine.client_services().channels.call_control("voice")
    assert isinstance(control, CallControl)
    await connected(control)
    call_id = await control.originate("1009", "+380671230077", ticket_number="26-000042")
    originate = next(a for a in pbx.actions_seen if a.get("action", "").lower() == "originate")
    assert originate["channelid"] == call_id and originate["channel"] == "PJSIP/1009"
    assert "SWITCHBOARD_TICKET=26-000042" in originate.get("variable", "")
    with pytest.raises(ChannelError, match="not a dialable phone number"):
        await control.originate("1009", "газ", ticket_number=None)
