"""Real Telegram updates (tests/fixtures/telegram/updates.json) -> Inbound, and webhook verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from channels.base import WebhookRejected
from channels.phones import normalise_phone
from channels.telegram import build

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "telegram" / "updates.json").read_text())
SECRET = "s3cret-token_ABC"


@pytest.fixture(scope="module")
def channel():
    return build({"token": "123456:TEST", "api_url": "http://127.0.0.1:9", "mode": "webhook",
                  "webhook_secret": SECRET})


def webhook(channel, name: str, *, secret: str | None = SECRET, body: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return channel.handle_webhook(headers, body if body is not None else json.dumps(FIXTURES[name]["update"]).encode())


def only_inbound(reply):
    assert reply.status == 200
    assert len(reply.inbounds) == 1
    return reply.inbounds[0]


def test_text_message_becomes_inbound_on_the_chat_thread(channel):
    inbound = only_inbound(webhook(channel, "text"))
    assert inbound.channel == "telegram"
    assert inbound.thread_key == "telegram:234140659"
    assert inbound.dedupe_key == "telegram:841266257"
    assert inbound.kind == "message"
    assert inbound.text == "test"
    assert inbound.sender.kind == "telegram" and inbound.sender.value == "234140659"
    assert inbound.sender.display_name == "Dmitry"
    assert inbound.metadata["external_id"] == "698"


def test_redelivered_update_has_the_same_dedupe_key(channel):
    first = only_inbound(webhook(channel, "start_command"))
    again = only_inbound(webhook(channel, "start_command"))
    assert first.dedupe_key == again.dedupe_key == "telegram:734997090"
    assert first.text.startswith("/start")


def test_button_press_carries_payload_and_label_and_is_answered_in_the_reply(channel):
    reply = webhook(channel, "callback_query")
    inbound = only_inbound(reply)
    assert inbound.kind == "message"
    assert inbound.metadata["button"] == "button2_bijoy"
    assert inbound.text == "Button 2"
    assert inbound.thread_key == "telegram:996202131"
    assert json.loads(reply.body) == {"method": "answerCallbackQuery", "callback_query_id": "4278655576057498272"}


def test_photo_keeps_the_biggest_size_as_a_file_reference(channel):
    inbound = only_inbound(webhook(channel, "photo"))
    assert inbound.text == "Лічильник, фото"
    [photo] = inbound.attachments
    assert photo.content_type == "image/jpeg"
    assert photo.size == 71552
    assert photo.url == "telegram-file:AgACAgIAAxkBAAICsmJbLarge"
    assert photo.data is None


def test_document_and_voice_attachments(channel):
    [document] = only_inbound(webhook(channel, "document")).attachments
    assert (document.filename, document.content_type, document.size) == ("kvytantsiia.pdf", "application/pdf", 48211)
    [voice] = only_inbound(webhook(channel, "voice")).attachments
    assert voice.content_type == "audio/ogg" and voice.size == 14230


def test_location_is_a_geo_uri_with_coordinates(channel):
    inbound = only_inbound(webhook(channel, "location"))
    assert inbound.text == "geo:50.450418,30.523541"
    assert inbound.metadata["location"] == {"latitude": 50.450418, "longitude": 30.523541}


def test_shared_contact_identifies_the_client_by_normalised_phone(channel):
    inbound = only_inbound(webhook(channel, "contact"))
    assert inbound.kind == "contact_shared"
    assert inbound.metadata["phone"] == "+380501234567"
    assert inbound.metadata["own_contact"] is True
    assert inbound.metadata["external_id"] == "706"


def test_edit_points_at_the_original_message(channel):
    inbound = only_inbound(webhook(channel, "edited_message"))
    assert inbound.kind == "edit"
    assert inbound.metadata["edit_of"] == "698"
    assert inbound.text == "test, corrected"
    assert inbound.dedupe_key == "telegram:841266305"


@pytest.mark.parametrize("name", ["my_chat_member", "future_update_type"])
def test_updates_without_a_client_message_are_acknowledged_and_store_nothing(channel, name):
    reply = webhook(channel, name)
    assert reply.status == 200 and reply.inbounds == ()


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_missing_or_forged_secret_is_refused_with_403(channel, secret):
    with pytest.raises(WebhookRejected) as rejected:
        webhook(channel, "text", secret=secret)
    assert rejected.value.status == 403


def test_secret_header_name_is_case_insensitive(channel):
    reply = channel.handle_webhook({"x-telegram-bot-api-secret-token": SECRET},
                                   json.dumps(FIXTURES["text"]["update"]).encode())
    assert len(reply.inbounds) == 1


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}'])
def test_malformed_body_is_refused_with_400(channel, body):
    with pytest.raises(WebhookRejected) as rejected:
        webhook(channel, "text", body=body)
    assert rejected.value.status == 400


def test_authentic_update_without_a_chat_is_acknowledged_not_500(channel):
    reply = webhook(channel, "text", body=b'{"update_id": 5, "message": {"message_id": "x", "chat": 3}}')
    assert reply.status == 200 and reply.inbounds == ()


@pytest.mark.parametrize(("raw", "expected"), [
    ("380501234567", "+380501234567"),
    ("+380 (50) 123-45-67", "+380501234567"),
    ("0501234567", "+380501234567"),
    ("80501234567", "+380501234567"),
    ("00380501234567", "+380501234567"),
    ("+48 601 234 567", "+48601234567"),
    ("12", None),
    ("phone", None),
])
def test_phone_normalisation(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("table", [
    {},
    {"token": "1:x", "mode": "push"},
    {"token": "1:x", "mode": "webhook"},
    {"token": "1:x", "colour": "red"},
])
def test_bad_settings_are_refused(table):
    from channels.base import ChannelError
    with pytest.raises(ChannelError):
        build(table)


def test_shipped_config_files_build_channels(monkeypatch):
    from actors.settings import Settings
    from channels.viber import build as build_viber

    # the shipped files hold no token: it comes from the environment (or the secrets file)
    monkeypatch.setenv("SWITCHBOARD_TELEGRAM_TOKEN", "7000000002:from-the-environment")
    monkeypatch.setenv("SWITCHBOARD_VIBER_TOKEN", "viber-token-from-the-environment")
    channels = Settings.load().channels  # as the engine reads them: secrets filled in, their _env names dropped
    telegram = build(channels["telegram"])
    viber = build_viber(channels["viber"])
    assert telegram.settings.mode == "polling" and telegram.settings.bot_url.endswith("/bot")
    assert viber.settings.bot_name == "Газова служба"
    assert telegram.settings.token == "7000000002:from-the-environment"
    assert viber.settings.token == "viber-token-from-the-environment"


def test_sticker_keeps_its_emoji_and_an_otherwise_empty_message_names_its_content(channel):
    sticker = only_inbound(webhook(channel, "sticker"))
    assert sticker.text == "👍" and sticker.metadata["sticker"]["file_id"] == "CAACAgIAAxkBAAICuGJbSticker"
    poll = only_inbound(webhook(channel, "poll_message"))
    assert poll.text == "" and poll.metadata["content"] == ["poll"]
