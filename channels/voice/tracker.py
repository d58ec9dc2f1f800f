"""AMI events -> call events.

The tracker keeps one :class:`~channels.voice.call.Call` per linkedid and turns the AMI events that
matter (Asterisk 11 to 18 spellings) into the engine's call events: started, queued, ringing,
answered, hold, unhold, transferred, agent_no_answer, recording, hangup.  Everything else (most
VarSets, Newexten, RTCP, device states) is dropped at the first dictionary lookup.

The first event of a call is ``started``, sent on the call's Newchannel, the earliest moment
Asterisk shows it.  A call ends when the last of its channels hangs up.  Dedupe keys derive from the
linkedid and the leg's uniqueid, so the same fact seen twice (DialBegin and AgentCalled for one leg,
or a live event and a reconcile after a reconnect) yields the same key.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from channels.base import Inbound, utcnow
from channels.voice.call import Call, event_time, extension_of
from channels.voice.codec import AmiMessage
from channels.voice.inbound import call_inbound
from channels.voice.phone import is_internal_number, normalise_phone
from channels.voice.settings import VoiceSettings
from channels.voice.vicidial_ids import CLIENT_CALL_TYPES, parse_call_id_pair

log = logging.getLogger(__name__)

_ENDED_KEPT = 20_000
_NO_ANSWER = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})
_PROMOTING = frozenset({"Newstate", "Dial", "Join", "QueueCallerJoin", "Bridge", "LocalBridge", "Hold", "MixMonitorStart"})
_LEGACY_NAMES = {"Join": "QueueCallerJoin", "Leave": "QueueCallerLeave", "Newcallerid": "NewCallerid"}


class CallTracker:
    """Follows every call on one AMI connection and emits its call events through ``emit``."""

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
        self._pending_legs: dict[str, tuple[dict[str, str], datetime]] = {}
        self._hung_up: OrderedDict[str, None] = OrderedDict()
        self._recording_vars = frozenset(settings.recording_variables)
        self._recording_var_headers = tuple(f"Variable: {v}\r\n".encode() for v in settings.recording_variables)
        self._handlers: dict[str, Callable[[AmiMessage, datetime], None]] = {
            "Newchannel": self._on_newchannel,
            "NewCallerid": self._on_new_callerid,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_dial_end,
            "Dial": self._on_legacy_dial,
            "QueueCallerJoin": self._on_queue_join,
            "QueueCallerAbandon": self._on_queue_abandon,
            "AgentCalled": self._on_agent_called,
            "AgentConnect": self._on_agent_connect,
            "AgentRingNoAnswer": self._on_agent_ring_no_answer,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            "Bridge": self._on_legacy_bridge,
            "BlindTransfer": self._on_blind_transfer,
            "AttendedTransfer": self._on_attended_transfer,
            "Hold": self._on_hold,
            "Unhold": self._on_unhold,
            "VarSet": self._on_varset,
            "MixMonitorStart": self._on_mixmonitor_start,
            "Hangup": self._on_hangup,
            "LocalBridge": self._on_local_bridge,
            "Rename": self._on_rename,
        }
        self._wanted_names = frozenset(n.encode() for n in (*self._handlers, *_LEGACY_NAMES))

    # ----------------------------------------------------------------- input

    def wants(self, block: bytes) -> bool:
        """Whether an event (raw bytes) can matter to a call; the decoder skips the rest unparsed.
        Replies to our own actions (CoreShowChannel, Status, ...) carry an ActionID and are kept."""
        name = block[7 : block.find(b"\r\n")]
        if name == b"VarSet":
            return any(variable in block for variable in self._recording_var_headers)
        return name in self._wanted_names or b"\r\nActionID:" in block

    def handle(self, message: AmiMessage) -> None:
        """Feed one AMI event."""
        name = message.headers.get("event", "")
        handler = self._handlers.get(name) or self._handlers.get(_LEGACY_NAMES.get(name, ""))
        if handler is None:
            return
        at = event_time(message.headers.get("timestamp"), self._clock())
        if self._pending_legs and name != "Newchannel" and self._settle_pending(name, message.headers):
            return
        handler(message, at)

    def expect_originated(self, linkedid: str, number: str) -> None:
        """A call this channel originated (click-to-call): its client is ``number``, not the agent."""
        self._originated[linkedid] = number

    def call_for(self, call_id: str) -> Call | None:
        """A live or recently ended call by linkedid or by any of its channels' uniqueids."""
        linkedid = self._call_of.get(call_id, call_id)
        return self.calls.get(linkedid) or self.ended.get(linkedid)

    def call_of_channel(self, uniqueid: str) -> Call | None:
        linkedid = self._call_of.get(uniqueid)
        return self.calls.get(linkedid) if linkedid else None

    # ----------------------------------------------------------- call set-up

    def open_call(self, h: dict[str, str], uniqueid: str, linkedid: str, at: datetime) -> Call:
        """Start tracking a call from its first channel's headers and emit ``started``."""
        number = h.get("calleridnum", "")
        name = h.get("calleridname", "")
        exten = h.get("exten", "")
        vicidial = parse_call_id_pair(name, h.get("connectedlinename"), lead_id_digits=self.settings.vicidial_lead_id_digits)
        direction = "inbound"
        client_number = number
        originated = self._originated.pop(linkedid, None)
        if originated is not None:
            direction, client_number = "outbound", originated
        elif is_internal_number(number, self.settings.internal_number_max_digits) and normalise_phone(exten):
            direction, client_number = "outbound", exten
        internal = originated is None and (
            (vicidial is not None and vicidial.type not in CLIENT_CALL_TYPES)
            or (is_internal_number(number, self.settings.internal_number_max_digits) and direction == "inbound")
        )
        call = Call(
            linkedid=linkedid,
            caller_uniqueid=uniqueid,
            caller_channel=h.get("channel", ""),
            caller_raw=client_number,
            caller=normalise_phone(client_number) or client_number,
            caller_name="" if _is_unknown(name) or vicidial is not None else name,
            did=exten if direction == "inbound" else "",
            started_at=at,
            direction=direction,
            internal=internal,
            vicidial=vicidial,
            agent=extension_of(h.get("channel", "")) if direction == "outbound" else None,
        )
        call.live.add(uniqueid)
        self.calls[linkedid] = call
        self._call_of[uniqueid] = linkedid
        self.emit(call, "started", "started", at)
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

    # ---------------------------------------------------------------- events

    def _on_newchannel(self, m: AmiMessage, at: datetime) -> None:
        h = m.headers
        uniqueid = h.get("uniqueid", "")
        if not uniqueid or uniqueid in self._call_of:
            return
        linkedid = h.get("linkedid")
        if linkedid is None and h.get("channelstatedesc") == "Down":
            self._pending_legs[uniqueid] = (h, at)
            return
        linkedid = linkedid or uniqueid
        call = self.calls.get(linkedid)
        if call is not None:
            self.attach_leg(call, uniqueid)
        elif linkedid not in self.ended:
            self.open_call(h, uniqueid, linkedid, at)

    def _settle_pending(self, name: str, h: dict[str, str]) -> bool:
        """Asterisk 11 has no linkedid: a channel created Down may be a call of its own (an
        originate) or a leg about to be dialled.  It stays pending until an event tells which;
        returns True when the event is fully handled here."""
        pending = self._pending_legs
        uniqueid = h.get("uniqueid", "")
        if name == "Hangup":
            return pending.pop(uniqueid, None) is not None
        if name == "Dial":
            pending.pop(h.get("destuniqueid", ""), None)
        if name in ("LocalBridge", "Bridge"):
            first, second = h.get("uniqueid1", ""), h.get("uniqueid2", "")
            for leg, other in ((first, second), (second, first)):
                call = self.call_of_channel(other)
                if leg in pending and call is not None:
                    del pending[leg]
                    self.attach_leg(call, leg)
            uniqueid = first if first in pending else second
        if uniqueid in pending and name in _PROMOTING:
            headers, at = pending.pop(uniqueid)
            self.open_call(headers, uniqueid, uniqueid, at)
        return False

    def _on_local_bridge(self, m: AmiMessage, at: datetime) -> None:
        """Asterisk 11: the two halves of a Local channel belong to one call."""
        for leg, other in ((m.get("uniqueid1"), m.get("uniqueid2")), (m.get("uniqueid2"), m.get("uniqueid1"))):
            call = self.call_of_channel(other)
            if call is not None and leg not in self._call_of:
                self.attach_leg(call, leg)

    def _on_rename(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is not None and uniqueid == call.caller_uniqueid and m.get("newname"):
            call.caller_channel = m.get("newname")

    def _on_new_callerid(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is None or uniqueid != call.caller_uniqueid:
            return
        vicidial = parse_call_id_pair(
            m.get("calleridname"), m.get("connectedlinename"), lead_id_digits=self.settings.vicidial_lead_id_digits
        )
        if vicidial is not None:
            call.vicidial = vicidial
        elif not _is_unknown(m.get("calleridname")):
            call.caller_name = m.get("calleridname")

    def _on_newstate(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is None or uniqueid == call.caller_uniqueid or m.get("channelstatedesc") != "Ringing":
            return
        if m.get("channel").startswith("Local/"):
            return  # a Local half mirrors the real leg's ringing, which is reported on its own
        agent = self._agent_leg(call, uniqueid, m.get("channel"))
        if agent is not None:
            self.emit(call, "ringing", f"ringing:{uniqueid}", at, uniqueid=uniqueid, agent=agent)

    def _on_dial_begin(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        dest = m.get("destuniqueid")
        if call is None or not dest:
            return
        self._ring(call, dest, m.get("destchannel"), m.get("dialstring"), at)

    def _on_dial_end(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        dest = m.get("destuniqueid")
        if call is None or not dest:
            return
        status = m.get("dialstatus")
        if call.direction == "outbound":
            if status == "ANSWER" and call.agent:
                self.agent_answered(call, call.agent, dest, at)
            return
        if dest not in call.agent_legs:
            return
        if status == "ANSWER":
            self.agent_answered(call, call.agent_legs[dest], dest, at)
        elif status in _NO_ANSWER:
            self._no_answer(call, dest, at)
        elif status == "CANCEL":
            call.agent_legs.pop(dest, None)

    def _on_legacy_dial(self, m: AmiMessage, at: datetime) -> None:
        """Asterisk 11: ``Dial`` with ``SubEvent: Begin|End`` and ``Destination``/``DestUniqueID``."""
        call, _ = self._call_and_ids(m.headers)
        if call is None:
            return
        dest = m.get("destuniqueid")
        if m.get("subevent") == "Begin" and dest:
            self._ring(call, dest, m.get("destination"), m.get("dialstring"), at)
        elif m.get("subevent") == "End" and m.get("dialstatus") in _NO_ANSWER:
            for leg in list(call.agent_legs):
                if leg in call.live and call.agent is None:
                    self._no_answer(call, leg, at)

    def _on_queue_join(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        if call is None:
            return
        queue = m.get("queue")
        call.queue = queue
        if call.queued_at is None:
            call.queued_at = at
        self.emit(call, "queued", f"queued:{queue}", at, extra={"position": m.get("position") or None})

    def _on_queue_abandon(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        if call is not None:
            call.abandoned_in_queue = True

    def _on_agent_called(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        dest = m.get("destuniqueid")
        if call is None:
            return
        call.queue = m.get("queue") or call.queue
        agent = _member_agent(m)
        if dest and agent:
            call.agent_legs[dest] = agent
            self.attach_leg(call, dest)
            self.emit(call, "ringing", f"ringing:{dest}", at, uniqueid=dest, agent=agent)

    def _on_agent_connect(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        if call is None:
            return
        dest = m.get("destuniqueid") or ""
        agent = call.agent_legs.get(dest) or _member_agent(m)
        if agent:
            self.agent_answered(call, agent, dest, at)

    def _on_agent_ring_no_answer(self, m: AmiMessage, at: datetime) -> None:
        call, _ = self._call_and_ids(m.headers)
        dest = m.get("destuniqueid")
        if call is not None and dest:
            call.agent_legs.setdefault(dest, _member_agent(m) or "")
            self._no_answer(call, dest, at)

    def _on_bridge_enter(self, m: AmiMessage, at: datetime) -> None:
        bridge = m.get("bridgeuniqueid")
        uniqueid = m.get("uniqueid")
        if not bridge or not uniqueid:
            return
        members = self._bridges.setdefault(bridge, set())
        for other in members:
            self._link(uniqueid, other, at)
        members.add(uniqueid)

    def _on_bridge_leave(self, m: AmiMessage, at: datetime) -> None:
        members = self._bridges.get(m.get("bridgeuniqueid"))
        if members is not None:
            members.discard(m.get("uniqueid"))
            if not members:
                del self._bridges[m.get("bridgeuniqueid")]

    def _on_legacy_bridge(self, m: AmiMessage, at: datetime) -> None:
        """Asterisk 11: ``Bridge`` with ``Bridgestate: Link`` and ``Uniqueid1``/``Uniqueid2``."""
        if m.get("bridgestate") == "Link":
            self._link(m.get("uniqueid1"), m.get("uniqueid2"), at)

    def _on_blind_transfer(self, m: AmiMessage, at: datetime) -> None:
        call = self._transferee_call(m)
        if call is not None and m.get("extension"):
            self.transferred(call, m.get("extension"), at, how="blind")

    def _on_attended_transfer(self, m: AmiMessage, at: datetime) -> None:
        call = self._transferee_call(m)
        target = extension_of(m.get("transfertargetchannel")) or m.get("secondtransfererconnectedlinenum")
        if call is not None and target:
            self.transferred(call, target, at, how="attended")

    def _on_hold(self, m: AmiMessage, at: datetime) -> None:
        if m.get("status") == "Off":
            self._on_unhold(m, at)
            return
        call, uniqueid = self._call_and_ids(m.headers)
        if call is not None and call.answered and not call.on_hold:
            call.on_hold = True
            call.hold_count += 1
            self.emit(call, "hold", f"hold:{call.hold_count}", at, uniqueid=uniqueid)

    def _on_unhold(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is not None and call.on_hold:
            call.on_hold = False
            self.emit(call, "unhold", f"unhold:{call.hold_count}", at, uniqueid=uniqueid)

    def _on_varset(self, m: AmiMessage, at: datetime) -> None:
        if m.headers.get("variable") not in self._recording_vars:
            return
        call, uniqueid = self._call_and_ids(m.headers)
        file = m.get("value")
        if call is not None and file and file not in call.recording_files:
            call.recording_files.append(file)
            self._emit_recording(call, file, uniqueid, at)

    def _on_mixmonitor_start(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is None:
            return
        variables = m.channel_variables()
        file = next((variables[v] for v in self._recording_vars if variables.get(v)), None)
        if file and file not in call.recording_files:
            call.recording_files.append(file)
            self._emit_recording(call, file, uniqueid, at)

    def _on_hangup(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is None:
            return
        self._call_of.pop(uniqueid, None)
        call.live.discard(uniqueid)
        self._hung_up[uniqueid] = None
        if len(self._hung_up) > _ENDED_KEPT:
            self._hung_up.popitem(last=False)
        if uniqueid == call.caller_uniqueid or call.hangup_cause is None:
            call.hangup_cause = m.get("cause") or None
            call.hangup_cause_txt = m.get("cause-txt") or None
        if uniqueid in call.agent_legs and not call.answered and uniqueid != call.caller_uniqueid:
            self._no_answer(call, uniqueid, at)
        if not call.live:
            self.finish(call, at)

    # ------------------------------------------------------------ call facts

    def _ring(self, call: Call, dest: str, channel: str, dial_string: str, at: datetime) -> None:
        self.attach_leg(call, dest)
        target = dial_string.rsplit("/", 1)[-1] if dial_string else ""
        if call.direction == "outbound" or normalise_phone(target):
            return
        agent = extension_of(channel or "")
        if agent:
            call.agent_legs[dest] = agent
            self.emit(call, "ringing", f"ringing:{dest}", at, uniqueid=dest, agent=agent)

    def _agent_leg(self, call: Call, uniqueid: str, channel: str) -> str | None:
        if uniqueid in call.agent_legs:
            return call.agent_legs[uniqueid]
        if call.direction == "outbound":
            return None
        agent = extension_of(channel or "")
        if agent:
            call.agent_legs[uniqueid] = agent
        return agent

    def _link(self, first: str, second: str, at: datetime) -> None:
        for leg, other in ((first, second), (second, first)):
            call = self.call_of_channel(other)
            if call is None or other != call.caller_uniqueid:
                continue
            agent_call = self.call_of_channel(leg)
            agent = call.agent_legs.get(leg)
            if agent is None and agent_call is not None and agent_call is not call:
                agent = agent_call.agent_legs.get(leg) or (agent_call.agent if agent_call.internal else None)
                agent = agent or extension_of(agent_call.caller_channel)
            if agent:
                self.agent_answered(call, agent, leg, at)

    def _no_answer(self, call: Call, leg: str, at: datetime) -> None:
        agent = call.agent_legs.get(leg) or None
        self.emit(call, "agent_no_answer", f"agent_no_answer:{leg}", at, uniqueid=leg, agent=agent)

    def _transferee_call(self, m: AmiMessage) -> Call | None:
        linkedid = m.get("transfereelinkedid") or self._call_of.get(m.get("transfereeuniqueid"), "")
        return self.calls.get(linkedid)

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
        while len(self.ended) > _ENDED_KEPT:
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


def _is_unknown(value: str | None) -> bool:
    return not value or value == "<unknown>"


def _member_agent(m: AmiMessage) -> str | None:
    member = m.get("membername")
    if member and "/" not in member:
        return member
    return extension_of(m.get("interface") or m.get("destchannel") or member or "")


def recording_url_for(template: str, file: str) -> str:
    """A recording file as a URL through ``template`` ({file}, {name} and {stem} are filled in)."""
    name = file.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return template.format(file=file, name=name, stem=stem)
