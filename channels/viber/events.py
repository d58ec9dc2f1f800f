"""Viber callbacks -> :class:`Inbound` items, parsed with viberbot's request classes.  Pure.

``dedupe_key`` is ``viber:<message_token>`` for a user's message.  Delivery statuses and control
events reuse the token of the message they concern (``delivered`` and ``seen`` of one message share it),
so they get the event name appended: ``viber:<message_token>:<event>``.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from viberbot.api.messages import (
    MESSAGE_TYPE_TO_CLASS,
    ContactMessage,
    FileMessage,
    LocationMessage,
    PictureMessage,
    StickerMessage,
    TextMessage,
    URLMessage,
    VideoMessage,
)
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
    create_request,
)

from channels.base import Address, Attachment, Inbound, InboundKind
from channels.phones import normalise_phone
from channels.viber.keyboards import pressed_button

CLIENT_EVENTS = frozenset({"message", "conversation_started", "subscribed", "unsubscribed",
                           "delivered", "seen", "failed"})


class MalformedCallback(ValueError):
    """A callback of a known event type that lacks a field Viber always sends."""


def thread_key_of(user_id: str) -> str:
    return f"viber:{user_id}"


def user_id_of(thread_key: str) -> str:
    return thread_key.removeprefix("viber:")


def _moment(timestamp: Any) -> datetime:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp / 1000, UTC)
    return datetime.now(UTC)


def _control(raw: Mapping[str, Any], user: Address, token: str | None, **metadata: Any) -> Inbound:
    event = str(raw["event"])
    dedupe = f"viber:{token}:{event}" if token else f"viber:{event}:{user.value}:{raw.get('timestamp')}"
    return Inbound(channel="viber", thread_key=thread_key_of(user.value), dedupe_key=dedupe, sender=user,
                   kind="control", occurred_at=_moment(raw.get("timestamp")),
                   metadata={"event": event, "external_id": token or "", **metadata})


def _message_body(raw_message: Mapping[str, Any], message: object) -> tuple[str, InboundKind, tuple[Attachment, ...], dict[str, Any]]:
    text = str(raw_message.get("text") or "")
    metadata: dict[str, Any] = {}
    attachments: tuple[Attachment, ...] = ()
    kind: InboundKind = "message"
    if isinstance(message, PictureMessage):
        name = str(raw_message.get("file_name") or "picture.jpg")
        attachments = (Attachment(name, "image/jpeg", int(raw_message.get("size") or 0), url=message.media),)
    elif isinstance(message, VideoMessage):
        attachments = (Attachment(str(raw_message.get("file_name") or "video.mp4"), "video/mp4",
                                  int(message.size or 0), url=message.media),)
    elif isinstance(message, FileMessage):
        name = str(message.file_name or "file")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        attachments = (Attachment(name, content_type, int(message.size or 0), url=message.media),)
    elif isinstance(message, ContactMessage) and message.contact is not None:
        raw_phone = str(message.contact.phone_number or "")
        phone = normalise_phone(raw_phone)
        metadata.update(phone=phone, raw_phone=raw_phone, contact_name=message.contact.name)
        kind = "contact_shared" if phone else "message"
        text = text or raw_phone
    elif isinstance(message, LocationMessage) and message.location is not None:
        latitude, longitude = message.location.latitude, message.location.longitude
        metadata["location"] = {"latitude": latitude, "longitude": longitude}
        text = text or f"geo:{latitude},{longitude}"
    elif isinstance(message, StickerMessage):
        metadata["sticker_id"] = raw_message.get("sticker_id")
    elif isinstance(message, URLMessage):
        text = text or str(message.media or "")
    elif isinstance(message, TextMessage):
        text = str(message.text or "")
    elif message is None:
        metadata["unsupported_type"] = raw_message.get("type")
    return text, kind, attachments, metadata


def _from_message(raw: Mapping[str, Any]) -> Inbound:
    raw_message = raw["message"]
    if not isinstance(raw_message, Mapping):
        raise MalformedCallback("message is not an object")
    known = raw_message.get("type") in MESSAGE_TYPE_TO_CLASS
    if known:
        request = create_request(dict(raw))
        assert isinstance(request, ViberMessageRequest)
        sender = Address("viber", str(request.sender.id), request.sender.name)
        token, message, tracking = request.message_token, request.message, request.message.tracking_data
    else:
        sender_raw = raw["sender"]
        sender = Address("viber", str(sender_raw["id"]), sender_raw.get("name"))
        token, message, tracking = raw["message_token"], None, raw_message.get("tracking_data")
    if not sender.value or sender.value == "None":
        raise MalformedCallback("sender has no id")
    text, kind, attachments, metadata = _message_body(raw_message, message)
    metadata["external_id"] = str(token)
    if tracking:
        metadata["tracking_data"] = tracking
    pressed = pressed_button(text, tracking) if kind == "message" else None
    if pressed:
        metadata["button"], text = pressed
    return Inbound(channel="viber", thread_key=thread_key_of(sender.value), dedupe_key=f"viber:{token}",
                   sender=sender, text=text, kind=kind, attachments=attachments,
                   occurred_at=_moment(raw.get("timestamp")), metadata=metadata)


def _from_event(raw: Mapping[str, Any]) -> Inbound:
    request = create_request(dict(raw))
    token = str(raw["message_token"]) if raw.get("message_token") is not None else None
    if isinstance(request, ViberDeliveredRequest | ViberSeenRequest | ViberFailedRequest):
        user = Address("viber", str(request.user_id or "unknown"))
        metadata: dict[str, Any] = {"message_token": token, "status": request.event_type, "external_id": token}
        if isinstance(request, ViberFailedRequest):
            metadata["desc"] = request.desc
        return Inbound(channel="viber", thread_key=thread_key_of(user.value),
                       dedupe_key=f"viber:{token}:{request.event_type}", sender=user, kind="delivery_status",
                       occurred_at=_moment(raw.get("timestamp")), metadata=metadata)
    if isinstance(request, ViberConversationStartedRequest):
        user = Address("viber", str(request.user.id), request.user.name)
        return _control(raw, user, token, context=request.context, subscribed=bool(request.subscribed),
                        language=request.user.language)
    if isinstance(request, ViberSubscribedRequest):
        return _control(raw, Address("viber", str(request.user.id), request.user.name), token)
    assert isinstance(request, ViberUnsubscribedRequest)
    return _control(raw, Address("viber", str(request.user_id)), token)


def inbound_from_callback(raw: Mapping[str, Any]) -> Inbound | None:
    """The item a callback carries, ``None`` for events that carry none (``webhook``, unknown types).

    Raises :class:`MalformedCallback` when a known event lacks what Viber always sends.
    """
    if raw.get("event") not in CLIENT_EVENTS:
        return None
    try:
        return _from_message(raw) if raw["event"] == "message" else _from_event(raw)
    except MalformedCallback:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise MalformedCallback(f"{raw.get('event')} callback is malformed: {exc!r}") from exc
    except Exception as exc:  # viberbot raises bare Exception for what it refuses
        raise MalformedCallback(f"{raw.get('event')} callback refused by viberbot: {exc}") from exc
