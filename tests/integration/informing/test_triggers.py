"""An event of another system becomes a message by its trigger rule (IC-06): stored, sent, and a second
event of the same rule and client within the period is the same message."""

from __future__ import annotations

from dataclasses import replace

from routing.informing.triggers import TriggerRule
from tests.integration.informing.test_outbound_path import settled


async def test_event_to_message_once_per_period(informing):
    writer = informing.services.informing
    writer.settings = replace(writer.settings, triggers=(TriggerRule.from_mapping({
        "name": "outage", "event": "planned_outage", "template": "planned_outage", "topic": "service",
        "when": {"kind": "planned"}, "chain": ["email"], "period_s": 3600}),))
    await informing.template()
    client = await informing.client("Степан", email="stepan@ukr.net")
    fields = {"kind": "planned", "street": "Хрещатик", "day": "2026-12-09"}
    (first,) = await writer.event("planned_outage", client, fields)
    (again,) = await writer.event("planned_outage", client, fields)
    assert first.created and (again.message_id, again.created) == (first.message_id, False)
    assert await writer.event("planned_outage", client, {**fields, "kind": "emergency"}) == []
    row = await settled(informing, first.message_id)
    assert (row["state"], row["origin"], row["channel"]) == ("sent", "trigger", "email")
    assert len(informing.smtp.messages) == 1
