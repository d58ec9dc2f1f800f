"""python-telegram-bot against the sandbox Bot API server over real sockets: polling and webhook."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from channels.base import Address, Attachment, Button, ChannelError, Inbound, Outbound, WebhookRejected
from channels.sandbox.telegram import SandboxUser, TelegramSandbox
from channels.telegram import build

TOKEN = "7000000001:SANDBOX-token"
OKSANA = SandboxUser(id=380501112233, first_name="Оксана", last_name="Коваль", username="oksana_k",
                     phone="380501112233")
PETRO = SandboxUser(id=380671234567, first_name="Петро", phone="0671234567")


class RecordingSink:
    """Stores inbound items like the engine's inbox would; can be told to fail the next N calls."""

    def __init__(self) -> None:
        self.items: list[Inbound] = []
        self.fail_next = 0
        self.calls = 0
        self.arrived = asyncio.Event()

    async def __call__(self, inbound: Inbound) -> None:
        self.calls += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("inbox unavailable")
        self.items.append(inbound)
        self.arrived.set()

    async def wait_for(self, count: int) -> list[Inbound]:
        while len(self.items) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)
        return self.items


@pytest.fixture
async def sandbox():
    server = TelegramSandbox(TOKEN)
    await server.start()
    yield server
    await server.stop()


async def start_polling(sandbox, sink, **extra):
    channel = build({"token": TOKEN, "api_url": sandbox.url, "poll_timeout_s": 1,
                     "sink_retry_initial_s": 0.01, "attachment_cap_bytes": 1024 * 1024, **extra})
    await channel.start(sink)
    return channel


def outbound(user: SandboxUser, text: str, **extra) -> Outbound:
    return Outbound(channel="telegram", thread_key=f"telegram:{user.id}",
                    recipient=Address("telegram", str(user.id)),
                    text=text, dedupe_key=f"out-{text}", **extra)


async def test_polling_delivers_text_contact_and_button_press_and_answers_the_press(sandbox):
    sink = RecordingSink()
    channel = await start_polling(sandbox, sink)
    try:
        sandbox.user_sends_text(OKSANA, "Добрий день")
        sandbox.user_shares_contact(OKSANA)
        [hello, contact] = await sink.wait_for(2)
        assert hello.text == "Добрий день" and hello.thread_key == f"telegram:{OKSANA.id}"
        assert hello.sender.display_name == "Оксана Коваль"
        assert contact.kind == "contact_shared" and contact.metadata["phone"] == "+380501112233"

        receipt = await channel.send(outbound(OKSANA, "Оберіть тему", buttons=(
            (Button("Показання", "menu:readings"), Button("Рахунки", "menu:bills")),)))
        [menu] = sandbox.sent_to(OKSANA)
        assert str(menu["message_id"]) == receipt.external_id
        assert menu["reply_markup"]["inline_keyboard"][0][1] == {"text": "Рахунки", "callback_data": "menu:bills"}

        press = sandbox.user_presses_button(OKSANA, "menu:bills")
        items = await sink.wait_for(3)
        assert items[2].metadata["button"] == "menu:bills" and items[2].text == "Рахунки"
        for _ in range(100):
            if sandbox.answered_callbacks:
                break
            await asyncio.sleep(0.02)
        assert sandbox.answered_callbacks == [press["callback_query"]["id"]]
    finally:
        await channel.stop()


async def test_sink_failure_retries_the_same_update_and_does_not_advance_the_offset(sandbox):
    sink = RecordingSink()
    sink.fail_next = 3
    channel = await start_polling(sandbox, sink)
    try:
        first = sandbox.user_sends_text(PETRO, "перше")
        second = sandbox.user_sends_text(PETRO, "друге")
        items = await sink.wait_for(2)
        assert sink.calls == 5
        assert [i.dedupe_key for i in items] == [f"telegram:{first['update_id']}", f"telegram:{second['update_id']}"]
    finally:
        await channel.stop()


