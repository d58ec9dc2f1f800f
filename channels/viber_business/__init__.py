"""Viber Business Messages via an aggregator's HTTP API: ``build(settings)`` gives the channel for one
sender."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.viber_business.channel import ViberBusinessChannel
from channels.viber_business.settings import ViberBusinessSettings


def build(settings: Mapping[str, Any]) -> ViberBusinessChannel:
    """The channel for the table of ``config/channels/viber_business.toml``."""
    return ViberBusinessChannel(ViberBusinessSettings.from_table(settings))


__all__ = ["ViberBusinessChannel", "ViberBusinessSettings", "build"]
