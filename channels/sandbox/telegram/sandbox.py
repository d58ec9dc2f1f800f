"""The Telegram sandbox: a Bot API server plus the clients' side, for tests and the demo.

Driver methods play a Telegram user: each queues the update Telegram would produce (for getUpdates
or the webhook) and returns it.  ``sent_to`` shows what the bot sent to a chat.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Sequence
from typing import Any

from channels.sandbox.telegram.server import BotApiServer
from channels.sandbox.telegram.state import BotApiError, SandboxUser

DEMO_PHRASES = (
    "Добрий день! Хочу передати показання лічильника: 04521",
    "Скільки я винен за газ?",
    "Не прийшла платіжка за жовтень",
    "Як підключити газ у новому будинку?",
    "Дякую, все зрозуміло",
    "Поміняйте, будь ласка, номер телефону в особовому рахунку",
)


def demo_users(count: int, first_id: int = 380_000_001) -> list[SandboxUser]:
    return [SandboxUser(id=first_id + i, first_name=f"Клієнт {i + 1}", username=f"client_{i + 1}",
                        phone=f"+38050{1000000 + i:07d}") for i in range(count)]


class TelegramSandbox(BotApiServer):
    """``await start()``, point the channel at ``.url``, then play users with the driver methods."""

    def user_sends_text(self, user: SandboxUser, text: str) -> dict[str, Any]:
        entities = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}] if text.startswith("/") else None
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self.state.push_update({"message": self.state.user_message(user, **content)})

    def user_sends_photo(self, user: SandboxUser, data: bytes, caption: str = "") -> dict[str, Any]:
        stored = self.state.store_file(data)
        sizes = [{"file_id": f"{stored.file_id}s", "file_unique_id": f"{stored.file_unique_id}s",
                  "file_size": min(stored.size, 1500), "width": 90, "height": 67},
                 {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                  "file_size": stored.size, "width": 1280, "height": 960}]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.state.push_update({"message": self.state.user_message(user, **content)})

    def user_sends_document(self, user: SandboxUser, file_name: str, data: bytes | None,
                            mime_type: str = "application/pdf", *, size: int | None = None,
                            caption: str = "") -> dict[str, Any]:
        """A document; pass ``data=None`` and ``size`` for a file too big to keep in memory usefully."""
        stored = self.state.store_file(data, size)
        content: dict[str, Any] = {"document": {"file_name": file_name, "mime_type": mime_type,
                                                "file_id": stored.file_id,
                                                "file_unique_id": stored.file_unique_id,
                                                "file_size": stored.size}}
        if caption:
            content["caption"] = caption
        return self.state.push_update({"message": self.state.user_message(user, **content)})

    def user_sends_voice(self, user: SandboxUser, data: bytes, duration_s: int = 3) -> dict[str, Any]:
        stored = self.state.store_file(data)
        voice = {"duration": duration_s, "mime_type": "audio/ogg", "file_id": stored.file_id,
                 "file_unique_id": stored.file_unique_id, "file_size": stored.size}
        return self.state.push_update({"message": self.state.user_message(user, voice=voice)})

    def user_sends_location(self, user: SandboxUser, latitude: float, longitude: float) -> dict[str, Any]:
        location = {"latitude": latitude, "longitude": longitude}
        return self.state.push_update({"message": self.state.user_message(user, location=location)})

    def user_shares_contact(self, user: SandboxUser, phone: str | None = None) -> dict[str, Any]:
        """The user presses a ``request_contact`` button: their own contact card arrives."""
        number = phone or user.phone
        if not number:
            raise ValueError("the user has no phone number to share")
        contact: dict[str, Any] = {"phone_number": number, "first_name": user.first_name, "user_id": user.id}
        if user.last_name:
            contact["last_name"] = user.last_name
        return self.state.push_update({"message": self.state.user_message(user, contact=contact)})

    def user_presses_button(self, user: SandboxUser, callback_data: str,
                            message_id: int | None = None) -> dict[str, Any]:
        """Press an inline button of a bot message (the newest one carrying it unless ``message_id``)."""
        for message in reversed(self.state.sent.get(user.id, [])):
            if message_id is not None and message["message_id"] != message_id:
                continue
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(button.get("callback_data") == callback_data for row in rows for button in row):
                query_id = str(random.getrandbits(62))
                query = {"id": query_id, "from": user.as_user(), "message": message,
                         "chat_instance": str(-abs(hash((user.id, self.state.bot_id)))), "data": callback_data}
                self.state.callback_queries[query_id] = query
                return self.state.push_update({"callback_query": query})
        raise BotApiError(400, f"no bot message in chat {user.id} has a button {callback_data!r}")

    def user_edits(self, user: SandboxUser, message_id: int, new_text: str) -> dict[str, Any]:
        original = self.state.received.get(message_id)
        if original is None or original["from"]["id"] != user.id:
            raise BotApiError(400, f"user {user.id} sent no message {message_id}")
        edited = {**original, "text": new_text, "edit_date": int(time.time())}
        return self.state.push_update({"edited_message": edited})

    def deliver_raw(self, update: dict[str, Any], *, keep_id: bool = False) -> dict[str, Any]:
        """Queue an update exactly as given (a captured real one); a fresh ``update_id`` unless ``keep_id``."""
        payload = {k: v for k, v in update.items() if k != "update_id" or keep_id}
        for key in ("message", "edited_message"):
            if isinstance(payload.get(key), dict) and isinstance(payload[key].get("chat"), dict):
                self.state.chats.setdefault(payload[key]["chat"]["id"], payload[key]["chat"])
        return self.state.push_update(payload, keep_id=keep_id)

    def blocks_bot(self, user: SandboxUser) -> None:
        self.state.blocked_by.add(user.id)

    def sent_to(self, chat: SandboxUser | int) -> list[dict[str, Any]]:
        """Messages the bot sent to a chat, oldest first, as Bot API ``Message`` objects."""
        chat_id = chat.id if isinstance(chat, SandboxUser) else chat
        return list(self.state.sent.get(chat_id, []))

    @property
    def pending_updates(self) -> int:
        return len(self.state.updates)

    @property
    def answered_callbacks(self) -> list[str]:
        return list(self.state.answered_callbacks)

    def offered_buttons(self, user: SandboxUser) -> list[str]:
        """The ``callback_data`` of the inline buttons on the bot's newest message to ``user``."""
        sent = self.state.sent.get(user.id)
        rows = (sent[-1].get("reply_markup") or {}).get("inline_keyboard", []) if sent else []
        return [button["callback_data"] for row in rows for button in row if "callback_data" in button]

    async def run_traffic(self, rate_per_s: float, duration_s: float | None = None,
                          users: Sequence[SandboxUser] | None = None, phrases: Sequence[str] = DEMO_PHRASES,
                          press_ratio: float = 0.4, seed: int = 7) -> int:
        """Users act at ``rate_per_s`` for ``duration_s`` (forever if ``None``); returns how many acts.

        Like chatbot users: a user whose last bot message has buttons presses one with probability
        ``press_ratio``; a user with a phone shares it once; otherwise they write one of ``phrases``.
        """
        crowd = list(users) if users else demo_users(20)
        rng = random.Random(seed)
        shared: set[int] = set()
        interval = 1.0 / rate_per_s
        started = time.monotonic()
        acts = 0
        for n in itertools.count():
            due = started + n * interval
            if duration_s is not None and due - started >= duration_s:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            user = crowd[n % len(crowd)]
            buttons = self.offered_buttons(user)
            if buttons and rng.random() < press_ratio:
                self.user_presses_button(user, rng.choice(buttons))
            elif user.phone and user.id not in shared and n >= len(crowd):
                shared.add(user.id)
                self.user_shares_contact(user)
            else:
                self.user_sends_text(user, phrases[rng.randrange(len(phrases))])
            acts += 1
        return acts
