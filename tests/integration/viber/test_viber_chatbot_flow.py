"""Viber chatbot users through the sandbox: welcome on conversation_started, menu presses, handover."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from channels.base import Button, Outbound, WebhookRejected
from channels.sandbox.viber import ViberSandbox, ViberUser, demo_users
from channels.viber import build
from routing.chatbot import BotState, ChatbotMenu

ROOT = Path(__file__).parents[3]


def buttons_of(reply) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(b.text, b.payload) for b in row) for row in reply.buttons)


async def test_welcome_menu_presses_and_handover_then_demo_traffic(tmp_path):
    locale = json.loads((ROOT / "dashboards/locales/chatbot.uk.json").read_text())
    bot = ChatbotMenu.from_toml((ROOT / "config/chatbot.toml").read_text(), "config/chatbot.toml", locale)
    sandbox = ViberSandbox()
    await sandbox.start()
    channel = build({"token": sandbox.account.token, "api_url": sandbox.api_url,
                     "state_path": str(tmp_path / "unsub.json")})
    welcome = bot.welcome()
    channel.set_welcome(welcome.text, buttons_of(welcome))
    states: dict[str, BotState] = {}
    handovers: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        try:
            reply = channel.handle_webhook(request.headers, await request.read())
        except WebhookRejected as rejected:
            return web.Response(status=rejected.status, text=rejected.reason)
        for inbound in reply.inbounds:
            if inbound.kind not in ("message", "contact_shared"):
                continue
            turn = bot.step(states.get(inbound.thread_key), inbound.text, inbound.metadata.get("button"), {})
            states[inbound.thread_key] = turn.state
            if turn.handover:
                handovers.append(inbound.thread_key)
            for index, bot_reply in enumerate(turn.replies):
                await channel.send(Outbound(channel="viber", thread_key=inbound.thread_key, recipient=inbound.sender,
                                            text=bot_reply.text, dedupe_key=f"{inbound.dedupe_key}:{index}",
                                            buttons=buttons_of(bot_reply)))
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)

    app = web.Application()
    app.router.add_post("/webhooks/viber/main", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sandbox.account.webhook_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhooks/viber/main"
    client = ViberUser(id="mArIa0Vbr+Q==", name="Марія")
    try:
        started = (await sandbox.user_starts_conversation(client)).json()
        assert started["text"].startswith("Вітаємо, шановний абоненте!")
        assert started["keyboard"]["Buttons"][0]["ActionBody"] == "readings"

        await sandbox.user_sends_text(client, "Добрий день")
        await sandbox.user_presses_button(client, "readings")
        assert sandbox.sent_to(client)[-1]["text"].startswith("Показання лічильника")
        await sandbox.user_presses_button(client, "nav:operator")
        assert handovers == [f"viber:{client.id}"]
        assert states[f"viber:{client.id}"].handed_over

        acts = await sandbox.run_traffic(100, 1.0, users=demo_users(5))
        assert acts == 100
        assert any(state.path[1:] for key, state in states.items() if key != f"viber:{client.id}")
    finally:
        await channel.stop()
        await runner.cleanup()
        await sandbox.stop()
