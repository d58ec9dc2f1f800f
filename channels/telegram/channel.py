"""The Telegram channel: one bot account, long polling or webhook, PTB's ``Bot`` for the HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from channels.base import (
    ChannelError,
    DeliveryReceipt,
    Inbound,
    InboundSink,
    Outbound,
    ParkedReplay,
    UnreadableItem,
    WebhookChannel,
    WebhookRejected,
    WebhookReply,
)
from channels.serialization import exact_bytes, from_exact_bytes
from channels.telegram.bot import TolerantBot
from channels.telegram.outbound import OutboundSender
from channels.telegram.polling import ALLOWED_UPDATES, UnreadableUpdate, UpdatePoller
from channels.telegram.settings import TelegramSettings
from channels.telegram.updates import dedupe_key_of, file_id_of, parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"


class TelegramChannel(WebhookChannel, ParkedReplay):
    """A Telegram bot: inbound updates -> :class:`Inbound`, :class:`Outbound` -> Bot API messages."""

    name = "telegram"

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self.bot = TolerantBot(
            settings.token,
            base_url=settings.bot_url,
            base_file_url=settings.file_url,
            request=HTTPXRequest(connection_pool_size=settings.send_pool_size,
                                 read_timeout=settings.request_timeout_s,
                                 write_timeout=settings.request_timeout_s),
            get_updates_request=HTTPXRequest(connection_pool_size=1,
                                             read_timeout=settings.poll_timeout_s + 10),
        )
        self._sender = OutboundSender(self.bot)
        self._sink: InboundSink | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self.poller: UpdatePoller | None = None

    async def start(self, sink: InboundSink) -> None:
        self._sink = sink
        try:
            await self.bot.initialize()
            if self.settings.mode == "polling":
                await self.bot.delete_webhook(drop_pending_updates=False)
                self.poller = UpdatePoller(
                    self.bot, self._deliver, self._park, timeout_s=self.settings.poll_timeout_s,
                    limit=self.settings.poll_limit, retry_initial_s=self.settings.sink_retry_initial_s,
                    retry_max_s=self.settings.sink_retry_max_s)
                self._poll_task = asyncio.create_task(self.poller.run(), name="telegram-poller")
            elif self.settings.public_webhook_url:
                await self.bot.set_webhook(self.settings.public_webhook_url,
                                           secret_token=self.settings.webhook_secret,
                                           allowed_updates=list(ALLOWED_UPDATES))
        except TelegramError as exc:
            raise ChannelError(f"telegram: cannot start the bot ({exc})") from exc
        log.info("telegram: bot @%s running in %s mode", self.bot.username, self.settings.mode)

    async def stop(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        with contextlib.suppress(TelegramError):
            await self.bot.shutdown()

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        return await self._sender.send(outbound)

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReply:
        """Verify the secret token header, parse the update; a button press is answered in the reply."""
        secret = next((value for key, value in headers.items() if key.lower() == SECRET_HEADER), "")
        if not secret or not hmac.compare_digest(secret.encode(), self.settings.webhook_secret.encode()):
            log.warning("telegram: webhook refused, %s secret token", "wrong" if secret else "missing")
            raise WebhookRejected(403, "secret token missing or wrong")
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("telegram: webhook body is not JSON (%s): %r", exc, body[:500])
            raise WebhookRejected(400, f"body is not JSON: {exc}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            log.warning("telegram: webhook body is not an update: %r", body[:500])
            raise WebhookRejected(400, "body is not a Telegram update (no integer update_id)")
        inbound = parse_update(raw, self.bot)
        if inbound is None:
            return WebhookReply()
        body_out = b""
        query_id = inbound.metadata.get("callback_query_id")
        if query_id:
            body_out = json.dumps({"method": "answerCallbackQuery", "callback_query_id": query_id}).encode()
        return WebhookReply(inbounds=(inbound,), body=body_out)

    async def _park(self, raw: Mapping[str, Any], error: str, attempts: int) -> None:
        if self.parking is None:
            raise ChannelError("telegram: nowhere to park an unreadable update")
        await self.parking(UnreadableItem("telegram", dedupe_key_of(int(raw["update_id"])), exact_bytes(raw),
                                          error, attempts))

    async def read_again(self, raw: bytes) -> None:
        """Deliver a parked update once more (an admin's replay, once the channel can read it)."""
        update = from_exact_bytes(raw)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise ChannelError("telegram: a parked update must be an update's JSON")
        await self._deliver(update)

    async def fetch_file(self, file_ref: str) -> bytes:
        """The bytes of an attachment this channel reported (``telegram-file:<file_id>``)."""
        file_id = file_id_of(file_ref)
        if file_id is None:
            raise ChannelError(f"telegram: {file_ref!r} is not a Telegram file reference")
        try:
            file = await self.bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            raise ChannelError(f"telegram: cannot fetch file {file_id} ({exc})") from exc

    async def download_attachments(self, inbound: Inbound) -> Inbound:
        """``inbound`` with the bytes of every attachment up to the size cap; larger ones keep their
        reference and size, and a failed download is logged and keeps the reference too."""
        if not inbound.attachments:
            return inbound
        attachments = []
        for attachment in inbound.attachments:
            if attachment.data is None and attachment.url and attachment.size <= self.settings.attachment_cap_bytes:
                try:
                    data = await self.fetch_file(attachment.url)
                except ChannelError as exc:
                    log.warning("telegram: %s; kept as a reference in %s", exc, inbound.dedupe_key)
                else:
                    if len(data) <= self.settings.attachment_cap_bytes:
                        attachment = dataclasses.replace(attachment, data=data, size=len(data))
            elif attachment.size > self.settings.attachment_cap_bytes:
                log.info("telegram: %s of %d bytes is above the %d byte cap; kept as a reference",
                         attachment.filename, attachment.size, self.settings.attachment_cap_bytes)
            attachments.append(attachment)
        return dataclasses.replace(inbound, attachments=tuple(attachments))

    async def _deliver(self, raw: Mapping[str, Any]) -> None:
        if self._sink is None:
            raise ChannelError("telegram: channel not started")
        try:
            inbound = parse_update(raw, self.bot)
            if inbound is None:
                return
            inbound = await self.download_attachments(inbound)
        except Exception as exc:  # noqa: BLE001 - whatever the handler chokes on, the update is unreadable
            raise UnreadableUpdate(f"{type(exc).__name__}: {exc}") from exc
        await self._sink(inbound)
        query_id = inbound.metadata.get("callback_query_id")
        if query_id:
            try:
                await self.bot.answer_callback_query(str(query_id))
            except TelegramError as exc:
                log.info("telegram: answering button press %s failed (%s)", query_id, exc)
