"""Agent and bot replies -> Bot API calls (sendMessage, sendPhoto, sendDocument)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from channels.base import Attachment, Button, ChannelError, DeliveryReceipt, Outbound
from channels.telegram.updates import chat_id_of, file_id_of

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
MAX_RATE_LIMIT_RETRIES = 3


def inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Outbound buttons as an inline keyboard; each button's payload travels as ``callback_data``."""
    if not rows:
        return None
    for row in rows:
        for button in row:
            if len(button.payload.encode()) > CALLBACK_DATA_LIMIT:
                raise ChannelError(f"telegram: button payload {button.payload!r} exceeds {CALLBACK_DATA_LIMIT} bytes")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.text, callback_data=button.payload) for button in row] for row in rows])


def _media(attachment: Attachment) -> InputFile | str:
    if attachment.data is not None:
        return InputFile(attachment.data, filename=attachment.filename)
    if attachment.url:
        return file_id_of(attachment.url) or attachment.url
    raise ChannelError(f"telegram: attachment {attachment.filename!r} has neither data nor url")


def _chunks(text: str) -> list[str]:
    """``text`` cut into messages Telegram accepts, at line breaks where possible."""
    chunks: list[str] = []
    while len(text) > TEXT_LIMIT:
        cut = text.rfind("\n", 0, TEXT_LIMIT)
        cut = cut if cut > TEXT_LIMIT // 2 else TEXT_LIMIT
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return chunks


class OutboundSender:
    """Sends one :class:`Outbound` as one or more Bot API messages."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        try:
            chat_id = chat_id_of(outbound.thread_key)
        except ValueError as exc:
            raise ChannelError(f"telegram: {outbound.thread_key!r} is not a Telegram chat") from exc
        markup = inline_keyboard(outbound.buttons)
        sent = await self._with_rate_limit(lambda: self._send_all(chat_id, outbound, markup))
        return DeliveryReceipt(external_id=str(sent.message_id))

    async def _send_all(self, chat_id: int, outbound: Outbound,
                        markup: InlineKeyboardMarkup | None) -> Message:
        text = outbound.text
        first: Message | None = None
        if not outbound.attachments:
            chunks = _chunks(text)
            for index, chunk in enumerate(chunks):
                sent = await self._bot.send_message(chat_id, chunk,
                                                    reply_markup=markup if index == len(chunks) - 1 else None)
                first = first or sent
            assert first is not None
            return first
        if len(text) > CAPTION_LIMIT:
            for chunk in _chunks(text):
                sent = await self._bot.send_message(chat_id, chunk)
                first = first or sent
            text = ""
        for index, attachment in enumerate(outbound.attachments):
            last = index == len(outbound.attachments) - 1
            caption = text if index == 0 and text else None
            sent = await self._send_file(chat_id, attachment, caption, markup if last else None)
            first = first or sent
        assert first is not None
        return first

    async def _send_file(self, chat_id: int, attachment: Attachment, caption: str | None,
                         markup: InlineKeyboardMarkup | None) -> Message:
        media = _media(attachment)
        if attachment.content_type.startswith("image/") and attachment.content_type != "image/svg+xml":
            return await self._bot.send_photo(chat_id, media, caption=caption, reply_markup=markup)
        return await self._bot.send_document(chat_id, media, caption=caption, reply_markup=markup)

    async def _with_rate_limit(self, call: Callable[[], Awaitable[Message]]) -> Message:
        attempts = 0
        while True:
            try:
                return await call()
            except RetryAfter as exc:
                attempts += 1
                if attempts > MAX_RATE_LIMIT_RETRIES:
                    raise ChannelError(f"telegram: rate limited ({exc})") from exc
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                log.warning("telegram: rate limited, waiting %.1fs", seconds)
                await asyncio.sleep(seconds)
            except Forbidden as exc:
                raise ChannelError(f"telegram: the client blocked the bot ({exc.message})") from exc
            except BadRequest as exc:
                raise ChannelError(f"telegram: request refused ({exc.message})") from exc
            except TelegramError as exc:
                raise ChannelError(f"telegram: send failed ({exc})") from exc
