"""The aggregator's send API over aiohttp: ``POST {api_url}/viber/2/messages`` (Infobip's Viber
Business Messages shape), ``Authorization: App <key>``.

Request: ``{"messages": [{"sender", "destinations": [{"to", "messageId"}], "content": {"type": "TEXT",
"text"}, "options": {"label", "validityPeriod": {"amount", "timeUnit"}}, "webhooks": {"delivery":
{"url"}, "seen": {"url"}}}]}``.  Answer: ``{"bulkId", "messages": [{"messageId", "destination",
"status": {"groupName", "name", "description"}}]}``; a refused request is HTTP 4xx with
``{"requestError": {"serviceException": {"messageId", "text"}}}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from channels.base import ChannelError
from channels.viber_business.settings import ViberBusinessSettings

REFUSED_GROUPS = ("REJECTED", "UNDELIVERABLE")


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: str
    status: str


class AggregatorApi:
    def __init__(self, settings: ViberBusinessSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout_s),
                headers={"Authorization": f"App {self.settings.api_key}", "Accept": "application/json"})
        return self._session

    def message_body(self, destination: str, message_id: str, text: str, label: str) -> dict[str, Any]:
        s = self.settings
        message: dict[str, Any] = {
            "sender": s.sender,
            "destinations": [{"to": destination, "messageId": message_id}],
            "content": {"type": "TEXT", "text": text},
            "options": {"label": label, "validityPeriod": {"amount": s.validity_period_minutes, "timeUnit": "MINUTES"}},
        }
        if s.public_webhook_url:
            message["webhooks"] = {"delivery": {"url": s.public_webhook_url}, "seen": {"url": s.public_webhook_url}}
        return {"messages": [message]}

    async def send_text(self, destination: str, message_id: str, text: str, label: str) -> Accepted:
        """Submit one message; raises :class:`ChannelError` with the aggregator's reason when it refuses."""
        url = f"{self.settings.api_url.rstrip('/')}/viber/2/messages"
        try:
            async with self._client().post(url, json=self.message_body(destination, message_id, text, label)) as response:
                status = response.status
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"viber_business: the aggregator cannot be reached ({exc or type(exc).__name__})") from exc
        if status >= 400 or not isinstance(answer, dict):
            raise ChannelError(f"viber_business: the aggregator refused the message (HTTP {status}: {_error_text(answer)})")
        results = answer.get("messages") or []
        result = next((r for r in results if isinstance(r, dict)), None)
        if result is None or not result.get("messageId"):
            raise ChannelError("viber_business: the aggregator's answer names no message")
        group = str((result.get("status") or {}).get("groupName", "")).upper()
        if group in REFUSED_GROUPS:
            detail = (result.get("status") or {}).get("description") or (result.get("status") or {}).get("name")
            raise ChannelError(f"viber_business: the aggregator refused the message ({group}: {detail})")
        return Accepted(message_id=str(result["messageId"]), status=group or "PENDING")


def _error_text(answer: Any) -> str:
    if isinstance(answer, dict):
        exception = (answer.get("requestError") or {}).get("serviceException") or {}
        if exception:
            return f"{exception.get('messageId', 'ERROR')} {exception.get('text', '')}".strip()
    return "no reason given"
