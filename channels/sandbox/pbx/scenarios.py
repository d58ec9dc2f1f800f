"""Scripted calls the sandbox PBX plays, event by event, the way Asterisk 13+ reports them.

Each call arrives on a trunk with the caller's number and the DID, gets its VICIdial call id
(``Y`` + ``mddhhmmss`` + 10-digit lead id) in the caller-id name, waits in an in-group queue and is
offered to agents.  Scenarios: answered, abandoned_in_queue, agent_no_answer,
caller_hangs_up_ringing, blind_transfer, attended_transfer; routed (plain Asterisk: the call waits
until Switchboard sends a Redirect), click_to_call (an Originate) and VICIdial's own routing
(vicidial_inbound, vicidial_closer_transfer: agents seated in their session conferences).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from channels.sandbox.pbx.state import PbxChannel

if TYPE_CHECKING:
    from channels.sandbox.pbx.server import AmiServer

_bridges = itertools.count(1)


@dataclass(slots=True)
class CallParams:
    caller: str = "0671234567"
    did: str = "0442900000"
    queue: str = "ingroup_kyiv"
    agent: str = "1001"
    agent2: str = "1002"
    lead_id: int | None = None
    wait: float = 1.0
    ring: float = 2.0
    talk: float = 6.0
    vicidial: bool = True
    trunk: str = "PJSIP/kyivstar"


def vicidial_call_id(prefix: str, lead_id: int, at: float | None = None) -> str:
    """A VICIdial call id as agi-VDAD_ALL_inbound / AST_VDauto_dial make it: ``mddhhmmss`` + lead."""
    stamp = time.strftime("%m%d%H%M%S", time.localtime(at))[1:]
    return f"{prefix}{stamp}{lead_id:010d}"


class CallScript:
    """One call on the sandbox PBX, driven step by step by a scenario."""

    def __init__(self, pbx: AmiServer, params: CallParams) -> None:
        self.pbx = pbx
        self.p = params
        self.lead_id = params.lead_id or random.randint(1000, 9_999_999)
        self.call_id = vicidial_call_id("Y", self.lead_id) if params.vicidial else None
        self.caller: PbxChannel | None = None
        self.bridge = ""
        self.legs: list[PbxChannel] = []

    @property
    def linkedid(self) -> str:
        assert self.caller is not None
        return self.caller.linkedid

    def arrive(self) -> PbxChannel:
        p = self.p
        caller = self.pbx.state.new_channel(p.trunk, caller_num=p.caller, context="from-trunk", exten=p.did, state="Ring")
        self.caller = caller
        self.pbx.emit("Newchannel", caller.headers())
        self.pbx.emit("VarSet", [*caller.headers(), ("Variable", "SIPCALLID"), ("Value", uuid.uuid4().hex)])
        if self.call_id:
            caller.caller_name = self.call_id
            self.pbx.emit("NewCallerid", [*caller.headers(), ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])
        return caller

    def join_queue(self) -> None:
        caller = self._caller()
        caller.application, caller.application_data = "Queue", f"{self.p.queue},t,,,300"
        self.pbx.emit("QueueCallerJoin", [*caller.headers(), ("Queue", self.p.queue), ("Position", "1"), ("Count", "1")])

    def ring(self, agent: str, *, from_queue: bool = True) -> PbxChannel:
        caller = self._caller()
        leg = self.pbx.state.new_channel(
            f"PJSIP/{agent}", linkedid=caller.linkedid, caller_num=caller.caller_num, caller_name=caller.caller_name,
            context="from-queue" if from_queue else "from-internal", exten=agent,
        )
        leg.connected_num, leg.connected_name = caller.caller_num, caller.caller_name
        self.legs.append(leg)
        self.pbx.emit("Newchannel", leg.headers())
        if from_queue:
            self.pbx.emit("AgentCalled", [*caller.headers(), *leg.headers("Dest"), ("Queue", self.p.queue),
                                          ("MemberName", f"PJSIP/{agent}"), ("Interface", f"PJSIP/{agent}")])
        self.pbx.emit("DialBegin", [*caller.headers(), *leg.headers("Dest"), ("DialString", agent)])
        leg.state = "Ringing"
        self.pbx.emit("Newstate", leg.headers())
        return leg

    def answer(self, leg: PbxChannel, *, from_queue: bool = True) -> None:
        caller = self._caller()
        leg.state = "Up"
        self.pbx.emit("Newstate", leg.headers())
        self.pbx.emit("DialEnd", [*caller.headers(), *leg.headers("Dest"), ("DialStatus", "ANSWER")])
        if from_queue:
            self.pbx.emit("QueueCallerLeave", [*caller.headers(), ("Queue", self.p.queue), ("Position", "1"), ("Count", "0")])
            self.pbx.emit("AgentConnect", [*caller.headers(), *leg.headers("Dest"), ("Queue", self.p.queue),
                                           ("MemberName", f"PJSIP/{leg.exten}"), ("Interface", f"PJSIP/{leg.exten}"),
                                           ("HoldTime", "2"), ("RingTime", "1")])
        caller.state = "Up"
        self.enter_bridge(leg, caller)
        self.record(leg)

    def enter_bridge(self, *channels: PbxChannel) -> None:
        if not self.bridge:
            self.bridge = f"{uuid.uuid4()}-{next(_bridges)}"
        for n, channel in enumerate(channels, start=1):
            channel.bridge_id = self.bridge
            self.pbx.emit("BridgeEnter", [("BridgeUniqueid", self.bridge), ("BridgeType", "basic"),
                                          ("BridgeTechnology", "simple_bridge"), ("BridgeNumChannels", str(n)), *channel.headers()])

    def leave_bridge(self, channel: PbxChannel) -> None:
        if channel.bridge_id:
            self.pbx.emit("BridgeLeave", [("BridgeUniqueid", channel.bridge_id), ("BridgeType", "basic"), *channel.headers()])
            channel.bridge_id = ""

    def record(self, leg: PbxChannel) -> None:
        caller = self._caller()
        file = f"{time.strftime('%Y%m%d-%H%M%S')}_{caller.caller_num}_{leg.exten}-all"
        caller.variables["MIXMONITOR_FILENAME"] = f"/var/spool/asterisk/monitor/{file}.wav"
        self.pbx.emit("VarSet", [*caller.headers(), ("Variable", "MIXMONITOR_FILENAME"), ("Value", caller.variables["MIXMONITOR_FILENAME"])])
        self.pbx.emit("MixMonitorStart", caller.headers())
        self.pbx.recordings.append({
            "start_time": time.strftime("%Y-%m-%d %H:%M:%S"), "user": leg.exten, "recording_id": str(len(self.pbx.recordings) + 1),
            "lead_id": str(self.lead_id), "uniqueid": caller.uniqueid,
            "location": f"http://127.0.0.1/RECORDINGS/MP3/{file}.mp3",
        })

    def no_answer(self, leg: PbxChannel) -> None:
        caller = self._caller()
        self.pbx.emit("DialEnd", [*caller.headers(), *leg.headers("Dest"), ("DialStatus", "NOANSWER")])
        self.pbx.emit("AgentRingNoAnswer", [*caller.headers(), *leg.headers("Dest"), ("Queue", self.p.queue),
                                               ("MemberName", f"PJSIP/{leg.exten}"), ("Interface", f"PJSIP/{leg.exten}"), ("RingTime", "15")])
        self.pbx.hangup_channel(leg, cause="19", cause_txt="No user responding")

    def hold(self, held: bool) -> None:
        caller = self._caller()
        self.pbx.emit("Hold" if held else "Unhold", [*caller.headers(), *([("MusicClass", "default")] if held else [])])

    def hang_up(self, *, cause: str = "16", cause_txt: str = "Normal Clearing") -> None:
        caller = self._caller()
        for channel in [*self.legs, caller]:
            self.leave_bridge(channel)
        for channel in [*self.legs, caller]:
            self.pbx.hangup_channel(channel, cause=cause, cause_txt=cause_txt)

    def abandon(self) -> None:
        caller = self._caller()
        self.pbx.emit("QueueCallerAbandon", [*caller.headers(), ("Queue", self.p.queue), ("Position", "1"),
                                                ("OriginalPosition", "1"), ("HoldTime", str(int(self.p.wait)))])
        self.pbx.emit("QueueCallerLeave", [*caller.headers(), ("Queue", self.p.queue), ("Position", "1"), ("Count", "0")])
        self.hang_up()

    def seat(self, agent: str) -> tuple[str, PbxChannel]:
        """The agent's VICIdial session: an ``S`` call from VICIdial to the agent's phone, parked in
        the agent's conference for the whole login.  Seated once per agent."""
        seated = self.pbx.seated_agents.get(agent)
        if seated is not None:
            return seated
        conference = f"86000{len(self.pbx.seated_agents) + 51}"
        phone = self.pbx.state.new_channel(f"PJSIP/{agent}", caller_num="0000000000", context="default", exten=conference,
                                           caller_name=vicidial_call_id("S", int(conference)), state="Up")
        phone.application, phone.application_data = "ConfBridge", conference
        self.pbx.emit("Newchannel", phone.headers())
        self.pbx.emit("ConfbridgeJoin", [("Conference", conference), *phone.headers(), ("Admin", "No"), ("Muted", "No")])
        self.pbx.seated_agents[agent] = (conference, phone)
        return conference, phone

    def join_agent(self, agent: str) -> None:
        """VICIdial sends the call into the agent's conference (what its Redirect to 86000xx does)."""
        caller = self._caller()
        conference, _ = self.seat(agent)
        if caller.application == "ConfBridge":
            self.pbx.emit("ConfbridgeLeave", [("Conference", caller.application_data), *caller.headers()])
        caller.state, caller.application, caller.application_data = "Up", "ConfBridge", conference
        self.pbx.emit("ConfbridgeJoin", [("Conference", conference), *caller.headers(), ("Admin", "No"), ("Muted", "No")])

    def _caller(self) -> PbxChannel:
        assert self.caller is not None, "the call has not arrived"
        return self.caller


