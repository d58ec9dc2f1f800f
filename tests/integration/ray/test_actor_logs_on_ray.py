"""Skipped is visible (issue 14, part 2): a channel actor's INFO lines, and the lines of an item it parks,
reach the console of the process that started the engine, as JSON (Ray forwards each worker's stderr to
the driver; an actor process that configured no logging drops every INFO line).  A replay the channel
still refuses reaches the caller across Ray as the channel's own error."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from channels.base import ChannelError
from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.telegram.state import SandboxUser
from channels.serialization import exact_bytes
from channels.telegram.polling import UnreadableUpdate
from crm_core.database import async_engine
from tests.support.channels import channel_table
from tests.support.engine import eventually
from tests.support.poison import REFUSED, parked_rows, refuse_marked_items

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.integration


def json_lines(console: str) -> list[dict]:
    lines = []
    for line in console.splitlines():
        start = line.find('{"at"')
        if start >= 0:
            try:
                lines.append(json.loads(line[start:]))
            except ValueError:
                continue
    return lines


async def test_channel_actor_info_and_parking_lines_reach_the_console_as_json(fresh_db_url, capfd):
    from actors.system import RayEngine

    sandbox = TelegramSandbox()
    await sandbox.start()
    db = async_engine(fresh_db_url)
    await refuse_marked_items(db)
    engine = RayEngine(database_url=fresh_db_url)
    engine.namespace = f"switchboard-logs-{uuid.uuid4().hex[:8]}"
    channels = {"telegram": channel_table("telegram", api_url=sandbox.url, poll_timeout_s=1)}
    seen: list[dict] = []
    try:
        await asyncio.to_thread(engine.start, channels, False, True)
        sandbox.user_sends_text(SandboxUser(id=380_000_444, first_name="Ольга"), f"Показники {REFUSED}")
        await eventually(lambda: parked_rows(db), timeout_s=60)

        async def logged() -> bool:
            seen.extend(json_lines(capfd.readouterr().err + capfd.readouterr().out))
            started = any(line["level"] == "INFO" and line["message"].startswith("telegram: bot @") for line in seen)
            retried = any(line["level"] == "INFO" and line["logger"] == "actors.intake" for line in seen)
            parked = any(line["level"] == "WARNING" and "parked as dead letter" in line["message"] for line in seen)
            return started and retried and parked

        await eventually(logged, timeout_s=30)

        # Replaying a parked update it still cannot read: the refusal crosses the Ray boundary intact.
        choking = {"update_id": 77, "message": {**sandbox.state.user_message(SandboxUser(id=380_000_445, first_name="О")),
                                                "document": {"file_id": "d", "file_unique_id": "u", "file_size": "9"}}}
        with pytest.raises(UnreadableUpdate, match="TypeError"):
            await engine.channel_actors["telegram"].read_again.remote(exact_bytes(choking))
        with pytest.raises(ChannelError, match="must be an update"):
            await engine.channel_actors["telegram"].read_again.remote(b"[]")
    finally:
        await asyncio.to_thread(engine.stop)
        await sandbox.stop()
        await db.dispose()
