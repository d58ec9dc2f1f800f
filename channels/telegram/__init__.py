"""Telegram channel (python-telegram-bot): ``build(settings)`` gives the channel for one bot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.telegram.channel import TelegramChannel
from channels.telegram.settings import TelegramSettings


def build(settings: Mapping[str, Any]) -> TelegramChannel:
    """The channel for the table of ``config/channels/telegram.toml``."""
    return TelegramChannel(TelegramSettings.from_table(settings))


__all__ = ["TelegramChannel", "TelegramSettings", "build"]