Scenario = Callable[["AmiServer", CallScript], Awaitable[None]]


async def answered(pbx: AmiServer, call: CallScript) -> None:
    call.arrive()
    await pbx.pause(call.p.wait)
    call.join_queue()
    leg = call.ring(call.p.agent)
    await pbx.pause(call.p.ring)
    call.answer(leg)
    await pbx.pause(call.p.talk / 2)
    call.hold(True)
    await pbx.pause(1)
    call.hold(False)
    await pbx.pause(call.p.talk / 2)
    call.hang_up()


async def abandoned_in_queue(pbx: AmiServer, call: CallScript) -> None:
    call.arrive()
    call.join_queue()
    await pbx.pause(call.p.wait)
    call.abandon()


async def agent_no_answer(pbx: AmiServer, call: CallScript) -> None:
    call.arrive()
    call.join_queue()
    first = call.ring(call.p.agent)
    await pbx.pause(call.p.ring)
    call.no_answer(first)
    call.legs.remove(first)
    second = call.ring(call.p.agent2)
    await pbx.pause(call.p.ring)
    call.answer(second)
    await pbx.pause(call.p.talk)
    call.hang_up()


async def caller_hangs_up_ringing(pbx: AmiServer, call: CallScript) -> None:
    call.arrive()
    call.join_queue()
    leg = call.ring(call.p.agent)
    await pbx.pause(call.p.ring)
    caller = call._caller()
    pbx.emit("DialEnd", [*caller.headers(), *leg.headers("Dest"), ("DialStatus", "CANCEL")])
    call.abandon()


