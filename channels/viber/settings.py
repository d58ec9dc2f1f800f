"""The ``config/channels/viber.toml`` table, checked and typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.base import ChannelError

SENDER_NAME_LIMIT = 28


@dataclass(frozen=True, slots=True)
class ViberSettings:
    """One Viber bot account.

    ``api_url`` is the REST base (``https://chatapi.viber.com/pa`` or the sandbox's ``<url>/pa``).
    ``state_path`` names a small JSON file holding the users who unsubscribed, so a restart does not
    forget them; empty keeps that set in memory only.
    """

    token: str
    bot_name: str = "Switchboard"
    bot_avatar: str = ""
    api_url: str = "https://chatapi.viber.com/pa"
    public_webhook_url: str = ""
    webhook_events: tuple[str, ...] = ("delivered", "seen", "failed", "subscribed", "unsubscribed",
                                       "conversation_started")
    state_path: str = ""
    attachment_cap_bytes: int = 5 * 1024 * 1024
    request_timeout_s: float = 10.0
    min_api_version: int = 3
    enabled: bool = True

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> ViberSettings:
        unknown = sorted(set(table) - set(cls.__dataclass_fields__))
        if unknown:
            raise ChannelError(f"viber settings: unknown keys {unknown}")
        if not table.get("token"):
            raise ChannelError("viber settings: 'token' is required")
        values = dict(table)
        if "webhook_events" in values:
            values["webhook_events"] = tuple(values["webhook_events"])
        settings = cls(**values)
        if not settings.bot_name or len(settings.bot_name) > SENDER_NAME_LIMIT:
            raise ChannelError(f"viber settings: bot_name must be 1..{SENDER_NAME_LIMIT} characters")
        return settings
