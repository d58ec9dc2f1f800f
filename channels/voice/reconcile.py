"""After a (re)connect: compare the PBX's live channels with the calls the tracker knows.

AMI has no replay: whatever happened while the socket was down is gone.  ``CoreShowChannels`` (and
``Status``, which also carries the linkedid on Asterisk 11-era servers' bridged channels) list what is
live now.  A call live on the PBX but unknown here is opened (``started``, plus ``queued``,
``ringing`` or ``answered`` as its channels show); a call known here but no longer on the PBX is
finished (``hangup`` with ``reconciled: true``).  The keys of these events are the ones the live
events would have had, so re-emitting one the engine already stored is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.voice.call import Call, extension_of
from channels.voice.codec import AmiMessage
from channels.voice.tracker import CallTracker


@dataclass(frozen=True, slots=True)
class LiveChannel:
    uniqueid: str
    linkedid: str
    channel: str
    state: str
    caller_num: str
    caller_name: str
    connected_name: str
    exten: str
    application: str
    application_data: str
    age_seconds: float
    bridged: bool

    def headers(self) -> dict[str, str]:
        """The channel as Newchannel-like headers, to open a call from it."""
        return {
            "channel": self.channel, "calleridnum": self.caller_num, "calleridname": self.caller_name,
            "connectedlinename": self.connected_name, "exten": self.exten, "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
        }


def live_channels(core_channels: Iterable[AmiMessage], status: Iterable[AmiMessage], known: dict[str, str]) -> list[LiveChannel]:
    """Merge ``CoreShowChannel`` and ``Status`` events into one record per live channel.

    ``known`` maps uniqueid -> linkedid for channels the tracker already follows (Asterisk 11 lists
    no linkedid; a bridged partner's or the tracker's knowledge fills it in)."""
    by_uniqueid: dict[str, dict[str, str]] = {}
    for event in (*core_channels, *status):
        uniqueid = event.get("uniqueid")
        if uniqueid:
            merged = by_uniqueid.setdefault(uniqueid, {})
            for key, value in event.headers.items():
                if value and key not in merged:
                    merged[key] = value
    result = []
    for uniqueid, h in by_uniqueid.items():
        bridged_to = h.get("bridgeduniqueid", "")
        linkedid = h.get("linkedid") or known.get(uniqueid) or known.get(bridged_to) or uniqueid
        result.append(
            LiveChannel(
                uniqueid=uniqueid,
                linkedid=linkedid,
                channel=h.get("channel", ""),
                state=h.get("channelstatedesc") or h.get("state", ""),
                caller_num=h.get("calleridnum", ""),
                caller_name=h.get("calleridname", ""),
                connected_name=h.get("connectedlinename", ""),
                exten=h.get("exten") or h.get("extension", ""),
                application=h.get("application", ""),
                application_data=h.get("applicationdata") or h.get("data", ""),
                age_seconds=_age(h),
                bridged=bool(h.get("bridgeid") or bridged_to or h.get("bridgedchannel")),
            )
        )
    return result


def reconcile(tracker: CallTracker, channels: list[LiveChannel], known_before: set[str], now: datetime) -> None:
    """Bring the tracker in line with the PBX.  ``known_before`` are the linkedids tracked when the
    channel list was requested: only those may be finished for being absent (a call that started
    after the request is simply not in the list yet)."""
    groups: dict[str, list[LiveChannel]] = {}
    for channel in channels:
        if tracker.hung_up(channel.uniqueid):
            continue
        groups.setdefault(channel.linkedid, []).append(channel)
    opened: list[tuple[Call, list[LiveChannel]]] = []
    for linkedid, group in groups.items():
        if linkedid in tracker.ended:
            continue
        group.sort(key=lambda c: (c.uniqueid != linkedid, -c.age_seconds))
        call = tracker.calls.get(linkedid)
        if call is None:
            first = group[0]
            call = tracker.open_call(first.headers(), first.uniqueid, linkedid, now - timedelta(seconds=first.age_seconds))
        for channel in group:
            tracker.attach_leg(call, channel.uniqueid)
        tracker.forget_channels(call, call.live - {c.uniqueid for c in group})
        opened.append((call, group))
    opened.sort(key=lambda entry: not entry[0].internal)  # agents' sessions seat them before clients join
    for call, group in opened:
        for channel in group:
            _replay_state(tracker, call, channel, now)
    for linkedid in known_before:
        call = tracker.calls.get(linkedid)
        if call is not None and linkedid not in groups:
            tracker.finish(call, now, reconciled=True)


def _replay_state(tracker: CallTracker, call: Call, channel: LiveChannel, now: datetime) -> None:
    if channel.application in ("ConfBridge", "MeetMe") and channel.application_data:
        tracker.conference_joined(call, channel.application_data.split(",", 1)[0], channel.uniqueid, channel.channel, now)
        return
    if channel.uniqueid == call.caller_uniqueid:
        if channel.application == "Queue" and channel.application_data:
            queue = channel.application_data.split(",", 1)[0]
            call.queue = queue
            call.queued_at = call.queued_at or now
            tracker.emit(call, "queued", f"queued:{queue}", now)
        return
    agent = call.agent_legs.get(channel.uniqueid) or (None if call.direction == "outbound" else extension_of(channel.channel))
    if not agent:
        return
    call.agent_legs[channel.uniqueid] = agent
    if channel.state == "Ringing":
        tracker.emit(call, "ringing", f"ringing:{channel.uniqueid}", now, uniqueid=channel.uniqueid, agent=agent)
    elif channel.state == "Up" and channel.bridged:
        tracker.agent_answered(call, agent, channel.uniqueid, now - timedelta(seconds=channel.age_seconds))


def _age(h: dict[str, str]) -> float:
    seconds = h.get("seconds")
    if seconds and seconds.isdigit():
        return float(seconds)
    duration = h.get("duration", "")
    parts = duration.split(":")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    return 0.0