async def blind_transfer(pbx: AmiServer, call: CallScript) -> None:
    call.arrive()
    call.join_queue()
    first = call.ring(call.p.agent)
    call.answer(first)
    await pbx.pause(call.p.talk / 2)
    caller = call._caller()
    pbx.emit("BlindTransfer", [("Result", "Success"), *_prefixed(first, "Transferer"), *_prefixed(caller, "Transferee"),
                               ("IsExternal", "No"), ("Context", "from-internal"), ("Extension", call.p.agent2)])
    call.leave_bridge(first)
    pbx.hangup_channel(first, cause="16", cause_txt="Normal Clearing")
    call.legs.remove(first)
    second = call.ring(call.p.agent2, from_queue=False)
    await pbx.pause(call.p.ring)
    call.answer(second, from_queue=False)
    await pbx.pause(call.p.talk / 2)
    call.hang_up()


async def attended_transfer(pbx: AmiServer, call: CallScript) -> None:
    call.arrive()
    call.join_queue()
    first = call.ring(call.p.agent)
    call.answer(first)
    await pbx.pause(call.p.talk / 3)
    call.hold(True)
    consult = CallScript(pbx, CallParams(caller=call.p.agent, did=call.p.agent2, trunk=f"PJSIP/{call.p.agent}", vicidial=False))
    consult_caller = consult.arrive()
    target = consult.ring(call.p.agent2, from_queue=False)
    await pbx.pause(call.p.ring)
    consult.answer(target, from_queue=False)
    await pbx.pause(call.p.talk / 3)
    caller = call._caller()
    pbx.emit("AttendedTransfer", [("Result", "Success"), *_prefixed(first, "OrigTransferer"), *_prefixed(consult_caller, "SecondTransferer"),
                                  ("DestType", "Bridge"), *_prefixed(caller, "Transferee"), *_prefixed(target, "TransferTarget")])
    call.leave_bridge(first)
    consult.leave_bridge(consult_caller)
    for channel in (first, consult_caller):
        pbx.hangup_channel(channel, cause="16", cause_txt="Normal Clearing")
    call.legs.remove(first)
    consult.leave_bridge(target)
    call.legs.append(target)
    call.enter_bridge(target)
    call.hold(False)
    await pbx.pause(call.p.talk / 3)
    call.hang_up()


