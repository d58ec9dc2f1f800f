"""The Telegram channel starts although the Bot API's getMe answer lacks fields python-telegram-bot insists
on (issue 14, part 2): the bot's User is completed from what is known, and polling serves."""

from __future__ import annotations

import pytest

from channels.sandbox.telegram import SandboxUser, TelegramSandbox
from channels.telegram import build
from tests.integration.telegram.test_telegram_sandbox import TOKEN, RecordingSink


@pytest.fixture
async def sandbox():
    server = TelegramSandbox(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("fields", [("id", "username"), ("username",), ("id", "is_bot")])
async def test_a_minimal_get_me_answer_still_starts_the_bot_and_it_polls(sandbox, fields):
    sandbox.get_me_fields = fields
    sink = RecordingSink()
    channel = build({"token": TOKEN, "api_url": sandbox.url, "poll_timeout_s": 1})
    await channel.start(sink)
    try:
        assert channel.bot.bot.id == 7000000001 and channel.bot.bot.is_bot
        if "username" in fields:
            assert channel.bot.username == sandbox.state.bot_username
        sandbox.user_sends_text(SandboxUser(id=380_000_333, first_name="Ліна"), "Добрий день")
        [item] = await sink.wait_for(1)
        assert item.text == "Добрий день"
    finally:
        await channel.stop()
