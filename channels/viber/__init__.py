"""Viber channel (viberbot): ``build(settings)`` gives the channel for one bot account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.viber.channel import ViberChannel
from channels.viber.settings import ViberSettings


def build(settings: Mapping[str, Any]) -> ViberChannel:
    """The channel for the table of ``config/channels/viber.toml``."""
    return ViberChannel(ViberSettings.from_table(settings))


__all__ = ["ViberChannel", "ViberSettings", "build"]
