"""One outbound path: a message is stored in the outbox before it is accepted, then rendered, checked
against consent and stop lists, sent by the first channel of its chain that takes it, each step a
recorded state; through the real e-mail channel (SMTP into the sandbox relay) and the Viber bot
(against the Viber sandbox)."""

from __future__ import annotations

import pytest
import sqlalchemy.exc

from channels.base import DeliveryUpdate
from crm_core.consent import add_stop_entry, consent_history, record_consent
from crm_core.outbox import OutboundMessage, message_history, message_row
from routing.informing.templates import TemplateError
from tests.support.engine import eventually

pytestmark = pytest.mark.integration
FINAL = ("sent", "delivered", "read", "failed", "refused", "undeliverable")
VALUES = {"street": "Хрещатик", "day": "2026-12-09"}


def outage(client: int, key: str, *, topic: str = "service", chain=("viber", "email"), origin="trigger",
           values=VALUES) -> OutboundMessage:
    return OutboundMessage(client_id=client, topic=topic, template="planned_outage", variables=dict(values),
                           origin=origin, dedupe_key=key, chain=tuple(chain))


async def settled(informing, message_id: int) -> dict:
    async def probe():
        row = await message_row(informing.services.autocommit, message_id)
        return row if row["state"] in FINAL else None
    return await eventually(probe, 20.0)


async def steps(informing, message_id: int) -> list[tuple]:
    return [(e["state"], e["channel"]) for e in await message_history(informing.services.autocommit, message_id)]


async def test_message_falls_back_from_viber_without_address_to_email_and_each_step_is_recorded(informing):
    """IC-01, IC-02: the template's e-mail body (HTML and text) goes out; the record says which channel."""
    await informing.template()
    client = await informing.client("Олена Коваль", email="olena@ukr.net")
    queued = await informing.services.informing.submit(outage(client, "outage-1"))
    assert queued.created
    row = await settled(informing, queued.message_id)
    assert (row["state"], row["channel"]) == ("sent", "email")
    assert await steps(informing, queued.message_id) == [
        ("queued", None), ("fell_back", "viber"), ("submitting", "email"), ("sent", "email")]
    (mail,) = informing.smtp.messages
    sent = mail.message
    assert mail.recipients == ("olena@ukr.net",)
    assert sent["Subject"] == "Планове відключення 09.12.2026"
    assert sent["Message-ID"] == row["external_id"]
    assert "<b>Хрещатик</b>" in sent.get_body(("html",)).get_content()
    assert "Вул. Хрещатик: газу не буде 09.12.2026." in sent.get_body(("plain",)).get_content()


async def test_the_same_dedupe_key_is_one_message(informing):
    await informing.template()
    client = await informing.client("Петро", email="petro@ukr.net")
    first = await informing.services.informing.submit(outage(client, "once"))
    again = await informing.services.informing.submit(outage(client, "once"))
    assert (again.message_id, again.created) == (first.message_id, False)
    await settled(informing, first.message_id)
    assert len(informing.smtp.messages) == 1


async def test_bad_input_is_refused_with_its_reason_and_nothing_is_stored(informing):
    await informing.template()
    client = await informing.client("Іван", email="ivan@ukr.net")
    with pytest.raises(TemplateError) as missing:
        await informing.services.informing.submit(outage(client, "bad-1", values={"street": "Січових Стрільців"}))
    assert [p.code for p in missing.value.problems] == ["value_missing"]
    with pytest.raises(TemplateError) as unknown:
        await informing.services.informing.submit(outage(client, "bad-2", values={**VALUES, "flat": "5"}))
    assert [p.code for p in unknown.value.problems] == ["unknown_variable"]
    with pytest.raises(TemplateError, match="unknown_template"):
        await informing.services.informing.submit(OutboundMessage(client, "service", "nope", {}, "trigger", "bad-3"))
    for key in ("bad-1", "bad-2", "bad-3"):
        with pytest.raises(TemplateError):  # a retry of a refused message is refused again, not stored
            await informing.services.informing.submit(outage(client, key, values={}))
    assert informing.smtp.messages == []


