"""The calls one AMI connection follows, and the call events their facts produce.

:class:`CallBook` holds one :class:`~channels.voice.call.Call` per linkedid and turns facts about it
(an agent answered, the call was transferred, its last channel hung up) into the engine's call
events with stable dedupe keys.  Which AMI events establish those facts is
:mod:`channels.voice.tracker`'s business.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from channels.base import Inbound, utcnow
from channels.voice.call import Call, extension_of
from channels.voice.inbound import call_inbound
from channels.voice.phone import is_internal_number, normalise_phone
from channels.voice.settings import VoiceSettings
from channels.voice.vicidial_ids import CLIENT_CALL_TYPES, parse_call_id_pair

ENDED_KEPT = 20_000
VICIDIAL_DIALS = frozenset({"M", "V"})
"""VICIdial call types it dials out itself: manual dial and auto-dial."""


class CallBook:
    """Live calls by linkedid, recently ended ones for look-ups, and the emission of call events."""

    def __init__(
        self, settings: VoiceSettings, emit: Callable[[Inbound], None], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self._emit_inbound = emit
        self._clock = clock
        self.calls: dict[str, Call] = {}
        self.ended: OrderedDict[str, Call] = OrderedDict()
        self._call_of: dict[str, str] = {}
        self._bridges: dict[str, set[str]] = {}
        self._originated: dict[str, str] = {}
        self._awaited_dials: dict[str, asyncio.Future[str]] = {}
        self._pending_legs: dict[str, tuple[dict[str, str], datetime]] = {}
        self._hung_up: OrderedDict[str, None] = OrderedDict()
        self._recording_vars = frozenset(settings.recording_variables)

    def expect_originated(self, linkedid: str, number: str) -> None:
        """A call this channel originated (click-to-call): its client is ``number``, not the agent."""
        self._originated[linkedid] = number

    def await_dial(self, client: str) -> asyncio.Future[str]:
        """A future for the linkedid of the next outbound call to ``client`` (a dial placed through
        VICIdial, whose call id is only known once the call shows up on AMI)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._awaited_dials[client] = future

        def forget(done: asyncio.Future[str]) -> None:
            if self._awaited_dials.get(client) is done:
                del self._awaited_dials[client]

        future.add_done_callback(forget)
        return future

    def call_for(self, call_id: str) -> Call | None:
        """A live or recently ended call by linkedid or by any of its channels' uniqueids."""
        linkedid = self._call_of.get(call_id, call_id)
        return self.calls.get(linkedid) or self.ended.get(linkedid)

    def call_of_channel(self, uniqueid: str) -> Call | None:
        linkedid = self._call_of.get(uniqueid)
        return self.calls.get(linkedid) if linkedid else None

    def open_call(self, h: dict[str, str], uniqueid: str, linkedid: str, at: datetime) -> Call:
        """Start tracking a call from its first channel's headers and emit ``started``."""
        number = h.get("calleridnum", "")
        name = h.get("calleridname", "")
        exten = h.get("exten", "")
        vicidial = parse_call_id_pair(name, h.get("connectedlinename"), lead_id_digits=self.settings.vicidial_lead_id_digits)
        channel = h.get("channel", "")
        direction, client_number, agent = "inbound", number, None
        originated = self._originated.pop(linkedid, None)
        if originated is not None:
            direction, client_number, agent = "outbound", originated, extension_of(channel)
        elif is_internal_number(number, self.settings.internal_number_max_digits) and normalise_phone(exten):
            direction, client_number, agent = "outbound", exten, extension_of(channel)
        elif vicidial is not None and vicidial.type in VICIDIAL_DIALS:
            dialled = dialled_client(exten, channel)
            if dialled:
                direction, client_number = "outbound", dialled
        internal = originated is None and (
            (vicidial is not None and vicidial.type not in CLIENT_CALL_TYPES)
            or (is_internal_number(number, self.settings.internal_number_max_digits) and direction == "inbound")
        )
        call = Call(
            linkedid=linkedid,
            caller_uniqueid=uniqueid,
            caller_channel=channel,
            caller_raw=client_number,
            caller=normalise_phone(client_number) or client_number,
            caller_name="" if is_unknown(name) or vicidial is not None else name,
            did=exten if direction == "inbound" else "",
            started_at=at,
            direction=direction,
            internal=internal,
            vicidial=vicidial,
            agent=agent,
        )
        call.live.add(uniqueid)
        self.calls[linkedid] = call
        self._call_of[uniqueid] = linkedid
        self.emit(call, "started", "started", at)
        awaited = self._awaited_dials.get(call.caller) if direction == "outbound" else None
        if awaited is not None and not awaited.done():
            awaited.set_result(linkedid)
        return call

    def attach_leg(self, call: Call, uniqueid: str) -> None:
        call.live.add(uniqueid)
        self._call_of[uniqueid] = call.linkedid

    def hung_up(self, uniqueid: str) -> bool:
        """True when this channel's Hangup has been seen (recently)."""
        return uniqueid in self._hung_up

    def channel_calls(self) -> dict[str, str]:
        """uniqueid -> linkedid for every channel followed now."""
        return dict(self._call_of)

    def forget_channels(self, call: Call, uniqueids: set[str]) -> None:
        """Channels that ended unseen (while the AMI socket was down)."""
        for uniqueid in uniqueids:
            call.live.discard(uniqueid)
            self._call_of.pop(uniqueid, None)

    def _call_and_ids(self, h: dict[str, str]) -> tuple[Call | None, str]:
        uniqueid = h.get("uniqueid", "")
        linkedid = h.get("linkedid") or self._call_of.get(uniqueid, "")
        return self.calls.get(linkedid), uniqueid

    def ring_leg(self, call: Call, dest: str, channel: str, dial_string: str, at: datetime) -> None:
        """A leg dialled for the call; an agent's leg (not a trunk to a phone number) rings the agent."""
        self.attach_leg(call, dest)
        target = dial_string.rsplit("/", 1)[-1] if dial_string else ""
        if call.direction == "outbound" or normalise_phone(target):
            return
        agent = extension_of(channel or "")
        if agent:
            call.agent_legs[dest] = agent
            self.emit(call, "ringing", f"ringing:{dest}", at, uniqueid=dest, agent=agent)

    def _no_answer(self, call: Call, leg: str, at: datetime) -> None:
        agent = call.agent_legs.get(leg) or None
        self.emit(call, "agent_no_answer", f"agent_no_answer:{leg}", at, uniqueid=leg, agent=agent)

    def _emit_recording(self, call: Call, file: str, uniqueid: str, at: datetime) -> None:
        url = recording_url_for(self.settings.recording_url_template, file) if self.settings.recording_url_template else None
        self.emit(call, "recording", f"recording:{file}", at, uniqueid=uniqueid, extra={"recording": {"file": file, "url": url}})

    def agent_answered(self, call: Call, agent: str, leg: str, at: datetime) -> None:
        """An agent's leg is connected to the caller: the answer, or a transfer when another agent
        already had the call."""
        if not call.answered:
            call.answered_at = at
            call.agent = agent
            self.emit(call, "answered", "answered", at, uniqueid=leg or None, agent=agent)
        elif agent != call.agent:
            self.transferred(call, agent, at, how="bridge")

    def transferred(self, call: Call, agent: str, at: datetime, *, how: str) -> None:
        if agent == call.agent:
            return
        previous, call.agent = call.agent, agent
        call.transfer_count += 1
        self.emit(
            call, "transferred", f"transferred:{call.transfer_count}:{agent}", at, agent=agent,
            extra={"transfer": {"from_agent": previous, "to_agent": agent, "how": how}},
        )

    def finish(self, call: Call, at: datetime, *, reconciled: bool = False) -> None:
        """The call's last channel is gone: emit ``hangup`` and keep the call for later look-ups."""
        call.ended_at = at
        self.calls.pop(call.linkedid, None)
        for uniqueid in call.live:
            self._call_of.pop(uniqueid, None)
        call.live.clear()
        self.ended[call.linkedid] = call
        while len(self.ended) > ENDED_KEPT:
            self.ended.popitem(last=False)
        self.emit(
            call, "hangup", "hangup", at,
            extra={
                "hangup_cause": call.hangup_cause,
                "hangup_cause_txt": call.hangup_cause_txt,
                "abandoned": not call.answered,
                "abandoned_in_queue": call.abandoned_in_queue or (not call.answered and call.queued_at is not None),
                "wait_seconds": call.wait_seconds(),
                "talk_seconds": call.talk_seconds(),
                "reconciled": reconciled,
            },
        )

    def emit(
        self, call: Call, kind: str, key: str, at: datetime, *, uniqueid: str | None = None,
        agent: str | None = None, extra: dict[str, Any] | None = None,
    ) -> None:
        if call.internal or key in call.emitted:
            return
        call.emitted.add(key)
        self._emit_inbound(call_inbound(call, kind, key, at, mode=self.settings.mode, uniqueid=uniqueid, agent=agent, extra=extra))


def dialled_client(exten: str, channel: str) -> str | None:
    """The client VICIdial dials: the exten (or the Local channel's exten) after its dial prefix,
    e.g. ``90671234567`` or ``Local/9380671234567@default-...`` -> ``+380671234567``."""
    for candidate in (exten, extension_of(channel) or ""):
        for skip in range(3):
            number = normalise_phone(candidate[skip:])
            if number:
                return number
    return None


def is_unknown(value: str | None) -> bool:
    return not value or value == "<unknown>"


def recording_url_for(template: str, file: str) -> str:
    """A recording file as a URL through ``template`` ({file}, {name} and {stem} are filled in)."""
    name = file.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return template.format(file=file, name=name, stem=stem)
