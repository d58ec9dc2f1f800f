"""Replies that mean "stop" change consent by themselves (IC-07): an SMS "СТОП" stored by the inbox, a
Viber unsubscribe callback through the real Viber channel; a redelivered one records nothing more, and
the next message on that channel is refused while another channel still takes it."""

from __future__ import annotations

import hashlib
import hmac
import json

from channels.base import Address, Inbound
from crm_core.consent import consent_history
from crm_core.outbox import OutboundMessage
from tests.integration.informing.test_outbound_path import VALUES, settled

PHONE = "+380671112233"


async def test_sms_stop_reply_opts_the_client_out_of_sms_once(informing):
    client = await informing.client("Оксана", phone=PHONE)
    stop = Inbound(channel="sms", thread_key=f"sms:{PHONE}", dedupe_key="smsc-771", sender=Address("phone", PHONE),
                   text=" Стоп! ")
    await informing.services.inbox.store(stop)
    await informing.services.inbox.store(stop)  # the SMSC delivered it again
    chat = Inbound(channel="sms", thread_key=f"sms:{PHONE}", dedupe_key="smsc-772", sender=Address("phone", PHONE),
                   text="стоп, а коли дадуть газ?")
    await informing.services.inbox.store(chat)
    history = await consent_history(informing.services.autocommit, client)
    assert [(h["channel"], h["topic"], h["opted_in"], h["source"]) for h in history] == [
        ("sms", "*", False, "sms_stop_reply")]


async def test_viber_unsubscribe_opts_out_and_the_next_message_goes_by_email(informing):
    await informing.template()
    user = informing.viber_user("uNsUb0Viber+Q==")
    client = await informing.client("Богдан", viber=user.id, email="bohdan@ukr.net")
    body = json.dumps({"event": "unsubscribed", "timestamp": 1765100000000, "chat_hostname": "SN-CHAT-01_",
                       "user_id": user.id, "message_token": 5012345678901234567}).encode()
    signature = hmac.new(informing.viber.account.token.encode(), body, hashlib.sha256).hexdigest()
    await informing.services.channels.webhook("viber", {"X-Viber-Content-Signature": signature}, body)
    history = await consent_history(informing.services.autocommit, client)
    assert [(h["channel"], h["topic"], h["opted_in"], h["source"]) for h in history] == [
        ("viber", "*", False, "viber_unsubscribed")]
    queued = await informing.services.informing.submit(OutboundMessage(
        client, "service", "planned_outage", dict(VALUES), "trigger", "after-unsubscribe", chain=("viber", "email")))
    row = await settled(informing, queued.message_id)
    assert (row["state"], row["channel"]) == ("sent", "email")
    assert informing.viber.sent_to(user) == []
