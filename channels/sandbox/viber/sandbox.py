"""The Viber sandbox: the REST server plus Viber users, for tests and the demo.

Each driver method sends the callback Viber would send for what the user did and returns what the
bot's webhook answered (:class:`CallbackResult`).  A user's reply carries the ``tracking_data`` of
the bot's last message to them, as Viber echoes it.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels.sandbox.viber.server import CHAT_HOSTNAME, CallbackResult, ViberRestServer, now_ms

DEMO_PHRASES = (
    "Доброго дня, хочу передати показання: 12890",
    "Яка сума до сплати?",
    "Коли прийде майстер?",
    "Пахне газом у під'їзді",
    "Дякую!",
)


@dataclass(frozen=True, slots=True)
class ViberUser:
    """A Viber user (ids are opaque base64-like strings)."""

    id: str
    name: str
    phone: str | None = None
    country: str = "UA"
    language: str = "uk"
    avatar: str | None = None

    def profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": self.id, "name": self.name, "country": self.country,
                                   "language": self.language, "api_version": 10}
        if self.avatar:
            profile["avatar"] = self.avatar
        return profile


def demo_users(count: int) -> list[ViberUser]:
    return [ViberUser(id=f"sbVbr{i:06d}Zx9Q==", name=f"Абонент {i + 1}", phone=f"+38067{2000000 + i:07d}")
            for i in range(count)]


class ViberSandbox(ViberRestServer):
    """``await start()``, configure the channel with ``.api_url``, then play users."""

    def _subscribe(self, user: ViberUser) -> None:
        self.account.known_users.add(user.id)
        self.account.subscribed.add(user.id)

    def _last_tracking(self, user: ViberUser) -> str | None:
        sent = self.account.sent.get(user.id, [])
        return sent[-1].get("tracking_data") if sent else None

    async def _user_message(self, user: ViberUser, message: dict[str, Any]) -> CallbackResult:
        self._subscribe(user)
        tracking = self._last_tracking(user)
        if tracking and "tracking_data" not in message:
            message = {**message, "tracking_data": tracking}
        payload = {"event": "message", "timestamp": now_ms(), "chat_hostname": CHAT_HOSTNAME,
                   "message_token": self.next_token(), "sender": user.profile(), "message": message,
                   "silent": False}
        return await self.post_callback(payload)

    async def user_sends_text(self, user: ViberUser, text: str) -> CallbackResult:
        return await self._user_message(user, {"type": "text", "text": text})

    async def user_presses_button(self, user: ViberUser, payload: str) -> CallbackResult:
        """Press a ``reply`` button of the bot's newest keyboard: its ActionBody comes back as text."""
        for message in reversed(self.account.sent.get(user.id, [])):
            buttons = (message.get("keyboard") or {}).get("Buttons", [])
            if any(button.get("ActionBody") == payload for button in buttons):
                return await self._user_message(user, {"type": "text", "text": payload,
                                                       "tracking_data": message.get("tracking_data")})
        raise ValueError(f"no keyboard sent to {user.id} has a button {payload!r}")

    async def user_sends_picture(self, user: ViberUser, data: bytes, caption: str = "") -> CallbackResult:
        name = f"img{len(self.account.media)}.jpg"
        self.account.media[name] = data
        return await self._user_message(user, {"type": "picture", "text": caption,
                                               "media": f"{self.url}/media/{name}",
                                               "thumbnail": f"{self.url}/media/{name}",
                                               "file_name": name, "size": len(data)})

    async def user_sends_file(self, user: ViberUser, file_name: str, data: bytes | None,
                              size: int | None = None) -> CallbackResult:
        """A file; ``data=None`` with ``size`` declares a file whose bytes the sandbox does not serve."""
        key = f"file{len(self.account.media)}-{file_name}"
        if data is not None:
            self.account.media[key] = data
        return await self._user_message(user, {"type": "file", "media": f"{self.url}/media/{key}",
                                               "file_name": file_name,
                                               "size": len(data) if data is not None else size or 0})

    async def user_shares_contact(self, user: ViberUser, phone: str | None = None) -> CallbackResult:
        number = phone or user.phone
        if not number:
            raise ValueError("the user has no phone number to share")
        return await self._user_message(user, {"type": "contact",
                                               "contact": {"name": user.name, "phone_number": number}})

    async def user_sends_location(self, user: ViberUser, lat: float, lon: float) -> CallbackResult:
        return await self._user_message(user, {"type": "location", "location": {"lat": lat, "lon": lon}})

    async def user_starts_conversation(self, user: ViberUser, context: str | None = None) -> CallbackResult:
        """The user opens the chat; the webhook's answer body may hold a welcome message."""
        self.account.known_users.add(user.id)
        payload: dict[str, Any] = {"event": "conversation_started", "timestamp": now_ms(),
                                   "chat_hostname": CHAT_HOSTNAME, "message_token": self.next_token(),
                                   "type": "open", "user": user.profile(),
                                   "subscribed": user.id in self.account.subscribed}
        if context:
            payload["context"] = context
        return await self.post_callback(payload)

    async def user_subscribes(self, user: ViberUser) -> CallbackResult:
        self._subscribe(user)
        return await self.post_callback({"event": "subscribed", "timestamp": now_ms(),
                                         "chat_hostname": CHAT_HOSTNAME, "user": user.profile(),
                                         "message_token": self.next_token()})

    async def user_unsubscribes(self, user: ViberUser) -> CallbackResult:
        self.account.subscribed.discard(user.id)
        return await self.post_callback({"event": "unsubscribed", "timestamp": now_ms(),
                                         "chat_hostname": CHAT_HOSTNAME, "user_id": user.id,
                                         "message_token": self.next_token()})

    async def message_status(self, user: ViberUser, message_token: int | str, status: str = "delivered",
                             desc: str = "") -> CallbackResult:
        """Report ``delivered`` / ``seen`` / ``failed`` for a message the bot sent."""
        payload: dict[str, Any] = {"event": status, "timestamp": now_ms(), "chat_hostname": CHAT_HOSTNAME,
                                   "message_token": int(message_token), "user_id": user.id}
        if status == "failed":
            payload["desc"] = desc or "failure description"
        return await self.post_callback(payload)

    async def send_raw(self, payload: dict[str, Any], *, signature: str | None = None) -> CallbackResult:
        """A callback exactly as given; ``signature=""`` sends none, another string a forged one."""
        return await self.post_callback(payload, signature=signature, attempts=1)

    def sent_to(self, user: ViberUser | str) -> list[dict[str, Any]]:
        """What the bot sent to a user (``send_message`` bodies without the token), oldest first."""
        return list(self.account.sent.get(user.id if isinstance(user, ViberUser) else user, []))

    def offered_buttons(self, user: ViberUser) -> list[str]:
        """The ``ActionBody`` of the keyboard on the bot's newest message to ``user``."""
        sent = self.account.sent.get(user.id)
        buttons = (sent[-1].get("keyboard") or {}).get("Buttons", []) if sent else []
        return [button["ActionBody"] for button in buttons if button.get("ActionType", "reply") == "reply"]

    async def _act(self, user: ViberUser, rng: random.Random, press_ratio: float, phrases: Sequence[str],
                   first_contact: bool) -> CallbackResult:
        buttons = self.offered_buttons(user)
        if first_contact:
            return await self.user_starts_conversation(user)
        if buttons and rng.random() < press_ratio:
            return await self.user_presses_button(user, rng.choice(buttons))
        return await self.user_sends_text(user, phrases[rng.randrange(len(phrases))])

    async def run_traffic(self, rate_per_s: float, duration_s: float | None = None,
                          users: Sequence[ViberUser] | None = None, phrases: Sequence[str] = DEMO_PHRASES,
                          press_ratio: float = 0.4, seed: int = 11) -> int:
        """Users act at ``rate_per_s`` for ``duration_s`` (forever if ``None``); returns how many acts.

        Like chatbot users: each opens the conversation first (``conversation_started``), then presses a
        button of the bot's newest keyboard with probability ``press_ratio`` or writes one of ``phrases``.
        Callbacks go out concurrently, as Viber's do, so a slow webhook does not slow the rate.
        """
        crowd = list(users) if users else demo_users(20)
        rng = random.Random(seed)
        interval = 1.0 / rate_per_s
        started = time.monotonic()
        in_flight: set[asyncio.Task[CallbackResult]] = set()
        acts = 0
        try:
            for n in itertools.count():
                due = started + n * interval
                if duration_s is not None and due - started >= duration_s:
                    break
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                user = crowd[n % len(crowd)]
                task = asyncio.create_task(self._act(user, rng, press_ratio, phrases, first_contact=n < len(crowd)))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                acts += 1
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        return acts
