"""The ``config/channels/viber_business.toml`` table, checked and typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from channels.base import ChannelError

LABELS = ("TRANSACTION", "PROMOTION")


@dataclass(frozen=True, slots=True)
class ViberBusinessSettings:
    """One Viber Business Messages sender at the aggregator (Infobip's Viber API shape).

    ``api_url`` is the account's base URL (``https://<id>.api.infobip.com``, or the sandbox's URL);
    ``api_key`` goes in ``Authorization: App <key>``.  ``public_webhook_url`` is where the aggregator
    posts delivery and seen reports (the gateway's ``/webhooks/viber_business``); every report must
    carry the hex HMAC-SHA256 of its raw body keyed with ``callback_secret`` in ``signature_header``
    (the webhook security set on the aggregator's subscription).
    """

    api_key: str
    sender: str
    callback_secret: str
    api_url: str = "https://api.infobip.com"
    public_webhook_url: str = ""
    signature_header: str = "X-Signature"
    label: str = "TRANSACTION"
    validity_period_minutes: int = 1440
    request_timeout_s: float = 10.0
    tracked_messages: int = 200_000
    enabled: bool = True

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> ViberBusinessSettings:
        unknown = sorted(set(table) - {f.name for f in fields(cls)})
        if unknown:
            raise ChannelError(f"viber_business settings: unknown keys {unknown}")
        missing = [key for key in ("api_key", "sender", "callback_secret") if not table.get(key)]
        if missing:
            raise ChannelError(f"viber_business settings: {missing} required")
        settings = cls(**dict(table))
        if settings.label not in LABELS:
            raise ChannelError(f"viber_business settings: label must be one of {LABELS}")
        if not 1 <= settings.validity_period_minutes <= 20160:
            raise ChannelError("viber_business settings: validity_period_minutes must be 1..20160 (14 days)")
        return settings
