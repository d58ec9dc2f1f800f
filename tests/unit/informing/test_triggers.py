"""Trigger rules (IC-06): an event matching a rule sets off one message per client per rule per period,
after the rule's delay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from routing.informing.triggers import TriggerRule, fire

RULES = (TriggerRule.from_mapping({"name": "outage", "event": "planned_outage", "template": "planned_outage",
                                   "topic": "service", "when": {"kind": "planned"}, "delay_s": 60, "period_s": 3600}),
         TriggerRule.from_mapping({"name": "paid", "event": "payment_received", "template": "paid", "topic": "service"}))
AT = datetime(2026, 12, 7, 10, 15, tzinfo=UTC)


def test_a_matching_event_fires_once_per_client_per_period_after_the_delay():
    (first,) = fire(RULES, "planned_outage", 7, {"kind": "planned", "street": "Хрещатик"}, AT)
    assert first.values == {"street": "Хрещатик"} and first.not_before == AT + timedelta(seconds=60)
    (same,) = fire(RULES, "planned_outage", 7, {"kind": "planned", "street": "Хрещатик"}, AT + timedelta(minutes=30))
    assert same.dedupe_key == first.dedupe_key
    (later,) = fire(RULES, "planned_outage", 7, {"kind": "planned", "street": "Хрещатик"}, AT + timedelta(hours=1))
    assert later.dedupe_key != first.dedupe_key
    (other,) = fire(RULES, "planned_outage", 8, {"kind": "planned", "street": "Хрещатик"}, AT)
    assert other.dedupe_key != first.dedupe_key


def test_an_event_that_matches_no_rule_fires_nothing():
    assert fire(RULES, "planned_outage", 7, {"kind": "emergency"}, AT) == []
    assert fire(RULES, "debt", 7, {}, AT) == []
    assert [t.rule.name for t in fire(RULES, "payment_received", 7, {"amount": 100}, AT)] == ["paid"]
