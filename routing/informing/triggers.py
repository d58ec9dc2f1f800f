"""Trigger rules: an event (a ticket's status changed, a payment received, a planned outage by address)
that matches a rule becomes a message to the event's client.  Each rule names its event type, the
fields the event must carry with their values, the template, topic and channel chain, a delay, and a
period: at most one message per client per rule per period (the dedupe key carries the period's
number, so a second event in it is the same message)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class TriggerRule:
    name: str
    event: str
    template: str
    topic: str
    when: Mapping[str, Any]
    chain: tuple[str, ...] = ()
    delay_s: float = 0.0
    period_s: float = 86_400.0

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> TriggerRule:
        rule = cls(name=str(raw["name"]), event=str(raw["event"]), template=str(raw["template"]),
                   topic=str(raw["topic"]), when=dict(raw.get("when", {})), chain=tuple(raw.get("chain", ())),
                   delay_s=float(raw.get("delay_s", 0)), period_s=float(raw.get("period_s", 86_400)))
        if rule.period_s <= 0 or rule.delay_s < 0:
            raise ValueError(f"trigger {rule.name}: period_s must be positive and delay_s not negative")
        return rule


@dataclass(frozen=True, slots=True)
class TriggeredMessage:
    rule: TriggerRule
    client_id: int
    values: dict[str, Any]
    dedupe_key: str
    not_before: datetime


def fire(rules: tuple[TriggerRule, ...], event: str, client_id: int, fields: Mapping[str, Any],
         occurred_at: datetime) -> list[TriggeredMessage]:
    """The messages an event sets off: one per matching rule, its template's values the event's fields
    other than those the rule matches on."""
    fired = []
    for rule in rules:
        if rule.event != event or any(fields.get(k) != v for k, v in rule.when.items()):
            continue
        period = int(occurred_at.timestamp() // rule.period_s)
        values = {k: v for k, v in fields.items() if k not in rule.when}
        fired.append(TriggeredMessage(rule, client_id, values, f"trigger:{rule.name}:{client_id}:{period}",
                                      occurred_at + timedelta(seconds=rule.delay_s)))
    return fired
