"""Real Viber callbacks (tests/fixtures/viber/callbacks.json) -> Inbound, signatures, unsubscribed users."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from channels.base import Address, Button, ChannelError, Outbound, WebhookRejected
from channels.viber import build

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "viber" / "callbacks.json").read_text())
TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"


@pytest.fixture
def channel(tmp_path):
    return build({"token": TOKEN, "api_url": "http://127.0.0.1:9/pa", "state_path": str(tmp_path / "unsub.json")})


def signed(body: bytes, key: str = TOKEN) -> dict[str, str]:
    return {"X-Viber-Content-Signature": hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def callback(channel, name: str):
    body = json.dumps(FIXTURES[name]["callback"], ensure_ascii=False).encode()
    return channel.handle_webhook(signed(body), body)


def only(reply):
    assert reply.status == 200 and len(reply.inbounds) == 1
    return reply.inbounds[0]


def test_text_message_from_the_library_tests(channel):
    inbound = only(callback(channel, "message_text"))
    assert inbound.channel == "viber"
    assert inbound.thread_key == "viber:01234567890A="
    assert inbound.dedupe_key == "viber:4912661846655238145"
    assert inbound.text.startswith("批封廟根縄華勢田郎報株聞")
    assert inbound.sender == Address("viber", "01234567890A=", FIXTURES["message_text"]["callback"]["sender"]["name"])
    assert inbound.metadata["external_id"] == "4912661846655238145"
    assert "button" not in inbound.metadata


def test_picture_and_file_keep_media_url_and_size(channel):
    [picture] = only(callback(channel, "message_picture")).attachments
    assert (picture.url, picture.size, picture.content_type) == ("http://www.images.com/img.jpg", 84521, "image/jpeg")
    file_inbound = only(callback(channel, "message_file"))
    [document] = file_inbound.attachments
    assert (document.filename, document.size, document.content_type) == ("name_of_file.doc", 10000, "application/msword")


def test_contact_identifies_by_phone_and_location_is_geo(channel):
    contact = only(callback(channel, "message_contact"))
    assert contact.kind == "contact_shared" and contact.metadata["phone"] == "+972511123123"
    location = only(callback(channel, "message_location"))
    assert location.text == "geo:37.7898,-122.3942"
    assert location.metadata["location"] == {"latitude": 37.7898, "longitude": -122.3942}


@pytest.mark.parametrize("status", ["delivered", "seen", "failed"])
def test_delivery_statuses(channel, status):
    inbound = only(callback(channel, status))
    assert inbound.kind == "delivery_status"
    assert inbound.metadata["message_token"] == "4912661846655238145"
    assert inbound.metadata["status"] == status
    assert inbound.dedupe_key == f"viber:4912661846655238145:{status}"
    assert inbound.thread_key == "viber:01234567890A="


@pytest.mark.parametrize("event", ["subscribed", "unsubscribed", "conversation_started"])
def test_control_events(channel, event):
    inbound = only(callback(channel, event))
    assert inbound.kind == "control" and inbound.metadata["event"] == event
    assert inbound.thread_key == "viber:01234567890A="


def test_conversation_started_answers_with_the_welcome_message(channel):
    assert callback(channel, "conversation_started").body == b""
    channel.set_welcome("Вітаємо! Оберіть тему", ((Button("Показання", "menu:readings"),),))
    welcome = json.loads(callback(channel, "conversation_started").body)
    assert welcome["type"] == "text" and welcome["text"] == "Вітаємо! Оберіть тему"
    assert welcome["sender"]["name"] == "Switchboard"
    assert welcome["keyboard"]["Buttons"][0]["ActionBody"] == "menu:readings"


async def test_after_unsubscribed_sends_are_refused_without_calling_viber_and_remembered(channel, tmp_path):
    callback(channel, "unsubscribed")
    assert channel.unsubscribed("01234567890A=")
    message = Outbound(channel="viber", thread_key="viber:01234567890A=", recipient=Address("viber", "01234567890A="),
                       text="Ваш рахунок", dedupe_key="o1")
    with pytest.raises(ChannelError, match="unsubscribed"):
        await channel.send(message)  # the API URL is unreachable: reaching it would fail differently
    restarted = build({"token": TOKEN, "api_url": "http://127.0.0.1:9/pa",
                       "state_path": str(tmp_path / "unsub.json")})
    assert restarted.unsubscribed("01234567890A=")
    callback(restarted, "subscribed")
    assert not restarted.unsubscribed("01234567890A=")


@pytest.mark.parametrize("name", ["webhook", "client_status"])
def test_webhook_check_and_unknown_events_are_acknowledged_and_store_nothing(channel, name):
    reply = callback(channel, name)
    assert reply.status == 200 and reply.inbounds == ()


def test_message_of_a_type_the_library_does_not_know_is_still_kept(channel):
    inbound = only(callback(channel, "message_unknown_type"))
    assert inbound.text == "👍" and inbound.metadata["unsupported_type"] == "reaction"


@pytest.mark.parametrize("headers", [
    {},
    {"X-Viber-Content-Signature": ""},
    {"X-Viber-Content-Signature": "0" * 64},
    "signed-with-another-token",
])
def test_forged_or_missing_signature_is_refused_with_403(channel, headers):
    body = json.dumps(FIXTURES["message_text"]["callback"]).encode()
    if headers == "signed-with-another-token":
        headers = signed(body, key="another-token")
    with pytest.raises(WebhookRejected) as rejected:
        channel.handle_webhook(headers, body)
    assert rejected.value.status == 403


def test_signature_over_a_changed_body_is_refused(channel):
    body = json.dumps(FIXTURES["message_text"]["callback"]).encode()
    with pytest.raises(WebhookRejected) as rejected:
        channel.handle_webhook(signed(body), body.replace(b"01234567890A=", b"01234567890B="))
    assert rejected.value.status == 403


@pytest.mark.parametrize("body", [
    b"{broken",
    b"[]",
    b'{"event": "message", "timestamp": 1, "message_token": 5, "message": {"type": "text", "text": "x"}}',
    b'{"event": "delivered", "timestamp": 1}',
    b'{"event": "message", "timestamp": 1, "message_token": 5, "sender": "me", "message": {"type": "text"}}',
])
def test_malformed_callbacks_are_refused_with_400(channel, body):
    with pytest.raises(WebhookRejected) as rejected:
        channel.handle_webhook(signed(body), body)
    assert rejected.value.status == 400


def test_button_press_is_recognised_from_the_echoed_tracking_data(channel):
    from channels.viber.keyboards import tracking_of
    raw = dict(FIXTURES["message_docs"]["callback"])
    raw["message"] = {"type": "text", "text": "menu:bills",
                      "tracking_data": tracking_of(((Button("Рахунки", "menu:bills"),),))}
    body = json.dumps(raw).encode()
    inbound = only(channel.handle_webhook(signed(body), body))
    assert inbound.metadata["button"] == "menu:bills" and inbound.text == "Рахунки"


def test_two_channel_instances_of_one_account_agree_on_unsubscribed_users(channel, tmp_path):
    other_process = build({"token": TOKEN, "api_url": "http://127.0.0.1:9/pa",
                           "state_path": str(tmp_path / "unsub.json")})
    assert not other_process.unsubscribed("01234567890A=")
    callback(channel, "unsubscribed")
    assert other_process.unsubscribed("01234567890A=")
