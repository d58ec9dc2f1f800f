"""The sandbox PBX's live channels, as CoreShowChannels and Status report them."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

STATE_CODES = {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6"}


@dataclass(slots=True)
class PbxChannel:
    name: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    state: str = "Down"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""
    created: float = field(default_factory=time.monotonic)
    variables: dict[str, str] = field(default_factory=dict)

    def headers(self, prefix: str = "") -> list[tuple[str, str]]:
        """The channel snapshot Asterisk 13+ puts in every channel event (``Dest`` prefixed for the
        called side)."""
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", STATE_CODES.get(self.state, "0")),
            (f"{prefix}ChannelStateDesc", self.state),
            (f"{prefix}CallerIDNum", self.caller_num or "<unknown>"),
            (f"{prefix}CallerIDName", self.caller_name or "<unknown>"),
            (f"{prefix}ConnectedLineNum", self.connected_num),
            (f"{prefix}ConnectedLineName", self.connected_name),
            (f"{prefix}Language", "uk"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", "1"),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]

    def duration(self) -> str:
        seconds = int(time.monotonic() - self.created)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class PbxState:
    """Channels by name and uniqueid; uniqueids and channel suffixes like Asterisk makes them."""

    def __init__(self) -> None:
        self.channels: dict[str, PbxChannel] = {}
        self._sequence = itertools.count(1)
        self._epoch = int(time.time())

    def new_uniqueid(self) -> str:
        return f"{self._epoch}.{next(self._sequence)}"

    def new_channel(
        self, endpoint: str, *, linkedid: str | None = None, caller_num: str = "", caller_name: str = "",
        context: str = "from-trunk", exten: str = "", state: str = "Down", uniqueid: str | None = None,
    ) -> PbxChannel:
        uniqueid = uniqueid or self.new_uniqueid()
        name = f"{endpoint}-{next(self._sequence):08x}"
        channel = PbxChannel(name, uniqueid, linkedid or uniqueid, caller_num, caller_name, context, exten, state)
        self.channels[uniqueid] = channel
        return channel

    def by_name(self, name: str) -> PbxChannel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def remove(self, channel: PbxChannel) -> None:
        self.channels.pop(channel.uniqueid, None)
