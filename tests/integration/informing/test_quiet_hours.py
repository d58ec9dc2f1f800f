"""Quiet hours (IC-09): a message due outside the sending hours is held in the outbox with the reason
and sent, in order, when they begin; an emergency goes at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core.outbox import message_history, message_row
from routing.calendar import WEEKDAYS, BusinessCalendar
from tests.integration.informing.test_outbound_path import outage, settled
from tests.support.engine import eventually

KYIV = ZoneInfo("Europe/Kyiv")


async def test_held_until_the_sending_hours_begin_then_sent_in_order(informing):
    opens = (datetime.now(KYIV) + timedelta(seconds=4)).replace(microsecond=0)
    if opens.date() != (opens + timedelta(seconds=30)).date():
        pytest.skip("too close to midnight in Kyiv for a same-day window")
    hours = {day: ["00:00-00:01"] for day in WEEKDAYS}
    hours[WEEKDAYS[opens.weekday()]] = [f"{opens:%H:%M:%S}-24:00"]
    informing.services.informing.settings = replace(
        informing.services.informing.settings, sending_hours=BusinessCalendar("night", "Europe/Kyiv", hours),
        quiet_exempt_topics=frozenset({"emergency"}))
    await informing.template()
    client = await informing.client("Ніна", email="nina@ukr.net")
    submit = informing.services.informing.submit
    first, second = [(await submit(outage(client, f"night-{n}", chain=("email",)))).message_id for n in (1, 2)]
    emergency = (await submit(outage(client, "night-gas", topic="emergency", chain=("email",)))).message_id

    async def held():
        rows = [await message_row(informing.services.autocommit, m) for m in (first, second)]
        return rows if all(r["state"] == "held" for r in rows) else None

    rows = await eventually(held, 10.0)
    assert all(r["reason"] == "quiet_hours" for r in rows)
    assert (await settled(informing, emergency))["state"] == "sent"  # an emergency is not held
    assert len(informing.smtp.messages) == 1
    assert datetime.now(KYIV) < opens  # still quiet: the held ones are waiting
    for message_id in (first, second):
        assert (await settled(informing, message_id))["state"] == "sent"
    sent_at = [(await message_history(informing.services.autocommit, m))[-1]["occurred_at"] for m in (first, second)]
    assert sent_at[0] >= opens and sent_at[0] <= sent_at[1]
    assert [m.message["Subject"] for m in informing.smtp.messages].count("Планове відключення 09.12.2026") == 3
