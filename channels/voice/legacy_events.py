"""Asterisk 11 (and 1.8) spellings: no linkedid, ``Dial`` with ``SubEvent``, ``Bridge``,
``LocalBridge`` and ``Rename`` after masquerades."""

from __future__ import annotations

from datetime import datetime

from channels.voice.call_book import CallBook
from channels.voice.codec import AmiMessage

NO_ANSWER = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})
LEGACY_NAMES = {"Join": "QueueCallerJoin", "Leave": "QueueCallerLeave", "Newcallerid": "NewCallerid"}
_PROMOTING = frozenset({"Newstate", "Dial", "Join", "QueueCallerJoin", "Bridge", "LocalBridge", "Hold", "MixMonitorStart"})


class Asterisk11Events(CallBook):
    """Handlers for the pre-12 event shapes, and the pending state a linkedid-less channel needs."""

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

    def _on_legacy_dial(self, m: AmiMessage, at: datetime) -> None:
        """Asterisk 11: ``Dial`` with ``SubEvent: Begin|End`` and ``Destination``/``DestUniqueID``."""
        call, _ = self._call_and_ids(m.headers)
        if call is None:
            return
        dest = m.get("destuniqueid")
        if m.get("subevent") == "Begin" and dest:
            self.ring_leg(call, dest, m.get("destination"), m.get("dialstring"), at)
        elif m.get("subevent") == "End" and m.get("dialstatus") in NO_ANSWER:
            for leg in list(call.agent_legs):
                if leg in call.live and call.agent is None:
                    self._no_answer(call, leg, at)

    def _on_legacy_bridge(self, m: AmiMessage, at: datetime) -> None:
        """Asterisk 11: ``Bridge`` with ``Bridgestate: Link`` and ``Uniqueid1``/``Uniqueid2``."""
        if m.get("bridgestate") == "Link":
            self._link(m.get("uniqueid1"), m.get("uniqueid2"), at)
