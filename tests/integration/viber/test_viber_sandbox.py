"""viberbot against the sandbox Viber REST server, callbacks signed and POSTed over real sockets."""

from __future__ import annotations

import pytest
from aiohttp import web

from channels.base import Address, Attachment, Button, ChannelError, Inbound, Outbound, WebhookRejected
from channels.sandbox.viber import ViberSandbox, ViberUser
from channels.viber import build

HANNA = ViberUser(id="hAnNa5Zq1+Lw0Qz7Jt3XQw==", name="Ганна", phone="067-123-45-67")
IVAN = ViberUser(id="iVaN9Xk2+Ab3Cd4Ef5Gh6==", name="Іван")


class Gateway:
    """A minimal stand-in for the dashboard gateway's webhook route: verify, store, answer."""

    def __init__(self) -> None:
        self.channel = None
        self.stored: list[Inbound] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        try:
            reply = self.channel.handle_webhook(request.headers, await request.read())
        except WebhookRejected as rejected:
            return web.Response(status=rejected.status, text=rejected.reason)
        for inbound in reply.inbounds:
            self.stored.append(await self.channel.download_attachments(inbound))
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/viber/main", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhooks/viber/main"


@pytest.fixture
async def wired(tmp_path):
    sandbox = ViberSandbox()
    await sandbox.start()
    gateway = Gateway()
    await gateway.start()
    gateway.channel = build({"token": sandbox.account.token, "api_url": sandbox.api_url,
                             "public_webhook_url": gateway.url, "state_path": str(tmp_path / "unsub.json"),
                             "attachment_cap_bytes": 4096})
    await gateway.channel.start(gateway.stored.append)
    yield sandbox, gateway, gateway.channel
    await gateway.channel.stop()
    await gateway.runner.cleanup()
    await sandbox.stop()


def reply_to(user: ViberUser, text: str, **extra) -> Outbound:
    return Outbound(channel="viber", thread_key=f"viber:{user.id}", recipient=Address("viber", user.id),
                    text=text, dedupe_key=f"out-{text}", **extra)


async def test_webhook_registered_through_the_verification_callback(wired):
    sandbox, gateway, channel = wired
    assert sandbox.account.webhook_url == gateway.url
    assert "conversation_started" in sandbox.account.event_types
    assert gateway.stored == []


async def test_conversation_started_welcome_then_menu_press_then_agent_reply(wired):
    sandbox, gateway, channel = wired
    channel.set_welcome("Вітаємо у газовій службі!", ((Button("Показання", "readings"), Button("Оператор", "operator")),))
    started = await sandbox.user_starts_conversation(HANNA, context="qr-poster")
    welcome = started.json()
    assert started.status == 200 and welcome["text"] == "Вітаємо у газовій службі!"
    assert gateway.stored[0].metadata["event"] == "conversation_started"
    assert gateway.stored[0].metadata["context"] == "qr-poster"

    await sandbox.user_sends_text(HANNA, "Добрий день")
    receipt = await channel.send(reply_to(HANNA, "Оберіть тему", buttons=(
        (Button("Показання", "readings"), Button("Оператор", "operator")),)))
    [menu] = sandbox.sent_to(HANNA)
    assert str(menu["message_token"]) == receipt.external_id
    assert [b["ActionBody"] for b in menu["keyboard"]["Buttons"]] == ["readings", "operator"]
    assert menu["sender"]["name"] == "Switchboard"

    result = await sandbox.user_presses_button(HANNA, "operator")
    assert result.status == 200
    pressed = gateway.stored[-1]
    assert pressed.metadata["button"] == "operator" and pressed.text == "Оператор"

    await sandbox.message_status(HANNA, receipt.external_id, "delivered")
    await sandbox.message_status(HANNA, receipt.external_id, "seen")
    statuses = [i for i in gateway.stored if i.kind == "delivery_status"]
    assert [(s.metadata["status"], s.metadata["message_token"]) for s in statuses] == [
        ("delivered", receipt.external_id), ("seen", receipt.external_id)]
    assert len({s.dedupe_key for s in statuses}) == 2


