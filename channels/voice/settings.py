"""The ``[voice]`` table of config/channels/voice.toml as a typed, validated object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from channels.base import ChannelError

VoiceMode = Literal["observe", "route"]


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "switchboard"
    secret: str = ""
    mode: VoiceMode = "observe"
    reconnect_initial_seconds: float = 0.5
    reconnect_max_seconds: float = 30.0
    ping_interval_seconds: float = 10.0
    ping_timeout_seconds: float = 5.0
    action_timeout_seconds: float = 10.0
    max_frame_bytes: int = 256 * 1024
    agent_context: str = "from-internal"
    agent_channel_template: str = "PJSIP/{extension}"
    outbound_context: str = "from-internal"
    outbound_caller_id: str = ""
    outbound_number_format: Literal["national", "e164"] = "national"
    originate_timeout_seconds: int = 30
    internal_number_max_digits: int = 5
    vicidial_lead_id_digits: int = 10
    recording_url_template: str = ""
    recording_variables: tuple[str, ...] = ("MIXMONITOR_FILENAME", "CALLFILENAME")
    vicidial_non_agent_api_url: str = ""
    vicidial_agent_api_url: str = ""
    vicidial_api_user: str = ""
    vicidial_api_pass: str = ""
    vicidial_api_source: str = "switchboard"
    vicidial_phone_code: str = "380"
    delivery_retry_initial_seconds: float = 0.2
    delivery_retry_max_seconds: float = 10.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> VoiceSettings:
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in table.items():
            if key in known:
                values[key] = tuple(value) if key == "recording_variables" else value
            else:
                extra[key] = value
        settings = cls(**values, extra=extra)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.mode not in ("observe", "route"):
            raise ChannelError(f"voice.mode must be 'observe' or 'route', not {self.mode!r}")
        if not 0 < self.port < 65536:
            raise ChannelError(f"voice.port {self.port} is not a TCP port")
        if self.reconnect_initial_seconds <= 0 or self.reconnect_max_seconds < self.reconnect_initial_seconds:
            raise ChannelError("voice reconnect backoff must be positive and initial <= max")
        if self.ping_interval_seconds <= 0 or self.ping_timeout_seconds <= 0:
            raise ChannelError("voice ping interval and timeout must be positive")
        if self.vicidial_lead_id_digits not in (9, 10):
            raise ChannelError("voice.vicidial_lead_id_digits must be 9 (VICIdial before 2.4) or 10")
        if "{extension}" not in self.agent_channel_template:
            raise ChannelError("voice.agent_channel_template must contain {extension}")
        if self.outbound_number_format not in ("national", "e164"):
            raise ChannelError("voice.outbound_number_format must be 'national' or 'e164'")
