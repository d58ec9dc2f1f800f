"""A Telegram client walks the chatbot menu through the real Bot API wire and is handed over.

The conversation actor's part (state per chat, BotReply -> Outbound) is played here by a few lines,
the way the engine wires it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from channels.base import Button, Inbound, Outbound
from channels.sandbox.telegram import SandboxUser, TelegramSandbox, demo_users
from channels.telegram import build
from routing.chatbot import BotState, BotTurn, ChatbotMenu

ROOT = Path(__file__).parents[3]
TOKEN = "7000000001:SANDBOX-token"


def load_bot() -> ChatbotMenu:
    locale = json.loads((ROOT / "dashboards/locales/chatbot.uk.json").read_text())
    return ChatbotMenu.from_toml((ROOT / "config/chatbot.toml").read_text(), "config/chatbot.toml", locale)


class ConversationStandIn:
    def __init__(self, bot: ChatbotMenu) -> None:
        self.bot = bot
        self.channel = None
        self.states: dict[str, BotState] = {}
        self.handovers: dict[str, BotTurn] = {}
        self.handled = 0

    async def __call__(self, inbound: Inbound) -> None:
        turn = self.bot.step(self.states.get(inbound.thread_key), inbound.text, inbound.metadata.get("button"),
                             {"client_name": inbound.sender.display_name or ""})
        self.states[inbound.thread_key] = turn.state
        if turn.handover:
            self.handovers[inbound.thread_key] = turn
        for index, reply in enumerate(turn.replies):
            await self.channel.send(Outbound(
                channel="telegram", thread_key=inbound.thread_key, recipient=inbound.sender, text=reply.text,
                dedupe_key=f"{inbound.dedupe_key}:{index}",
                buttons=tuple(tuple(Button(b.text, b.payload) for b in row) for row in reply.buttons)))
        self.handled += 1


async def wait_until(condition, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_menu_walk_and_gas_leak_handover_over_the_wire():
    sandbox = TelegramSandbox(TOKEN)
    await sandbox.start()
    engine = ConversationStandIn(load_bot())
    engine.channel = build({"token": TOKEN, "api_url": sandbox.url, "poll_timeout_s": 1})
    await engine.channel.start(engine)
    client = SandboxUser(id=380990001122, first_name="Марія", phone="+380990001122")
    try:
        sandbox.user_sends_text(client, "/start")
        await wait_until(lambda: len(sandbox.sent_to(client)) == 1)
        assert sandbox.sent_to(client)[0]["text"].startswith("Вітаємо, Марія!")

        sandbox.user_presses_button(client, "bills")
        await wait_until(lambda: len(sandbox.sent_to(client)) == 2)
        assert sandbox.offered_buttons(client)[:2] == ["bills_pay", "bills_missing"]

        sandbox.user_presses_button(client, "bills_pay")
        await wait_until(lambda: len(sandbox.sent_to(client)) == 4)
        assert "особистому кабінеті" in sandbox.sent_to(client)[2]["text"]

        sandbox.user_sends_text(client, "Стоп, у кухні пахне газом!")
        await wait_until(lambda: len(sandbox.sent_to(client)) == 5)
        turn = engine.handovers[f"telegram:{client.id}"]
        assert turn.urgent and "104" in sandbox.sent_to(client)[-1]["text"]
        note = engine.bot.transcript_note(turn.state)
        assert "Клієнт: 💳 Рахунки та оплата" in note and "пахне газом" in note
        assert len(sandbox.answered_callbacks) == 2
    finally:
        await engine.channel.stop()
        await sandbox.stop()


async def test_demo_traffic_presses_the_bots_buttons():
    sandbox = TelegramSandbox(TOKEN)
    await sandbox.start()
    engine = ConversationStandIn(load_bot())
    engine.channel = build({"token": TOKEN, "api_url": sandbox.url, "poll_timeout_s": 1})
    await engine.channel.start(engine)
    try:
        acts = await sandbox.run_traffic(100, 1.0, users=demo_users(5))
        await wait_until(lambda: engine.handled >= acts)
        assert sandbox.answered_callbacks, "chatbot users pressed buttons"
        assert any(state.path[1:] for state in engine.states.values()), "someone went down a level"
    finally:
        await engine.channel.stop()
        await sandbox.stop()

