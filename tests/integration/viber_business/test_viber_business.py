"""The Viber Business channel (aiohttp) against the sandbox aggregator, its signed reports POSTed over
real sockets to a gateway route that answers like the dashboard gateway's ``/webhooks/{channel}``."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from actors.channel_actor import ChannelRunner
from channels.base import Address, ChannelError, DeliveryUpdate, Outbound, WebhookRejected
from channels.sandbox.viber_business import ViberBusinessAggregator
from channels.viber_business import build

PHONE = "+380671234567"


class Inbox:
    """What the runner hands items to: the inbox's intake (it stores, or parks what cannot be read)."""

    def __init__(self) -> None:
        self.stored = []
        self.parked = []
        self.intake = self

    async def store(self, inbound) -> None:
        self.stored.append(inbound)

    async def take(self, inbound) -> None:
        self.stored.append(inbound)

    sink = take

    async def park_unreadable(self, item) -> None:
        self.parked.append(item)


class Gateway:
    """The gateway's webhook route: the runner verifies; WebhookRejected becomes its HTTP status."""

    def __init__(self, runner: ChannelRunner) -> None:
        self.runner = runner
        self.url = ""
        self._app_runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        try:
            reply = await self.runner.webhook(dict(request.headers), await request.read())
        except WebhookRejected as exc:
            return web.json_response({"error": "webhook_rejected", "detail": exc.reason}, status=exc.status)
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/viber_business", self.handle)
        self._app_runner = web.AppRunner(app)
        await self._app_runner.setup()
        site = web.TCPSite(self._app_runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhooks/viber_business"

    async def stop(self) -> None:
        await self._app_runner.cleanup()


@pytest.fixture
async def wired():
    aggregator = ViberBusinessAggregator(repeat_reports=2)
    await aggregator.start()
    gateway = Gateway(None)
    await gateway.start()
    runner = ChannelRunner("viber_business", {"api_url": aggregator.url, "api_key": aggregator.api_key,
                                              "sender": "GasService", "callback_secret": aggregator.secret,
                                              "public_webhook_url": gateway.url}, Inbox())
    updates: list[DeliveryUpdate] = []

    async def record(update: DeliveryUpdate) -> None:
        updates.append(update)

    runner.channel.report_deliveries(record)
    gateway.runner = runner
    assert await runner.start()
    yield aggregator, runner, updates
    await runner.stop()
    await gateway.stop()
    await aggregator.stop()


def viber(text: str, key: str, phone: str = PHONE, **metadata) -> Outbound:
    return Outbound(channel="viber_business", thread_key=f"viber_business:{phone}", recipient=Address("phone", phone),
                    text=text, dedupe_key=key, metadata=metadata)


async def settled(aggregator, runner) -> None:
    await aggregator.settle()
    await runner.channel.drain()


async def test_send_then_delivered_and_seen_reports_reach_the_sink_once(wired):
    """IC-03: a triggered notice by Viber to a client who never subscribed to the bot; read receipts."""
    aggregator, runner, updates = wired
    receipt = await runner.send(viber("Ваш рахунок за листопад: 412,30 грн. Оплатити: gas.ua/pay", "notice-1"))
    [sent] = aggregator.state.to(PHONE)
    assert receipt.external_id == sent.message_id == "notice-1"
    assert sent.sender == "GasService" and sent.label == "TRANSACTION" and sent.to == "380671234567"
    await settled(aggregator, runner)
    assert [r.status for r in aggregator.state.reports] == [200, 200, 200, 200]  # each report posted twice
    assert [(u.external_id, u.state) for u in updates] == [("notice-1", "delivered"), ("notice-1", "read")]
    assert updates[1].occurred_at >= updates[0].occurred_at


async def test_a_client_without_viber_ends_failed_with_the_reason(wired):
    aggregator, runner, updates = wired
    aggregator.not_a_viber_user("+380501112233")
    await runner.send(viber("Планове відключення газу 12.12", "outage-7", phone="+380501112233"))
    await settled(aggregator, runner)
    assert [(u.external_id, u.state, u.reason) for u in updates] == [("outage-7", "failed", "not a Viber user")]


async def test_refusals_and_failures_raise_with_the_reason_and_a_repeat_sends_once(wired):
    aggregator, runner, _ = wired
    aggregator.reject("+380931234567")
    with pytest.raises(ChannelError, match="REJECTED"):
        await runner.send(viber("Текст", "r1", phone="+380931234567"))
    aggregator.fail_next_requests(500)
    with pytest.raises(ChannelError, match="HTTP 500: GENERAL_ERROR"):
        await runner.send(viber("Текст", "f1"))
    first = await runner.send(viber("Текст", "f1"))  # refused before: submitted again
    again = await runner.send(viber("Текст", "f1"))
    assert first == again and len(aggregator.state.to(PHONE)) == 1
    with pytest.raises(ChannelError, match="not a phone number"):
        await runner.send(viber("Текст", "bad", phone="hello"))


async def test_forged_and_unsigned_reports_are_refused_with_403(wired):
    aggregator, runner, updates = wired
    report = {"results": [{"messageId": "notice-1", "to": "380671234567", "seenAt": "2026-12-07T14:13:21.127+0000"}]}
    forged = await aggregator.post_report("seen", runner.channel.settings.public_webhook_url, report,
                                          signature="0" * 64, attempts=1)
    unsigned = await aggregator.post_report("seen", runner.channel.settings.public_webhook_url, report,
                                            signature="", attempts=1)
    assert (forged.status, unsigned.status) == (403, 403)
    malformed = await aggregator.post_report("delivery", runner.channel.settings.public_webhook_url,
                                             {"results": [{"to": "1"}]}, attempts=1)
    assert malformed.status == 400
    await runner.channel.drain()
    assert updates == []


async def test_a_failing_sink_is_tried_again_until_the_update_is_stored(wired):
    aggregator, runner, updates = wired
    failures = 2

    async def flaky(update: DeliveryUpdate) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise RuntimeError("database restarting")
        updates.append(update)

    runner.channel.report_deliveries(flaky)
    await runner.send(viber("Текст", "flaky-1"))
    await asyncio.wait_for(settled(aggregator, runner), 10)
    assert [u.state for u in updates] == ["delivered", "read"]


def test_settings_are_checked():
    with pytest.raises(ChannelError, match="required"):
        build({"api_key": "k"})
    with pytest.raises(ChannelError, match="label"):
        build({"api_key": "k", "sender": "s", "callback_secret": "x", "label": "SPAM"})