async def vicidial_inbound(pbx: AmiServer, call: CallScript) -> None:
    """VICIdial's own in-group: its AGI holds the call, then connects it into the agent's session."""
    call.seat(call.p.agent)
    caller = call.arrive()
    caller.application, caller.application_data = "AGI", "agi://127.0.0.1:4577/call_log--fullCID--"
    await pbx.pause(call.p.wait)
    call.join_agent(call.p.agent)
    await pbx.pause(call.p.talk)
    pbx.emit("ConfbridgeLeave", [("Conference", caller.application_data), *caller.headers()])
    call.hang_up()


async def vicidial_closer_transfer(pbx: AmiServer, call: CallScript) -> None:
    """The first agent sends the client to a closer: from one agent session to another."""
    call.seat(call.p.agent2)
    call.seat(call.p.agent)
    caller = call.arrive()
    await pbx.pause(call.p.wait)
    call.join_agent(call.p.agent)
    await pbx.pause(call.p.talk / 2)
    call.join_agent(call.p.agent2)
    await pbx.pause(call.p.talk / 2)
    pbx.emit("ConfbridgeLeave", [("Conference", caller.application_data), *caller.headers()])
    call.hang_up()


async def routed(pbx: AmiServer, call: CallScript) -> None:
    """Plain Asterisk: the call waits in the dialplan until a Redirect sends it to an agent."""
    caller = call.arrive()
    caller.application, caller.application_data = "Wait", "300"
    waiting: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    pbx.waiting_calls[caller.name] = waiting
    try:
        extension = await asyncio.wait_for(waiting, 60 * pbx.time_scale if pbx.time_scale else None)
    except TimeoutError:
        call.hang_up()
        return
    finally:
        pbx.waiting_calls.pop(caller.name, None)
    leg = call.ring(extension, from_queue=False)
    await pbx.pause(call.p.ring)
    call.answer(leg, from_queue=False)
    await pbx.pause(call.p.talk)
    call.hang_up()


def _prefixed(channel: PbxChannel, prefix: str) -> list[tuple[str, str]]:
    return [(prefix + key, value) for key, value in channel.headers()]


SCENARIOS: dict[str, Scenario] = {
    "answered": answered,
    "abandoned_in_queue": abandoned_in_queue,
    "agent_no_answer": agent_no_answer,
    "caller_hangs_up_ringing": caller_hangs_up_ringing,
    "blind_transfer": blind_transfer,
    "attended_transfer": attended_transfer,
    "routed": routed,
    "vicidial_inbound": vicidial_inbound,
    "vicidial_closer_transfer": vicidial_closer_transfer,
}
TRAFFIC_MIX = {
    "answered": 5, "vicidial_inbound": 2, "abandoned_in_queue": 1, "agent_no_answer": 1, "caller_hangs_up_ringing": 1,
    "blind_transfer": 1, "attended_transfer": 1, "vicidial_closer_transfer": 1,
}
