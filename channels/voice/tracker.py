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

from collections.abc import Callable
from datetime import datetime

from channels.base import Inbound, utcnow
from channels.voice.call import Call, event_time, extension_of
from channels.voice.call_book import ENDED_KEPT, is_unknown
from channels.voice.codec import AmiMessage
from channels.voice.legacy_events import LEGACY_NAMES, NO_ANSWER, Asterisk11Events
from channels.voice.settings import VoiceSettings
from channels.voice.vicidial_ids import parse_call_id_pair

__all__ = ["CallTracker"]


class CallTracker(Asterisk11Events):
    """Follows every call on one AMI connection and emits its call events through ``emit``."""

    def __init__(
        self, settings: VoiceSettings, emit: Callable[[Inbound], None], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__(settings, emit, clock=clock)
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
            "ConfbridgeJoin": self._on_conference_join,
            "MeetmeJoin": self._on_conference_join,
            "ConfbridgeLeave": self._on_conference_leave,
            "MeetmeLeave": self._on_conference_leave,
        }
        self._conference_agents: dict[str, tuple[str, str]] = {}
        self._wanted_names = frozenset(n.encode() for n in (*self._handlers, *LEGACY_NAMES))

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
        handler = self._handlers.get(name) or self._handlers.get(LEGACY_NAMES.get(name, ""))
        if handler is None:
            return
        at = event_time(message.headers.get("timestamp"), self._clock())
        if self._pending_legs and name != "Newchannel" and self._settle_pending(name, message.headers):
            return
        handler(message, at)

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

    def _on_new_callerid(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is None or uniqueid != call.caller_uniqueid:
            return
        vicidial = parse_call_id_pair(
            m.get("calleridname"), m.get("connectedlinename"), lead_id_digits=self.settings.vicidial_lead_id_digits
        )
        if vicidial is not None:
            call.vicidial = vicidial
        elif not is_unknown(m.get("calleridname")):
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
        self.ring_leg(call, dest, m.get("destchannel"), m.get("dialstring"), at)

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
        elif status in NO_ANSWER:
            self._no_answer(call, dest, at)
        elif status == "CANCEL":
            call.agent_legs.pop(dest, None)

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

    def _on_conference_join(self, m: AmiMessage, at: datetime) -> None:
        """VICIdial seats each logged-in agent in a conference (``86000xx``) and sends an inbound call
        straight into it: no ringing phone.  The agent's own session call (an ``S`` call or the phone
        dialling in) marks whose conference it is; a client's call joining it is answered by that agent
        (ringing and answered come together), joining another agent's conference is a transfer."""
        conference = m.get("conference") or m.get("meetme")
        call, uniqueid = self._call_and_ids(m.headers)
        if conference and call is not None:
            self.conference_joined(call, conference, uniqueid, m.get("channel"), at)

    def conference_joined(self, call: Call, conference: str, uniqueid: str, channel: str, at: datetime) -> None:
        """A channel is in a conference: an agent's session seats the agent, a client meets them."""
        if call.internal:
            agent = extension_of(channel)
            if agent:
                self._conference_agents[conference] = (agent, uniqueid)
            return
        seated = self._conference_agents.get(conference)
        if seated is not None:
            agent = seated[0]
            if not call.answered:
                self.emit(call, "ringing", f"ringing:{conference}:{uniqueid}", at, uniqueid=uniqueid, agent=agent)
            self.agent_answered(call, agent, uniqueid, at)

    def _on_conference_leave(self, m: AmiMessage, at: datetime) -> None:
        conference = m.get("conference") or m.get("meetme")
        seated = self._conference_agents.get(conference)
        if seated is not None and seated[1] == m.get("uniqueid"):
            del self._conference_agents[conference]

    def _on_hangup(self, m: AmiMessage, at: datetime) -> None:
        call, uniqueid = self._call_and_ids(m.headers)
        if call is None:
            return
        self._call_of.pop(uniqueid, None)
        call.live.discard(uniqueid)
        self._hung_up[uniqueid] = None
        if len(self._hung_up) > ENDED_KEPT:
            self._hung_up.popitem(last=False)
        if uniqueid == call.caller_uniqueid or call.hangup_cause is None:
            call.hangup_cause = m.get("cause") or None
            call.hangup_cause_txt = m.get("cause-txt") or None
        if uniqueid in call.agent_legs and not call.answered and uniqueid != call.caller_uniqueid:
            self._no_answer(call, uniqueid, at)
        if not call.live:
            self.finish(call, at)

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

    def _transferee_call(self, m: AmiMessage) -> Call | None:
        linkedid = m.get("transfereelinkedid") or self._call_of.get(m.get("transfereeuniqueid"), "")
        return self.calls.get(linkedid)


def _member_agent(m: AmiMessage) -> str | None:
    member = m.get("membername")
    if member and "/" not in member:
        return member
    return extension_of(m.get("interface") or m.get("destchannel") or member or "")
