"""SMS channel (SMPP 3.4 over smpplib): ``build(settings)`` gives the channel for one SMPP account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.sms.channel import SmsChannel
from channels.sms.settings import SmsSettings


def build(settings: Mapping[str, Any]) -> SmsChannel:
    """The channel for the table of ``config/channels/sms.toml``."""
    return SmsChannel(SmsSettings.from_table(settings))


__all__ = ["SmsChannel", "SmsSettings", "build"]
