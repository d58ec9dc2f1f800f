"""Bot API updates -> :class:`Inbound` items.  No network: parsing only.

One update gives at most one item:

* ``message``: text, caption, photo, document, voice, audio, video, location -> ``kind="message"``;
  a shared contact -> ``kind="contact_shared"`` with the normalised phone;
* ``edited_message`` -> ``kind="edit"``, ``metadata["edit_of"]`` names the message it replaces;
* ``callback_query`` (an inline button pressed) -> ``kind="message"`` with ``metadata["button"]``.

Other update types (chat member changes, poll answers, types newer than the library) give ``None``:
they are logged and acknowledged, they are no client's message.  A message the library refuses to
parse is read from its JSON (:func:`parse_update`), so the client's words are not lost.  Attachments
carry an opaque ``telegram-file:<file_id>`` reference and the size Telegram reported; bytes are
fetched separately (``TelegramChannel.download_attachments``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telegram import Bot, CallbackQuery, Message, Update, User

from channels.base import Address, Attachment, Inbound
from channels.phones import normalise_phone

log = logging.getLogger(__name__)

FILE_REF_PREFIX = "telegram-file:"
_ENVELOPE = frozenset({"message_id", "from", "chat", "date", "edit_date", "entities", "reply_to_message"})
"""Keys every message has; what remains of an otherwise empty message names its content for the agent."""


def file_ref(file_id: str) -> str:
    return f"{FILE_REF_PREFIX}{file_id}"


def file_id_of(url: str) -> str | None:
    return url[len(FILE_REF_PREFIX):] if url.startswith(FILE_REF_PREFIX) else None


def thread_key_of(chat_id: int | str) -> str:
    return f"telegram:{chat_id}"


def chat_id_of(thread_key: str) -> int:
    return int(thread_key.removeprefix("telegram:"))


def dedupe_key_of(update_id: int) -> str:
    return f"telegram:{update_id}"


def _sender(user: User | None, chat_id: int) -> Address:
    if user is None:
        return Address("telegram", str(chat_id))
    return Address("telegram", str(user.id), user.full_name or user.username)


def _attachments(message: Message) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if message.photo:
        biggest = message.photo[-1]
        found.append(Attachment(f"photo_{biggest.file_unique_id}.jpg", "image/jpeg",
                                biggest.file_size or 0, url=file_ref(biggest.file_id)))
    if message.document:
        doc = message.document
        found.append(Attachment(doc.file_name or f"document_{doc.file_unique_id}",
                                doc.mime_type or "application/octet-stream", doc.file_size or 0,
                                url=file_ref(doc.file_id)))
    if message.voice:
        voice = message.voice
        found.append(Attachment(f"voice_{voice.file_unique_id}.ogg", voice.mime_type or "audio/ogg",
                                voice.file_size or 0, url=file_ref(voice.file_id)))
    if message.audio:
        audio = message.audio
        found.append(Attachment(audio.file_name or f"audio_{audio.file_unique_id}",
                                audio.mime_type or "audio/mpeg", audio.file_size or 0,
                                url=file_ref(audio.file_id)))
    if message.video:
        video = message.video
        found.append(Attachment(video.file_name or f"video_{video.file_unique_id}.mp4",
                                video.mime_type or "video/mp4", video.file_size or 0,
                                url=file_ref(video.file_id)))
    return tuple(found)


def _occurred_at(message: Message) -> datetime:
    moment = message.edit_date or message.date
    return moment.astimezone(UTC) if moment else datetime.now(UTC)


def _from_message(update_id: int, message: Message, *, edited: bool) -> Inbound:
    chat_id = message.chat.id
    metadata: dict[str, object] = {"external_id": str(message.message_id), "update_id": update_id}
    text = message.text or message.caption or ""
    kind = "edit" if edited else "message"
    if edited:
        metadata["edit_of"] = str(message.message_id)
    if message.location:
        location = message.location
        metadata["location"] = {"latitude": location.latitude, "longitude": location.longitude}
        text = text or f"geo:{location.latitude},{location.longitude}"
    if message.contact and not edited:
        contact = message.contact
        phone = normalise_phone(contact.phone_number)
        metadata.update(phone=phone, raw_phone=contact.phone_number,
                        contact_name=" ".join(filter(None, [contact.first_name, contact.last_name])),
                        own_contact=message.from_user is not None and contact.user_id == message.from_user.id)
        kind = "contact_shared" if phone else "message"
        text = text or contact.phone_number
    if message.reply_to_message:
        metadata["reply_to"] = str(message.reply_to_message.message_id)
    if message.sticker:
        metadata["sticker"] = {"file_id": message.sticker.file_id, "emoji": message.sticker.emoji}
        text = text or message.sticker.emoji or ""
    attachments = _attachments(message)
    if not text and not attachments and "location" not in metadata:
        metadata["content"] = sorted(set(message.to_dict()) - _ENVELOPE)
    return Inbound(
        channel="telegram",
        thread_key=thread_key_of(chat_id),
        dedupe_key=dedupe_key_of(update_id),
        sender=_sender(message.from_user, chat_id),
        text=text,
        kind=kind,
        attachments=attachments,
        occurred_at=_occurred_at(message),
        metadata=metadata,
    )


def _button_label(query: CallbackQuery) -> str:
    message = query.message
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return query.data or ""


def _from_callback(update_id: int, query: CallbackQuery) -> Inbound | None:
    if query.message is None or query.data is None:
        return None
    chat_id = query.message.chat.id
    return Inbound(
        channel="telegram",
        thread_key=thread_key_of(chat_id),
        dedupe_key=dedupe_key_of(update_id),
        sender=_sender(query.from_user, chat_id),
        text=_button_label(query),
        kind="message",
        metadata={
            "external_id": f"callback:{query.id}",
            "update_id": update_id,
            "button": query.data,
            "callback_query_id": query.id,
            "on_message": str(query.message.message_id),
        },
    )


def inbound_from_update(update: Update) -> Inbound | None:
    """The item one update carries for the engine, or ``None`` for update types that carry none."""
    if update.message is not None:
        return _from_message(update.update_id, update.message, edited=False)
    if update.edited_message is not None:
        return _from_message(update.update_id, update.edited_message, edited=True)
    if update.callback_query is not None:
        return _from_callback(update.update_id, update.callback_query)
    return None


def _from_unparsed(raw: Mapping[str, Any]) -> Inbound | None:
    """The client's message read straight from the JSON when the library refuses the update (a field
    shape newer or older than it expects): text, sender and chat survive, the rest is named."""
    edited = "edited_message" in raw
    message = raw.get("edited_message" if edited else "message")
    if not isinstance(message, Mapping):
        return None
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, Mapping) or not isinstance(chat.get("id"), int):
        return None
    user = sender if isinstance(sender, Mapping) else {}
    name = " ".join(str(part) for part in (user.get("first_name"), user.get("last_name")) if part) or None
    message_id = str(message.get("message_id", ""))
    metadata: dict[str, Any] = {"external_id": message_id, "update_id": raw["update_id"], "unparsed": True,
                                "content": sorted(set(message) - _ENVELOPE)}
    if edited:
        metadata["edit_of"] = message_id
    text = message.get("text") or message.get("caption") or ""
    return Inbound(channel="telegram", thread_key=thread_key_of(chat["id"]),
                   dedupe_key=dedupe_key_of(raw["update_id"]),
                   sender=Address("telegram", str(user.get("id", chat["id"])), name),
                   text=text if isinstance(text, str) else "", kind="edit" if edited else "message",
                   metadata=metadata)


def parse_update(raw: Mapping[str, Any], bot: Bot) -> Inbound | None:
    """``raw`` (one update's JSON, ``update_id`` an int) -> its item, ``None`` when it carries none.

    Never raises for content: an update the library refuses is read from the JSON directly, and one
    that is not even that is logged with its raw payload and acknowledged.
    """
    try:
        update = Update.de_json(dict(raw), bot)
    except Exception as exc:
        inbound = _from_unparsed(raw)
        log.warning("telegram: update %s refused by the library (%s); %s; raw payload: %r", raw.get("update_id"),
                    exc, "kept from its JSON" if inbound else "nothing to keep", raw)
        return inbound
    inbound = inbound_from_update(update)
    if inbound is None:
        log.info("telegram: update %s (%s) carries no client message; acknowledged", raw.get("update_id"),
                 ", ".join(sorted(set(raw) - {"update_id"})))
    return inbound
