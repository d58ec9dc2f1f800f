"""The contact policy: may this message go to this client on this channel?

Checked before every send, whatever started the message (a trigger, an operator, a campaign):

- a stop-list entry for the client, the address the message would go to, or the client's segment,
  for the message's topic or for every topic (``*``), refuses it — always, whatever the topic's policy;
- otherwise the client's newest consent record for (channel, topic) or (channel, ``*``) decides; with
  none, the topic's default does.  A topic whose policy ``passes_opt_out`` (a gas emergency in the
  client's building) goes even past an opt-out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

ALL_TOPICS = "*"


@dataclass(frozen=True, slots=True)
class TopicPolicy:
    name: str
    consent_by_default: bool = True
    passes_opt_out: bool = False


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    client_id: int
    channel: str
    topic: str
    opted_in: bool
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StopEntry:
    kind: str  # client | phone | email | viber | segment
    value: str
    topic: str


@dataclass(frozen=True, slots=True)
class Recipient:
    client_id: int
    segment: str
    address_kind: str
    address: str


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str | None = None  # stop_list | opted_out | no_consent; or passed_opt_out when allowed past one


class ContactPolicy:
    """Decides from facts loaded in one batch (:mod:`crm_core.consent`); pure and cheap per message."""

    def __init__(self, topics: Mapping[str, TopicPolicy], consents: Iterable[ConsentRecord],
                 stops: Iterable[StopEntry]) -> None:
        self.topics = topics
        self._consent: dict[tuple[int, str, str], ConsentRecord] = {}
        for record in consents:
            key = (record.client_id, record.channel, record.topic)
            if key not in self._consent or self._consent[key].recorded_at <= record.recorded_at:
                self._consent[key] = record
        self._stops = {(s.kind, s.value, s.topic) for s in stops}

    def decide(self, recipient: Recipient, channel: str, topic: str) -> Verdict:
        subjects = (("client", str(recipient.client_id)), (recipient.address_kind, recipient.address),
                    ("segment", recipient.segment))
        if any((kind, value, t) in self._stops for kind, value in subjects for t in (topic, ALL_TOPICS)):
            return Verdict(False, "stop_list")
        policy = self.topics.get(topic, TopicPolicy(topic))
        records = [r for t in (topic, ALL_TOPICS) if (r := self._consent.get((recipient.client_id, channel, t)))]
        newest = max(records, key=lambda r: r.recorded_at) if records else None
        consented = newest.opted_in if newest is not None else policy.consent_by_default
        if consented:
            return Verdict(True)
        if policy.passes_opt_out:
            return Verdict(True, "passed_opt_out")
        return Verdict(False, "opted_out" if newest is not None else "no_consent")
