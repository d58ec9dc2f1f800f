"""The informing service's configuration (``config/informing.toml``), parsed into typed settings:
how senders claim, the SMS size limit, the channel chains by template and topic, the topics' contact
policy."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from routing.calendar import BusinessCalendar
from routing.informing.policy import TopicPolicy
from routing.informing.triggers import TriggerRule

ADDRESS_KIND: Mapping[str, str] = {"sms": "phone", "viber_business": "phone", "viber": "viber", "email": "email",
                                   "telegram": "telegram"}

DEFAULT_CHAIN = ("viber", "sms", "email")


@dataclass(frozen=True, slots=True)
class InformingSettings:
    lease_s: float = 30.0
    claim_batch: int = 50
    poll_s: float = 0.2
    max_sms_segments: int = 3
    sms_sender: str = ""
    #: Where an e-mail's one-click unsubscribe link points ("" = no List-Unsubscribe header), and its secret.
    unsubscribe_url: str = ""
    unsubscribe_secret: bytes = b""
    default_chain: tuple[str, ...] = DEFAULT_CHAIN
    topic_chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    template_chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    topics: Mapping[str, TopicPolicy] = field(default_factory=dict)
    #: When messages may go (outside it: quiet hours, curfew); None: any time.
    sending_hours: BusinessCalendar | None = None
    quiet_exempt_topics: frozenset[str] = frozenset()
    triggers: tuple[TriggerRule, ...] = ()
    #: channel -> ((messages, per seconds), ...): per minute and per hour, in each sender process.
    rate_limits: Mapping[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> InformingSettings:
        chains = raw.get("chains", {})
        topics = {name: TopicPolicy(name, bool(t.get("consent_by_default", True)), bool(t.get("passes_opt_out", False)))
                  for name, t in raw.get("topics", {}).items()}
        settings = cls(
            lease_s=float(raw.get("lease_s", 30.0)), claim_batch=int(raw.get("claim_batch", 50)),
            poll_s=float(raw.get("poll_s", 0.2)), max_sms_segments=int(raw.get("max_sms_segments", 3)),
            sms_sender=str(raw.get("sms_sender", "")),
            unsubscribe_url=str(raw.get("unsubscribe_url", "")).rstrip("/"),
            unsubscribe_secret=os.environ.get(str(raw.get("unsubscribe_secret_env", "")), "").encode()
            if raw.get("unsubscribe_secret_env") else b"",
            default_chain=tuple(raw.get("default_chain", DEFAULT_CHAIN)),
            topic_chains={k: tuple(v) for k, v in chains.get("topics", {}).items()},
            template_chains={k: tuple(v) for k, v in chains.get("templates", {}).items()},
            topics=topics, sending_hours=_sending_hours(raw.get("sending_hours")),
            quiet_exempt_topics=frozenset(raw.get("sending_hours", {}).get("exempt_topics", ())),
            triggers=tuple(TriggerRule.from_mapping(t) for t in raw.get("triggers", ())),
            rate_limits={channel: tuple((int(limits[key]), period) for key, period in (("per_minute", 60.0),
                                                                                  ("per_hour", 3600.0))
                                        if key in limits)
                         for channel, limits in raw.get("rate_limits", {}).items()})
        for chain in (settings.default_chain, *settings.topic_chains.values(), *settings.template_chains.values(),
                      *(t.chain for t in settings.triggers if t.chain)):
            unknown = [c for c in chain if c not in ADDRESS_KIND]
            if unknown or not chain:
                raise ValueError(f"a channel chain must name channels of {sorted(ADDRESS_KIND)}: {list(chain)}")
        if any(count <= 0 for limits in settings.rate_limits.values() for count, _ in limits):
            raise ValueError("rate limits must be positive")
        if settings.unsubscribe_url and not settings.unsubscribe_secret:
            raise ValueError("unsubscribe_url needs the secret named by unsubscribe_secret_env in the environment")
        if settings.lease_s <= 0 or settings.claim_batch <= 0 or settings.max_sms_segments <= 0:
            raise ValueError("lease_s, claim_batch and max_sms_segments must be positive")
        return settings

    def release_at(self, topic: str, now: datetime) -> datetime | None:
        """When a message of ``topic`` due at ``now`` may go, if that is later (quiet hours); else None."""
        if self.sending_hours is None or topic in self.quiet_exempt_topics:
            return None
        instant = now.timestamp()
        opens = self.sending_hours.next_open(instant)
        return datetime.fromtimestamp(opens, UTC) if opens > instant else None

    def chain_for(self, template: str, topic: str, requested: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The fallback chain of a message: the one it asks for, else its template's, its topic's, the default."""
        return requested or self.template_chains.get(template) or self.topic_chains.get(topic) or self.default_chain


def _sending_hours(raw: Mapping[str, Any] | None) -> BusinessCalendar | None:
    if not raw:
        return None
    return BusinessCalendar("sending_hours", str(raw.get("time_zone", "Europe/Kyiv")), raw["hours"],
                            holidays=())
