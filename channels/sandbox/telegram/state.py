"""What a Bot API server remembers for one bot: pending updates, chats, sent messages, files.

Shapes follow https://core.telegram.org/bots/api (Update, Message, User, Chat, PhotoSize, Document,
Voice, Contact, Location, CallbackQuery, File).  No I/O here: the HTTP server and the webhook pusher
in :mod:`channels.sandbox.telegram.server` drive it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

BOT_API_FILE_LIMIT = 20 * 1024 * 1024
"""getFile refuses bigger files, as the hosted Bot API does."""


class BotApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.code, self.description)


@dataclass(frozen=True, slots=True)
class SandboxUser:
    """A Telegram user talking to the bot in a private chat (its chat id equals its user id)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    phone: str | None = None
    language_code: str = "uk"

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                                "language_code": self.language_code}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    size: int
    data: bytes | None

    @property
    def path(self) -> str:
        return f"documents/{self.file_unique_id}"


@dataclass(slots=True)
class BotApiState:
    """The server side of one bot account."""

    bot_id: int = 7000000001
    bot_username: str = "switchboard_sandbox_bot"
    bot_name: str = "Switchboard"
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    received: dict[int, dict[str, Any]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    callback_queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered_callbacks: list[str] = field(default_factory=list)
    blocked_by: set[int] = field(default_factory=set)
    confirmed_below: int = 0
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500000001))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    # --- updates -----------------------------------------------------------------------------------

    def push_update(self, payload: dict[str, Any], *, keep_id: bool = False) -> dict[str, Any]:
        """Queue one update (``payload`` without ``update_id`` unless ``keep_id``) and wake pollers."""
        update = dict(payload) if keep_id else {"update_id": next(self._update_ids), **payload}
        self.updates.append(update)
        self.wake()
        return update

    def wake(self) -> None:
        """Release every long-polling ``getUpdates`` waiting now."""
        self._arrived.set()
        self._arrived = asyncio.Event()

    def confirm_below(self, offset: int) -> None:
        """getUpdates ``offset`` semantics: every update with a smaller id is forgotten."""
        self.confirmed_below = max(self.confirmed_below, offset)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def pending(self, allowed: list[str] | None, limit: int) -> list[dict[str, Any]]:
        chosen = [u for u in self.updates if allowed is None or any(key in u for key in allowed)]
        return chosen[:limit]

    async def wait_for_updates(self, timeout_s: float) -> None:
        arrived = self._arrived
        try:
            await asyncio.wait_for(arrived.wait(), timeout_s)
        except TimeoutError:
            return

    # --- messages users send -----------------------------------------------------------------------

    def user_message(self, user: SandboxUser, **content: Any) -> dict[str, Any]:
        self.chats[user.id] = user.as_chat()
        message = {"message_id": next(self._message_ids), "from": user.as_user(), "chat": user.as_chat(),
                   "date": int(time.time()), **content}
        self.received[message["message_id"]] = message
        return message

    def store_file(self, data: bytes | None, size: int | None = None) -> StoredFile:
        size = len(data) if data is not None else (size or 0)
        digest = hashlib.sha1(data if data is not None else f"{size}:{time.time_ns()}".encode()).hexdigest()
        stored = StoredFile(file_id=f"BQACAgIAAxkBAA{digest[:24]}", file_unique_id=f"AgAD{digest[:10]}",
                            size=size, data=data)
        self.files[stored.file_id] = stored
        return stored

    def get_file(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        if stored.size > BOT_API_FILE_LIMIT:
            raise BotApiError(400, "Bad Request: file is too big")
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.path == path), None)

    # --- messages the bot sends --------------------------------------------------------------------

    def bot_message(self, chat_id: int, content: dict[str, Any]) -> dict[str, Any]:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise BotApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked_by:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        message = {"message_id": next(self._message_ids), "from": self.bot_user(), "chat": chat,
                   "date": int(time.time()), **content}
        self.sent.setdefault(chat_id, []).append(message)
        return message

    def find_sent(self, chat_id: int, message_id: int) -> dict[str, Any]:
        for message in self.sent.get(chat_id, []):
            if message["message_id"] == message_id:
                return message
        raise BotApiError(400, "Bad Request: message to edit not found")
