"""Voice: calls from VICIdial / Asterisk over AMI as call events (see :mod:`channels.voice.channel`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.voice.channel import AmiStats, VoiceChannel
from channels.voice.phone import normalise_phone
from channels.voice.settings import VoiceSettings
from channels.voice.vicidial_ids import VicidialCallId, parse_call_id

__all__ = ["AmiStats", "VicidialCallId", "VoiceChannel", "VoiceSettings", "build", "normalise_phone", "parse_call_id"]


def build(settings: Mapping[str, Any]) -> VoiceChannel:
    """The voice channel for the ``[voice]`` table of config/channels/voice.toml."""
    return VoiceChannel(VoiceSettings.from_mapping(settings))