async def test_contact_picture_and_big_file(wired):
    sandbox, gateway, channel = wired
    await sandbox.user_shares_contact(HANNA)
    await sandbox.user_sends_picture(HANNA, b"\xff\xd8meter" * 10, caption="лічильник")
    await sandbox.user_sends_file(HANNA, "akt.pdf", b"%PDF" * 5000)
    await sandbox.user_sends_file(HANNA, "video-20mb.mp4", None, size=20 * 1024 * 1024)
    contact, picture, too_big_to_keep, declared = gateway.stored
    assert contact.kind == "contact_shared" and contact.metadata["phone"] == "+380671234567"
    assert picture.attachments[0].data == b"\xff\xd8meter" * 10 and picture.text == "лічильник"
    assert too_big_to_keep.attachments[0].data is None and too_big_to_keep.attachments[0].size == 20000
    assert declared.attachments[0].data is None and declared.attachments[0].size == 20 * 1024 * 1024
    assert declared.attachments[0].url.startswith(sandbox.url)


async def test_unsubscribed_user_gets_no_sends_and_the_api_is_not_called(wired):
    sandbox, gateway, channel = wired
    await sandbox.user_sends_text(IVAN, "привіт")
    await channel.send(reply_to(IVAN, "Вітаю"))
    await sandbox.user_unsubscribes(IVAN)
    with pytest.raises(ChannelError, match="unsubscribed"):
        await channel.send(reply_to(IVAN, "Ще одне"))
    assert len(sandbox.sent_to(IVAN)) == 1
    await sandbox.user_sends_text(IVAN, "я повернувся")
    await channel.send(reply_to(IVAN, "Раді бачити"))
    assert len(sandbox.sent_to(IVAN)) == 2


async def test_viber_refusal_for_a_not_subscribed_user_marks_them(wired):
    sandbox, gateway, channel = wired
    await sandbox.user_sends_text(IVAN, "привіт")
    sandbox.account.subscribed.discard(IVAN.id)
    with pytest.raises(ChannelError, match="unsubscribed"):
        await channel.send(reply_to(IVAN, "Вітаю"))
    assert channel.unsubscribed(IVAN.id)


async def test_forged_missing_and_unknown_callbacks(wired):
    sandbox, gateway, channel = wired
    payload = {"event": "message", "timestamp": 1, "message_token": 77, "sender": HANNA.profile(),
               "message": {"type": "text", "text": "підробка"}}
    assert (await sandbox.send_raw(payload, signature="ab" * 32)).status == 403
    assert (await sandbox.send_raw(payload, signature="")).status == 403
    assert gateway.stored == []
    unknown = await sandbox.send_raw({"event": "client_status", "timestamp": 1, "user_id": HANNA.id})
    assert unknown.status == 200 and gateway.stored == []
    assert (await sandbox.send_raw(payload)).status == 200
    assert [i.text for i in gateway.stored] == ["підробка"]


async def test_outbound_files_need_public_urls(wired):
    sandbox, gateway, channel = wired
    await sandbox.user_sends_text(HANNA, "рахунок?")
    await channel.send(reply_to(HANNA, "Ваш рахунок", attachments=(
        Attachment("bill.pdf", "application/pdf", 1234, url="https://files.example.com/bill.pdf"),)))
    text, document = sandbox.sent_to(HANNA)
    assert text["text"] == "Ваш рахунок"
    assert (document["type"], document["file_name"], document["size"]) == ("file", "bill.pdf", 1234)
    with pytest.raises(ChannelError, match="public URL"):
        await channel.send(reply_to(HANNA, "x", attachments=(Attachment("a.pdf", "application/pdf", 3, data=b"abc"),)))


async def test_buttons_without_text_go_as_a_keyboard_message(wired):
    sandbox, gateway, channel = wired
    await sandbox.user_sends_text(HANNA, "меню")
    await channel.send(reply_to(HANNA, "", buttons=((Button("Оператор", "nav:operator"),),)))
    [keyboard_only] = sandbox.sent_to(HANNA)
    assert "type" not in keyboard_only and keyboard_only["keyboard"]["Buttons"][0]["ActionBody"] == "nav:operator"
    with pytest.raises(ChannelError, match="nothing to send"):
        await channel.send(reply_to(HANNA, ""))
