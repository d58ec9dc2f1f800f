"""A sandbox Asterisk Manager Interface server over TCP.

It speaks the real protocol: the ``Asterisk Call Manager/5.0.4`` greeting, Login/Logoff/Ping/Events,
CoreShowChannels and Status as event lists (``EventList: start`` ... ``EventList: Complete``),
Redirect, Originate (with ``OriginateResponse``) and Hangup, every response carrying the client's
ActionID.  Calls are played by :mod:`channels.sandbox.pbx.scenarios`; faults are injected on demand
for tests (garbage bytes, a packet cut in the middle, pings left unanswered, refused logins).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from channels.sandbox.pbx.scenarios import SCENARIOS, TRAFFIC_MIX, CallParams, CallScript, vicidial_call_id
from channels.sandbox.pbx.state import PbxChannel, PbxState
from channels.sandbox.pbx.wire import GREETING, MAX_ACTION, message, read_action

RedirectHook = Callable[[PbxChannel, str, str], Awaitable[None]]
OriginateHook = Callable[[dict[str, str]], Awaitable[None]]


@dataclass(slots=True)
class Faults:
    """Misbehaviour to inject: refuse every login, or leave pings unanswered."""

    refuse_login: bool = False
    ignore_pings: bool = False


class _Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self.events_on = True

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


class AmiServer:
    def __init__(self, *, username: str = "switchboard", secret: str = "sandbox", time_scale: float = 1.0) -> None:
        self.username = username
        self.secret = secret
        self.time_scale = time_scale
        self.state = PbxState()
        self.faults = Faults()
        self.actions_seen: list[dict[str, str]] = []
        self.on_redirect: RedirectHook | None = self._continue_routed_call
        self.on_originate: OriginateHook | None = self._click_to_call
        self.recordings: list[dict[str, str]] = []
        self.waiting_calls: dict[str, asyncio.Future[str]] = {}
        self.seated_agents: dict[str, tuple[str, PbxChannel]] = {}
        self._sessions: set[_Session] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._login = asyncio.Condition()
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_ACTION)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.drop_sessions()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def spawn(self, coroutine: Awaitable[object]) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def pause(self, seconds: float) -> None:
        """Scenario time: ``seconds`` scaled by ``time_scale`` (0 in tests: just yield)."""
        await asyncio.sleep(seconds * self.time_scale)

    # ------------------------------------------------------------- traffic

    async def play(self, scenario: str, **params: object) -> str:
        """Play one scripted call to its end; returns its linkedid."""
        script = CallScript(self, CallParams(**params))  # type: ignore[arg-type]
        task = self.spawn(SCENARIOS[scenario](self, script))
        await task
        return script.linkedid

    def start_call(self, scenario: str, **params: object) -> CallScript:
        """Start a scripted call in the background; the script exposes its channels as it goes."""
        script = CallScript(self, CallParams(**params))  # type: ignore[arg-type]
        self.spawn(SCENARIOS[scenario](self, script))
        return script

    async def run_traffic(
        self, rate_per_s: float, duration_s: float | None = None, *, agents: list[str], callers: list[str],
        mix: dict[str, int] | None = None,
    ) -> int:
        """New calls at ``rate_per_s`` for ``duration_s`` seconds (for ever with ``None``); returns how
        many were started."""
        weights = mix or TRAFFIC_MIX
        names, counts = list(weights), list(weights.values())
        started = 0
        begin = time.monotonic()
        while duration_s is None or started < rate_per_s * duration_s:
            first, second = random.sample(agents, 2) if len(agents) > 1 else (agents[0], agents[0])
            self.start_call(random.choices(names, counts)[0], caller=random.choice(callers), agent=first, agent2=second)
            started += 1
            await asyncio.sleep(max(0.0, begin + started / rate_per_s - time.monotonic()))
        return started

    async def _continue_routed_call(self, channel: PbxChannel, extension: str, context: str) -> None:
        waiting = self.waiting_calls.get(channel.name)
        if waiting is not None and not waiting.done():
            waiting.set_result(extension)

    async def _click_to_call(self, action: dict[str, str]) -> None:
        """An Originate: the agent's phone rings and answers, then the client is dialled."""
        endpoint = action["channel"]
        agent = endpoint.split("/", 1)[-1]
        number = action.get("exten", "")
        callerid = action.get("callerid", "")
        phone = self.state.new_channel(endpoint, uniqueid=action.get("channelid") or None, caller_num=agent,
                                       caller_name="" if "<" in callerid else callerid,
                                       context=action.get("context", "from-internal"), exten=number)
        self.emit("Newchannel", phone.headers())
        phone.state = "Ringing"
        self.emit("Newstate", phone.headers())
        await self.pause(1)
        phone.state = "Up"
        self.emit("Newstate", phone.headers())
        self.emit("OriginateResponse", [("ActionID", action.get("actionid", "")), ("Response", "Success"), ("Channel", phone.name),
                                        ("Context", phone.context), ("Exten", number), ("Reason", "4"), ("Uniqueid", phone.uniqueid),
                                        ("CallerIDNum", agent), ("CallerIDName", "<unknown>")])
        script = CallScript(self, CallParams(caller=agent, did=number, vicidial=False))
        script.caller = phone
        trunk = self.state.new_channel("PJSIP/kyivstar", linkedid=phone.linkedid, caller_num=agent, context="from-internal", exten=number)
        script.legs.append(trunk)
        self.emit("Newchannel", trunk.headers())
        self.emit("DialBegin", [*phone.headers(), *trunk.headers("Dest"), ("DialString", f"kyivstar/{number}")])
        await self.pause(2)
        trunk.state = "Up"
        self.emit("DialEnd", [*phone.headers(), *trunk.headers("Dest"), ("DialStatus", "ANSWER")])
        script.enter_bridge(phone, trunk)
        await self.pause(5)
        script.hang_up()

    def vicidial_manual_dial(self, agent: str, number: str, lead_id: int) -> None:
        """What VICIdial does for agc/api.php external_dial: an ``M`` call from the agent's session."""
        self.spawn(self._click_to_call({"channel": f"PJSIP/{agent}", "exten": number, "context": "default",
                                        "callerid": vicidial_call_id("M", lead_id)}))

    # -------------------------------------------------------- event output

    @property
    def logged_in_sessions(self) -> int:
        return sum(1 for s in self._sessions if s.logged_in)

    async def wait_for_login(self, count: int = 1, timeout: float = 10.0) -> None:
        async with self._login:
            await asyncio.wait_for(self._login.wait_for(lambda: self.logged_in_sessions >= count), timeout)

    def emit(self, event: str, headers: Iterable[tuple[str, str]]) -> None:
        """Send one event to every logged-in session that wants events."""
        data = message([("Event", event), ("Privilege", "call,all"), ("Timestamp", f"{time.time():.6f}"), *headers])
        self.broadcast(data)

    def broadcast(self, data: bytes) -> None:
        for session in self._sessions:
            if session.logged_in and session.events_on:
                session.send(data)

    async def flush(self) -> None:
        for session in list(self._sessions):
            with contextlib.suppress(ConnectionError):
                await session.writer.drain()

    # -------------------------------------------------------------- faults

    def inject_raw(self, data: bytes) -> None:
        """Bytes that are not AMI (garbage, a huge header) straight onto every session."""
        self.broadcast(data)

    def cut_mid_packet(self, event: str = "Newchannel") -> None:
        """Send half an event, then close every session."""
        half = message([("Event", event), ("Channel", "PJSIP/cut-00000001"), ("Uniqueid", "0.0")])[:25]
        self.broadcast(half)
        self.drop_sessions()

    def drop_sessions(self) -> None:
        for session in list(self._sessions):
            session.writer.close()
        self._sessions.clear()

    # ------------------------------------------------------------ sessions

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(reader, writer)
        self._sessions.add(session)
        session.send(GREETING)
        try:
            while not writer.is_closing():
                action = await read_action(reader)
                if action is None:
                    break
                self.actions_seen.append(action)
                await self._answer(session, action)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._sessions.discard(session)
            writer.close()

    async def _answer(self, session: _Session, action: dict[str, str]) -> None:
        name = action.get("action", "").lower()
        action_id = [("ActionID", action["actionid"])] if "actionid" in action else []
        if name == "login":
            await self._answer_login(session, action, action_id)
            return
        if not session.logged_in:
            session.send(message([("Response", "Error"), *action_id, ("Message", "Permission denied")]))
            return
        handler = {
            "ping": self._ping, "logoff": self._logoff, "events": self._events,
            "coreshowchannels": self._core_show_channels, "status": self._status,
            "redirect": self._redirect, "originate": self._originate, "hangup": self._hangup,
        }.get(name)
        if handler is None:
            session.send(message([("Response", "Error"), *action_id, ("Message", "Invalid/unknown command")]))
        else:
            await handler(session, action, action_id)

    async def _answer_login(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        if self.faults.refuse_login or action.get("username") != self.username or action.get("secret") != self.secret:
            session.send(message([("Response", "Error"), *action_id, ("Message", "Authentication failed")]))
            await session.writer.drain()
            session.writer.close()
            return
        session.logged_in = True
        session.events_on = action.get("events", "on").lower() != "off"
        session.send(message([("Response", "Success"), *action_id, ("Message", "Authentication accepted")]))
        session.send(message([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "1000"), ("LastReload", "1000"), ("Status", "Fully Booted")]))
        async with self._login:
            self._login.notify_all()

    async def _ping(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        if not self.faults.ignore_pings:
            session.send(message([("Response", "Success"), *action_id, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]))

    async def _logoff(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        session.send(message([("Response", "Goodbye"), *action_id, ("Message", "Thanks for all the fish.")]))
        await session.writer.drain()
        session.writer.close()

    async def _events(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        session.events_on = action.get("eventmask", "on").lower() != "off"
        session.send(message([("Response", "Success"), *action_id, ("Events", "On" if session.events_on else "Off")]))

    async def _core_show_channels(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        channels = list(self.state.channels.values())
        session.send(message([("Response", "Success"), *action_id, ("EventList", "start"), ("Message", "Channels will follow")]))
        for c in channels:
            session.send(message([
                ("Event", "CoreShowChannel"), *action_id, *c.headers(), ("Application", c.application),
                ("ApplicationData", c.application_data), ("Duration", c.duration()), ("BridgeId", c.bridge_id),
            ]))
        session.send(message([("Event", "CoreShowChannelsComplete"), *action_id, ("EventList", "Complete"), ("ListItems", str(len(channels)))]))

    async def _status(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        wanted = action.get("channel", "")
        channels = [c for c in self.state.channels.values() if not wanted or c.name == wanted]
        session.send(message([("Response", "Success"), *action_id, ("EventList", "start"), ("Message", "Channel status will follow")]))
        for c in channels:
            seconds = str(int(time.monotonic() - c.created))
            session.send(message([
                ("Event", "Status"), *action_id, *c.headers(), ("Type", c.name.split("/", 1)[0]), ("Application", c.application),
                ("Data", c.application_data), ("Seconds", seconds), ("BridgeID", c.bridge_id),
            ]))
        session.send(message([("Event", "StatusComplete"), *action_id, ("EventList", "Complete"), ("ListItems", str(len(channels))), ("Items", str(len(channels)))]))

    async def _redirect(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        channel = self.state.by_name(action.get("channel", ""))
        if channel is None:
            session.send(message([("Response", "Error"), *action_id, ("Message", "Channel does not exist: " + action.get("channel", ""))]))
            return
        session.send(message([("Response", "Success"), *action_id, ("Message", "Redirect successful")]))
        if self.on_redirect is not None:
            self.spawn(self.on_redirect(channel, action.get("exten", ""), action.get("context", "")))

    async def _originate(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        if not action.get("channel") or not (action.get("exten") or action.get("application")):
            session.send(message([("Response", "Error"), *action_id, ("Message", "Channel and Exten or Application required")]))
            return
        session.send(message([("Response", "Success"), *action_id, ("Message", "Originate successfully queued")]))
        if self.on_originate is not None:
            self.spawn(self.on_originate(action))

    async def _hangup(self, session: _Session, action: dict[str, str], action_id: list) -> None:
        channel = self.state.by_name(action.get("channel", ""))
        if channel is None:
            session.send(message([("Response", "Error"), *action_id, ("Message", "No such channel")]))
            return
        session.send(message([("Response", "Success"), *action_id, ("Message", "Channel Hungup")]))
        self.hangup_channel(channel, cause="16", cause_txt="Normal Clearing")

    def hangup_channel(self, channel: PbxChannel, *, cause: str, cause_txt: str) -> None:
        """Hang one channel up: HangupRequest, Hangup, and it leaves the channel list."""
        if channel.uniqueid not in self.state.channels:
            return
        self.emit("HangupRequest", [*channel.headers(), ("Cause", cause)])
        self.emit("Hangup", [*channel.headers(), ("Cause", cause), ("Cause-txt", cause_txt)])
        self.state.remove(channel)