async def test_updates_not_acknowledged_before_a_restart_are_delivered_again(sandbox):
    sink = RecordingSink()
    sink.fail_next = 10_000
    channel = await start_polling(sandbox, sink)
    update = sandbox.user_sends_text(PETRO, "не загубіть мене")
    while sink.calls < 2:
        await asyncio.sleep(0.01)
    await channel.stop()
    assert sandbox.pending_updates == 1, "the update must stay unconfirmed on the server"

    sink.fail_next = 0
    restarted = await start_polling(sandbox, sink)
    try:
        [item] = await sink.wait_for(1)
        assert item.dedupe_key == f"telegram:{update['update_id']}"
    finally:
        await restarted.stop()


async def test_an_update_the_library_cannot_parse_does_not_stall_the_bot(sandbox):
    sink = RecordingSink()
    channel = await start_polling(sandbox, sink)
    try:
        sandbox.deliver_raw({"message": {"message_id": "not-a-number", "chat": "nope"}})
        after = sandbox.user_sends_text(PETRO, "я після зламаного")
        [item] = await sink.wait_for(1)
        assert item.dedupe_key == f"telegram:{after['update_id']}"
    finally:
        await channel.stop()


async def test_edits_update_and_attachments_download_up_to_the_cap(sandbox):
    sink = RecordingSink()
    channel = await start_polling(sandbox, sink)
    try:
        original = sandbox.user_sends_text(OKSANA, "показання 0451")
        sandbox.user_edits(OKSANA, original["message"]["message_id"], "показання 04512")
        sandbox.user_sends_photo(OKSANA, b"\x89PNG-meter-photo" * 100, caption="лічильник")
        sandbox.user_sends_document(OKSANA, "scan.pdf", None, size=20 * 1024 * 1024 + 1)
        sandbox.user_sends_voice(OKSANA, b"OggS-voice")
        sandbox.user_sends_location(OKSANA, 49.8397, 24.0297)
        items = await sink.wait_for(6)
        message, edit, photo, big, voice, location = items
        assert edit.kind == "edit" and edit.metadata["edit_of"] == message.metadata["external_id"]
        assert edit.dedupe_key != message.dedupe_key
        assert photo.attachments[0].data == b"\x89PNG-meter-photo" * 100
        [scan] = big.attachments
        assert scan.data is None and scan.size == 20 * 1024 * 1024 + 1 and scan.url.startswith("telegram-file:")
        assert voice.attachments[0].data == b"OggS-voice"
        assert location.metadata["location"] == {"latitude": 49.8397, "longitude": 24.0297}
    finally:
        await channel.stop()


async def test_send_files_and_refusals(sandbox):
    sink = RecordingSink()
    channel = await start_polling(sandbox, sink)
    try:
        sandbox.user_sends_text(PETRO, "надішліть рахунок")
        await sink.wait_for(1)
        receipt = await channel.send(outbound(PETRO, "Ваш рахунок", attachments=(
            Attachment("bill.pdf", "application/pdf", 9, data=b"%PDF-1.7\n"),
            Attachment("map.png", "image/png", 4, data=b"\x89PNG"))))
        document, photo = sandbox.sent_to(PETRO)
        assert str(document["message_id"]) == receipt.external_id
        assert document["document"]["file_name"] == "bill.pdf" and document["caption"] == "Ваш рахунок"
        assert "photo" in photo
        sandbox.blocks_bot(PETRO)
        with pytest.raises(ChannelError, match="blocked"):
            await channel.send(outbound(PETRO, "ще раз"))
        with pytest.raises(ChannelError, match="(?i)chat not found"):
            await channel.send(outbound(SandboxUser(id=1, first_name="Ніхто"), "привіт"))
    finally:
        await channel.stop()


