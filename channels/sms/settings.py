"""The ``config/channels/sms.toml`` table, checked and typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from channels.base import ChannelError

ALPHANUMERIC_SENDER_LIMIT = 11


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """One SMPP account (a bind transceiver) at an operator or aggregator.

    ``window`` submits may wait for their ``submit_sm_resp`` at once.  A throttled submit
    (ESME_RTHROTTLED, ESME_RMSGQFUL) pauses all submits for ``throttle_backoff_s``, doubling up to
    ``throttle_backoff_max_s`` while the SMSC keeps refusing, and is submitted again.
    ``smsc_timezone`` is the SMSC's clock, for the done date of receipts.  ``state_path`` names the file
    of multipart messages' part ids, so receipts arriving after a restart still map to their message;
    empty keeps them in memory only.
    """

    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    default_sender: str = "GasService"
    window: int = 10
    enquire_link_interval_s: float = 30.0
    response_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    reconnect_delay_s: float = 1.0
    reconnect_delay_max_s: float = 30.0
    throttle_backoff_s: float = 0.1
    throttle_backoff_max_s: float = 5.0
    registered_delivery: bool = True
    smsc_timezone: str = "UTC"
    store_timeout_s: float = 30.0
    tracked_messages: int = 200_000
    state_path: str = ""
    enabled: bool = True

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> SmsSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ChannelError(f"sms settings: unknown keys {unknown}")
        missing = [key for key in ("host", "port", "system_id", "password") if table.get(key) in (None, "")]
        if missing:
            raise ChannelError(f"sms settings: {missing} required")
        settings = cls(**dict(table))
        if len(settings.system_id) > 15 or len(settings.password) > 8:
            raise ChannelError("sms settings: system_id is at most 15 characters, password at most 8 (SMPP 3.4)")
        if settings.window < 1:
            raise ChannelError("sms settings: window must be at least 1")
        check_sender(settings.default_sender)
        try:
            ZoneInfo(settings.smsc_timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ChannelError(f"sms settings: unknown smsc_timezone {settings.smsc_timezone!r}") from exc
        return settings


def check_sender(sender: str) -> str:
    """An alphanumeric sender (at most 11 Latin letters, digits, spaces) or a numeric one (a short code
    or an international number)."""
    if not sender:
        raise ChannelError("sms: the sender is empty")
    if sender.lstrip("+").isdigit():
        if len(sender.lstrip("+")) > 15:
            raise ChannelError(f"sms: sender {sender!r} has more than 15 digits")
        return sender
    if len(sender) > ALPHANUMERIC_SENDER_LIMIT or not all(c.isascii() and (c.isalnum() or c in " -._") for c in sender):
        raise ChannelError(f"sms: alphanumeric sender {sender!r} must be 1..{ALPHANUMERIC_SENDER_LIMIT} Latin "
                           "letters, digits, spaces")
    return sender