async def test_viber_sends_with_its_button_and_receipts_move_the_message_forward_only(informing):
    await informing.template()
    user = informing.viber_user("vIbEr0Client+A==")
    client = await informing.client("Марія", viber=user.id, email="maria@ukr.net")
    queued = await informing.services.informing.submit(outage(client, "viber-1"))
    row = await settled(informing, queued.message_id)
    assert (row["state"], row["channel"]) == ("sent", "viber")
    (sent,) = informing.viber.sent_to(user)
    assert sent["text"] == "Планове відключення газу 09.12.2026 на вул. Хрещатик."
    assert informing.smtp.messages == []  # one logical message, one channel

    record = informing.services.channels.resolve("viber").deliveries
    external = row["external_id"]
    await record(DeliveryUpdate("viber", external, "delivered"))
    await record(DeliveryUpdate("viber", external, "delivered"))  # repeated: changes nothing
    await record(DeliveryUpdate("viber", external, "read"))
    await record(DeliveryUpdate("viber", external, "delivered"))  # late: never back from read
    await record(DeliveryUpdate("viber", "no-such-id", "delivered"))
    assert (await message_row(informing.services.autocommit, queued.message_id))["state"] == "read"
    assert (await steps(informing, queued.message_id))[-2:] == [("delivered", "viber"), ("read", "viber")]
    assert dict(record.outcomes) == {"recorded": 2, "repeated": 2, "unknown": 1}


async def test_a_channel_that_refuses_passes_the_message_to_the_next(informing):
    """IC-02: the client left the Viber bot, so the sandbox refuses; e-mail takes the message."""
    await informing.template()
    client = await informing.client("Олег", viber="not-subscribed-user", email="oleh@ukr.net")
    queued = await informing.services.informing.submit(outage(client, "refused-viber"))
    row = await settled(informing, queued.message_id)
    assert (row["state"], row["channel"]) == ("sent", "email")
    history = await message_history(informing.services.autocommit, queued.message_id)
    assert [(e["state"], e["channel"]) for e in history] == [
        ("queued", None), ("submitting", "viber"), ("fell_back", "viber"), ("submitting", "email"), ("sent", "email")]
    assert "channel_error" in history[2]["reason"]


async def test_consent_and_stop_lists_are_checked_before_every_send(informing):
    """IC-07, IC-08: marketing needs an opt-in; an opt-out holds; a stop list entry for the segment refuses a
    campaign's message even to a client who opted in; an emergency passes an opt-out but not a stop list."""
    await informing.template()
    await informing.template()  # saved again unchanged: no new version
    db = informing.services.autocommit
    client = await informing.client("Ганна", email="hanna@ukr.net", segment="vip")
    submit = informing.services.informing.submit

    no_consent = await settled(informing, (await submit(outage(client, "m-1", topic="marketing", chain=("email",)))).message_id)
    assert (no_consent["state"], no_consent["reason"]) == ("refused", "email: no_consent")
    await record_consent(db, client, "email", "marketing", True, "web_form", "client")
    opted_in = await settled(informing, (await submit(outage(client, "m-2", topic="marketing", chain=("email",)))).message_id)
    assert opted_in["state"] == "sent"
    await record_consent(db, client, "email", "*", False, "reply", "client")
    opted_out = await settled(informing, (await submit(outage(client, "m-3", topic="marketing", chain=("email",)))).message_id)
    assert (opted_out["state"], opted_out["reason"]) == ("refused", "email: opted_out")
    emergency = await settled(informing, (await submit(outage(client, "e-1", topic="emergency", chain=("email",)))).message_id)
    assert emergency["state"] == "sent"

    await record_consent(db, client, "email", "*", True, "operator", "agent:7")
    await add_stop_entry(db, "segment", "vip", "marketing", "campaign exclusion", "marketer:3")
    campaign = await settled(informing, (await submit(
        outage(client, "c-1", topic="marketing", chain=("email",), origin="campaign"))).message_id)
    assert (campaign["state"], campaign["reason"]) == ("refused", "email: stop_list")
    await add_stop_entry(db, "email", "hanna@ukr.net", "*", "asked by letter", "agent:7")
    blocked = await settled(informing, (await submit(outage(client, "e-2", topic="emergency", chain=("email",)))).message_id)
    assert (blocked["state"], blocked["reason"]) == ("refused", "email: stop_list")
    assert len(informing.smtp.messages) == 2
    assert [(h["topic"], h["opted_in"], h["source"]) for h in await consent_history(db, client)] == [
        ("marketing", True, "web_form"), ("*", False, "reply"), ("*", True, "operator")]


async def test_consent_history_is_append_only_in_the_database(informing):
    db = informing.services.autocommit
    client = await informing.client("Тарас", email="taras@ukr.net")
    await record_consent(db, client, "sms", "marketing", False, "sms_reply", "client")
    for statement in ("UPDATE consent_history SET opted_in = true", "DELETE FROM consent_history",
                      "TRUNCATE consent_history"):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            async with informing.services.db.begin() as conn:
                await conn.exec_driver_sql(statement)

