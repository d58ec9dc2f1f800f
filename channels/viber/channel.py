"""The Viber channel: callbacks on the gateway's webhook, replies through the REST API (viberbot)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from viberbot import BotConfiguration
from viberbot.api.messages import FileMessage, KeyboardMessage, PictureMessage, TextMessage, VideoMessage
from viberbot.api.messages.message import Message

from channels.base import (
    Attachment,
    Button,
    ChannelError,
    DeliveryReceipt,
    Inbound,
    InboundSink,
    Outbound,
    WebhookChannel,
    WebhookRejected,
    WebhookReply,
)
from channels.viber.api import NOT_SUBSCRIBED, ViberApiError, ViberBotApi
from channels.viber.events import MalformedCallback, inbound_from_callback, user_id_of
from channels.viber.keyboards import keyboard_of, tracking_of
from channels.viber.settings import ViberSettings
from channels.viber.subscriptions import UnsubscribedUsers

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-viber-content-signature"


class ViberChannel(WebhookChannel):
    """A Viber bot account."""

    name = "viber"

    def __init__(self, settings: ViberSettings) -> None:
        self.settings = settings
        self.api = ViberBotApi(BotConfiguration(name=settings.bot_name, avatar=settings.bot_avatar or None,
                                                auth_token=settings.token),
                               settings.api_url, settings.request_timeout_s)
        self.unsubscribed_users = UnsubscribedUsers(settings.state_path or None)
        self._welcome: tuple[str, tuple[tuple[Button, ...], ...]] | None = None
        self._http: aiohttp.ClientSession | None = None

    def set_welcome(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """The welcome message answered to ``conversation_started`` (Viber shows it before subscribing)."""
        self._welcome = (text, buttons)

    def unsubscribed(self, user_id: str) -> bool:
        return user_id in self.unsubscribed_users

    async def start(self, sink: InboundSink) -> None:
        """Register the webhook when ``public_webhook_url`` is set (Viber calls it back at once to
        check it, so the gateway must already be serving); callbacks then arrive there."""
        if self.settings.public_webhook_url:
            try:
                await asyncio.to_thread(self.api.set_webhook, self.settings.public_webhook_url,
                                        list(self.settings.webhook_events))
            except ViberApiError as exc:
                raise ChannelError(f"viber: cannot register the webhook ({exc.message})") from exc
        log.info("viber: bot %r ready", self.settings.bot_name)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self.api.close()

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        user_id = user_id_of(outbound.thread_key)
        if self.unsubscribed(user_id):
            raise ChannelError("unsubscribed")
        messages = self._messages(outbound)
        try:
            tokens = await asyncio.to_thread(self.api.send_messages, user_id, messages)
        except ViberApiError as exc:
            if exc.status == NOT_SUBSCRIBED:
                self.unsubscribed_users.add(user_id)
                raise ChannelError("unsubscribed") from exc
            raise ChannelError(f"viber: send failed ({exc.message})") from exc
        return DeliveryReceipt(external_id=str(tokens[0]) if tokens else None)

    def _messages(self, outbound: Outbound) -> list[Message]:
        keyboard = keyboard_of(outbound.buttons)
        tracking = tracking_of(outbound.buttons)
        version = self.settings.min_api_version
        files = [self._file_message(attachment, keyboard, tracking) for attachment in outbound.attachments]
        if outbound.text:
            text = TextMessage(text=outbound.text, keyboard=keyboard, tracking_data=tracking, min_api_version=version)
            return [text, *files]
        if not files and keyboard:
            return [KeyboardMessage(keyboard=keyboard, tracking_data=tracking, min_api_version=version)]
        if not files:
            raise ChannelError("viber: nothing to send (no text, files or buttons)")
        return files

    def _file_message(self, attachment: Attachment, keyboard: dict[str, Any] | None,
                      tracking: str | None) -> Message:
        if not attachment.url or not attachment.url.startswith(("http://", "https://")):
            raise ChannelError(f"viber: attachment {attachment.filename!r} needs a public URL (Viber fetches media)")
        version = self.settings.min_api_version
        if attachment.content_type in ("image/jpeg", "image/png", "image/gif"):
            return PictureMessage(media=attachment.url, text="", keyboard=keyboard, tracking_data=tracking,
                                  min_api_version=version)
        if attachment.content_type == "video/mp4":
            return VideoMessage(media=attachment.url, size=attachment.size, keyboard=keyboard,
                                tracking_data=tracking, min_api_version=version)
        return FileMessage(media=attachment.url, size=attachment.size, file_name=attachment.filename,
                           keyboard=keyboard, tracking_data=tracking, min_api_version=version)

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReply:
        """Verify ``X-Viber-Content-Signature`` (HMAC-SHA256 of the raw body with the token), parse one
        callback; ``conversation_started`` is answered with the welcome message in the body."""
        signature = next((value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER), "")
        if not self.api.verify_signature(body, signature):
            log.warning("viber: callback refused, %s signature", "wrong" if signature else "missing")
            raise WebhookRejected(403, "X-Viber-Content-Signature missing or wrong")
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("viber: callback body is not JSON (%s): %r", exc, body[:500])
            raise WebhookRejected(400, f"body is not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise WebhookRejected(400, "body is not a JSON object")
        try:
            inbound = inbound_from_callback(raw)
        except MalformedCallback as exc:
            log.warning("viber: %s; raw payload: %r", exc, body[:2000])
            raise WebhookRejected(400, str(exc)) from exc
        if inbound is None:
            log.info("viber: %s callback acknowledged, nothing to store", raw.get("event"))
            return WebhookReply()
        self._track_subscription(inbound)
        if inbound.metadata.get("event") == "conversation_started":
            return WebhookReply(inbounds=(inbound,), body=self._welcome_body())
        return WebhookReply(inbounds=(inbound,))

    def _track_subscription(self, inbound: Inbound) -> None:
        event = inbound.metadata.get("event")
        if event == "unsubscribed":
            self.unsubscribed_users.add(inbound.sender.value)
        elif event == "subscribed" or (inbound.kind in ("message", "contact_shared")):
            self.unsubscribed_users.discard(inbound.sender.value)

    def _welcome_body(self) -> bytes:
        if self._welcome is None:
            return b""
        text, buttons = self._welcome
        message: dict[str, Any] = {"sender": {"name": self.settings.bot_name}, "type": "text", "text": text,
                                   "min_api_version": self.settings.min_api_version}
        if self.settings.bot_avatar:
            message["sender"]["avatar"] = self.settings.bot_avatar
        keyboard, tracking = keyboard_of(buttons), tracking_of(buttons)
        if keyboard:
            message["keyboard"] = keyboard
            message["tracking_data"] = tracking
        return json.dumps(message, ensure_ascii=False).encode()

    async def download_attachments(self, inbound: Inbound) -> Inbound:
        """``inbound`` with the bytes of every attachment up to the size cap (Viber media URLs are
        plain HTTPS links); larger or failing ones keep their URL and size."""
        if not inbound.attachments:
            return inbound
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout_s))
        cap = self.settings.attachment_cap_bytes
        attachments = []
        for attachment in inbound.attachments:
            if attachment.data is None and attachment.url and attachment.size <= cap:
                data = await self._fetch_capped(attachment.url, cap)
                if data is not None:
                    attachment = dataclasses.replace(attachment, data=data, size=len(data))
            attachments.append(attachment)
        return dataclasses.replace(inbound, attachments=tuple(attachments))

    async def _fetch_capped(self, url: str, cap: int) -> bytes | None:
        assert self._http is not None
        chunks: list[bytes] = []
        received = 0
        try:
            async with self._http.get(url) as response:
                response.raise_for_status()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    received += len(chunk)
                    if received > cap:
                        log.info("viber: %s is above the %d byte cap; kept as a URL", url, cap)
                        return None
                    chunks.append(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("viber: cannot fetch %s (%s); kept as a URL", url, exc)
            return None
        data = b"".join(chunks)
        return data
