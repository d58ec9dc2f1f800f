"""The ``config/channels/telegram.toml`` table, checked and typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from channels.base import ChannelError

TelegramMode = Literal["polling", "webhook"]


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """One bot account.

    ``api_url`` is the Bot API server root (``https://api.telegram.org`` or the sandbox's URL); the
    method URL ``<api_url>/bot<token>/<method>`` and the file URL ``<api_url>/file/bot<token>/<path>``
    are derived from it, as the Bot API documents them.
    """

    token: str
    api_url: str = "https://api.telegram.org"
    mode: TelegramMode = "polling"
    webhook_secret: str = ""
    public_webhook_url: str = ""
    poll_timeout_s: int = 25
    poll_limit: int = 100
    attachment_cap_bytes: int = 5 * 1024 * 1024
    sink_retry_initial_s: float = 0.2
    sink_retry_max_s: float = 10.0
    request_timeout_s: float = 10.0
    send_pool_size: int = 32
    enabled: bool = True

    @property
    def bot_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/file/bot"

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> TelegramSettings:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(table) - known)
        if unknown:
            raise ChannelError(f"telegram settings: unknown keys {unknown}")
        if not table.get("token"):
            raise ChannelError("telegram settings: 'token' is required")
        settings = cls(**dict(table))
        if settings.mode not in ("polling", "webhook"):
            raise ChannelError(f"telegram settings: mode must be 'polling' or 'webhook', not {settings.mode!r}")
        if settings.mode == "webhook" and not settings.webhook_secret:
            raise ChannelError("telegram settings: webhook mode needs 'webhook_secret'")
        if not 1 <= settings.poll_limit <= 100:
            raise ChannelError("telegram settings: poll_limit must be within 1..100")
        return settings