async def test_webhook_mode_through_a_real_http_endpoint(sandbox):
    sink = RecordingSink()
    secret = "webhook-secret-1"
    channels = []

    async def endpoint(request: web.Request) -> web.Response:
        try:
            reply = channels[0].handle_webhook(request.headers, await request.read())
        except WebhookRejected as rejected:
            return web.Response(status=rejected.status, text=rejected.reason)
        for inbound in reply.inbounds:
            await sink(inbound)
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)

    app = web.Application()
    app.router.add_post("/webhooks/telegram/main", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    channel = None
    try:
        channel = build({"token": TOKEN, "api_url": sandbox.url, "mode": "webhook", "webhook_secret": secret,
                         "public_webhook_url": f"http://127.0.0.1:{port}/webhooks/telegram/main"})
        channels.append(channel)
        await channel.start(sink)
        sandbox.user_sends_text(OKSANA, "привіт через вебхук")
        [item] = await sink.wait_for(1)
        assert item.text == "привіт через вебхук"
        await channel.send(outbound(OKSANA, "Меню", buttons=((Button("Оператор", "operator"),),)))
        press = sandbox.user_presses_button(OKSANA, "operator")
        items = await sink.wait_for(2)
        assert items[1].metadata["button"] == "operator"
        for _ in range(100):
            if sandbox.answered_callbacks:
                break
            await asyncio.sleep(0.02)
        assert sandbox.answered_callbacks == [press["callback_query"]["id"]]

        sandbox.webhook["secret_token"] = "forged"
        sandbox.user_sends_text(OKSANA, "підроблений")
        while sandbox.webhook_failures < 2:
            await asyncio.sleep(0.02)
        assert len(sink.items) == 2, "a forged request must store nothing"
        sandbox.webhook["secret_token"] = secret
        items = await sink.wait_for(3)
        assert items[2].text == "підроблений", "Telegram keeps the refused update and delivers it later"
        assert json.loads(json.dumps(sandbox.webhook))["url"].endswith("/webhooks/telegram/main")
    finally:
        if channel is not None:
            await channel.stop()
        await runner.cleanup()


async def test_real_updates_replayed_over_the_wire_parse_like_the_webhook(sandbox):
    from pathlib import Path

    fixtures = json.loads((Path(__file__).parents[2] / "fixtures/telegram/updates.json").read_text())
    samples = {name: sample["update"] for name, sample in fixtures.items() if not name.startswith("_")}
    webhook_channel = build({"token": TOKEN, "mode": "webhook", "webhook_secret": "s"})
    expected = {}
    for name, update in samples.items():
        reply = webhook_channel.handle_webhook({"X-Telegram-Bot-Api-Secret-Token": "s"}, json.dumps(update).encode())
        expected[name] = reply.inbounds[0] if reply.inbounds else None
    sink = RecordingSink()
    channel = await start_polling(sandbox, sink, attachment_cap_bytes=0)
    try:
        for update in samples.values():
            sandbox.deliver_raw(update, keep_id=True)
        wanted = [item for item in expected.values() if item is not None]
        received = await sink.wait_for(len(wanted))
        assert sorted(i.dedupe_key for i in received) == sorted(i.dedupe_key for i in wanted)
        by_key = {i.dedupe_key: i for i in received}
        for item in wanted:
            got = by_key[item.dedupe_key]
            assert (got.kind, got.text, got.thread_key, dict(got.metadata)) == \
                   (item.kind, item.text, item.thread_key, dict(item.metadata))
    finally:
        await channel.stop()


async def test_long_replies_are_split_with_buttons_on_the_last_part(sandbox):
    sink = RecordingSink()
    channel = await start_polling(sandbox, sink)
    try:
        sandbox.user_sends_text(OKSANA, "розкажіть докладно")
        await sink.wait_for(1)
        long_text = "\n".join(f"Рядок {n}: " + "х" * 90 for n in range(100))
        receipt = await channel.send(outbound(OKSANA, long_text, buttons=((Button("Так", "yes"),),)))
        parts = sandbox.sent_to(OKSANA)
        assert len(parts) == 3 and all(len(p["text"]) <= 4096 for p in parts)
        assert "\n".join(p["text"] for p in parts) == long_text
        assert str(parts[0]["message_id"]) == receipt.external_id
        assert "reply_markup" in parts[-1] and all("reply_markup" not in p for p in parts[:-1])
    finally:
        await channel.stop()
