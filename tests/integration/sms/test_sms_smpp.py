"""The SMS channel (smpplib over real TCP) against the sandbox SMSC: segments, receipts, throttling, a
window, a connection dropped mid-window, MO replies.  Counts are taken at the SMSC."""

from __future__ import annotations

import asyncio

import pytest

from channels.base import Address, ChannelError, DeliveryUpdate, Inbound, Outbound
from channels.sandbox.smsc import SmscServer
from channels.sms import build

PHONE = "+380671234567"
NOTICE = ("Шановний абоненте! 12.12 з 9:00 до 17:00 за адресою вул. Шевченка, 5 планове відключення газу "
          "через ремонт газопроводу. Перевірте, щоб крани газових приладів були закриті. Газова служба.")


class Sinks:
    def __init__(self) -> None:
        self.updates: list[DeliveryUpdate] = []
        self.inbound: list[Inbound] = []
        self.fail_inbound = 0

    async def delivery(self, update: DeliveryUpdate) -> None:
        self.updates.append(update)

    async def store(self, inbound: Inbound) -> None:
        if self.fail_inbound:
            self.fail_inbound -= 1
            raise RuntimeError("inbox unavailable")
        self.inbound.append(inbound)


async def running(smsc: SmscServer, **settings):
    sinks = Sinks()
    channel = build({"host": smsc.host, "port": smsc.port, "system_id": "switchboard", "password": "sandbox",
                     "reconnect_delay_s": 0.05, **settings})
    channel.report_deliveries(sinks.delivery)
    await channel.start(sinks.store)
    return channel, sinks


@pytest.fixture
async def smsc():
    server = SmscServer(receipt_delay_s=0.05)
    await server.start()
    yield server
    await server.stop()


def sms(text: str, key: str, phone: str = PHONE, **metadata) -> Outbound:
    return Outbound(channel="sms", thread_key=f"sms:{phone}", recipient=Address("phone", phone), text=text,
                    dedupe_key=key, metadata=metadata)


async def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_long_cyrillic_notice_arrives_whole_as_ucs2_segments_from_the_alphanumeric_sender(smsc):
    """IC-02: an outage notice by SMS; Cyrillic is UCS-2, 67 characters a part."""
    channel, sinks = await running(smsc)
    try:
        receipt = await channel.send(sms(NOTICE, "msg-1"))
        [whole] = smsc.mailbox.to(PHONE)
        assert whole.text == NOTICE and whole.segments == -(-len(NOTICE) // 67) == 3
        assert whole.source == "GasService" and receipt.external_id == whole.message_ids[0]
        parts = smsc.mailbox.parts
        assert {p.data_coding for p in parts} == {0x08} and {p.source_ton for p in parts} == {5}
        assert {p.esm_class & 0x40 for p in parts} == {0x40}

        await channel.send(sms("Vash borg 120.50 grn. Oplatit: gas.ua/pay", "msg-2", sender="Gas104"))
        latin = smsc.mailbox.to(PHONE)[1]
        assert latin.segments == 1 and latin.source == "Gas104" and smsc.mailbox.parts[-1].data_coding == 0x00
    finally:
        await channel.stop()


async def test_the_same_dedupe_key_is_submitted_once(smsc):
    channel, _ = await running(smsc)
    try:
        first, again = await asyncio.gather(channel.send(sms(NOTICE, "same")), channel.send(sms(NOTICE, "same")))
        third = await channel.send(sms(NOTICE, "same"))
        assert first == again == third
        assert len(smsc.mailbox.to(PHONE)) == 1
    finally:
        await channel.stop()


async def test_receipts_reach_the_sink_once_per_message_under_the_first_parts_id():
    smsc = SmscServer(receipt_delay_s=0.05, repeat_receipts=3)
    await smsc.start()
    channel, sinks = await running(smsc)
    try:
        long = await channel.send(sms(NOTICE, "long"))
        short = await channel.send(sms("Dyakuyemo za oplatu", "short"))
        await eventually(lambda: smsc.receipts_sent == 3 * 4)
        await asyncio.sleep(0.2)
        assert sorted((u.external_id, u.state) for u in sinks.updates) == sorted(
            [(long.external_id, "delivered"), (short.external_id, "delivered")])
    finally:
        await channel.stop()
        await smsc.stop()


async def test_failed_receipts_carry_the_reason():
    smsc = SmscServer(receipt_delay_s=0.02, failure_share=1.0)
    await smsc.start()
    channel, sinks = await running(smsc)
    try:
        receipt = await channel.send(sms(NOTICE, "fails"))
        await eventually(lambda: sinks.updates)
        await asyncio.sleep(0.2)
        [update] = sinks.updates
        assert update.external_id == receipt.external_id and update.state == "failed"
        assert update.reason == "UNDELIV err:001"
    finally:
        await channel.stop()
        await smsc.stop()


async def test_throttled_submits_back_off_and_all_arrive_once():
    smsc = SmscServer(max_submits_per_s=8)
    await smsc.start()
    channel, _ = await running(smsc, throttle_backoff_s=0.05, throttle_backoff_max_s=0.5)
    try:
        await asyncio.gather(*(channel.send(sms(f"Nagaduvannya {n}", f"t{n}")) for n in range(20)))
        assert smsc.throttled > 0 and channel.throttled == smsc.throttled
        texts = [m.text for m in smsc.mailbox.to(PHONE)]
        assert sorted(texts) == sorted(f"Nagaduvannya {n}" for n in range(20))
    finally:
        await channel.stop()
        await smsc.stop()


async def test_no_more_than_the_window_waits_for_an_answer():
    smsc = SmscServer(response_delay_s=0.1)
    await smsc.start()
    channel, _ = await running(smsc, window=10)
    try:
        await asyncio.gather(*(channel.send(sms(f"Povidomlennya {n}", f"w{n}")) for n in range(40)))
        assert smsc.max_unanswered == 10
        assert len(smsc.mailbox.to(PHONE)) == 40
    finally:
        await channel.stop()
        await smsc.stop()


async def test_a_connection_dropped_mid_window_loses_nothing_and_doubles_nothing():
    """Bad input of issue 19: every unacknowledged submit goes again after the reconnect; receipts dedupe."""
    smsc = SmscServer(receipt_delay_s=0.05, response_delay_s=0.01)
    await smsc.start()
    channel, sinks = await running(smsc)
    try:
        phones = [f"+38067{1000000 + n:07d}" for n in range(30)]
        smsc.drop_mid_window(after_accepts=40, swallow=6)
        sends = [channel.send(sms(NOTICE if n % 3 == 0 else f"Lichylnyk {n}: peredaite pokaznyky", f"d{n}", phone))
                 for n, phone in enumerate(phones * 3)]
        receipts = await asyncio.wait_for(asyncio.gather(*sends), 60)
        assert channel.reconnects == 1 and smsc.binds == 2
        assert smsc.mailbox.whole_messages == 90
        assert smsc.mailbox.doubled_parts == 0 and smsc.mailbox.incomplete == 0
        for phone in phones:
            assert len(smsc.mailbox.to(phone)) == 3
        await eventually(lambda: len(sinks.updates) >= 90, 20)
        await asyncio.sleep(0.3)
        assert sorted(u.external_id for u in sinks.updates) == sorted(r.external_id for r in receipts)
    finally:
        await channel.stop()
        await smsc.stop()


async def test_stop_reply_reaches_the_inbound_sink_and_a_failed_store_is_delivered_again(smsc):
    """CM: a client's "СТОП" reply is a message in the client's SMS conversation (consent acts on it)."""
    channel, sinks = await running(smsc)
    try:
        assert await smsc.send_mo(PHONE, "СТОП") == 0
        [stop] = sinks.inbound
        assert stop.text == "СТОП" and stop.thread_key == "sms:+380671234567"
        assert stop.sender == Address("phone", PHONE) and stop.kind == "message"

        sinks.fail_inbound = 1
        assert await smsc.send_mo("+380501112233", "STOP") == 0x64  # ESME_RX_T_APPN: try again
        assert await smsc.send_mo("+380501112233", "STOP") == 0
        assert [i.text for i in sinks.inbound] == ["СТОП", "STOP"]
    finally:
        await channel.stop()


async def test_wrong_password_is_refused_at_start_and_bad_recipients_at_send(smsc):
    channel = build({"host": smsc.host, "port": smsc.port, "system_id": "switchboard", "password": "wrong"})
    with pytest.raises(ChannelError, match="bind refused"):
        await channel.start(Sinks().store)
    assert smsc.refused_binds == 1
    channel, _ = await running(smsc)
    try:
        with pytest.raises(ChannelError, match="not a phone number"):
            await channel.send(sms("x", "bad", phone="not-a-phone"))
        with pytest.raises(ChannelError, match="alphanumeric sender"):
            await channel.send(sms("x", "bad2", sender="ГазСервіс"))
    finally:
        await channel.stop()


def test_settings_are_checked():
    with pytest.raises(ChannelError, match="unknown keys"):
        build({"host": "h", "port": 1, "system_id": "a", "password": "b", "windw": 3})
    with pytest.raises(ChannelError, match="required"):
        build({"host": "h", "port": 1})


async def test_a_pdu_split_by_a_pause_longer_than_the_socket_timeout_is_read_whole(smsc):
    """smpplib's read timeout would drop the half read and lose the framing; after the bind there is none."""
    channel, sinks = await running(smsc, connect_timeout_s=0.3)
    try:
        assert await smsc.send_mo(PHONE, "СТОП", split_gap_s=0.8) == 0
        assert await smsc.send_mo(PHONE, "Дякую") == 0
        assert [i.text for i in sinks.inbound] == ["СТОП", "Дякую"] and channel.reconnects == 0
    finally:
        await channel.stop()


async def test_an_smsc_that_stops_answering_enquire_link_is_bound_again(smsc):
    channel, _ = await running(smsc, enquire_link_interval_s=0.1, response_timeout_s=0.4)
    try:
        await eventually(lambda: smsc.enquire_links >= 2)
        assert channel.reconnects == 0
        smsc.answer_enquire_link = False
        await eventually(lambda: smsc.binds == 2)
        smsc.answer_enquire_link = True
        await eventually(lambda: channel.connected)
        await channel.send(sms("Pislya perepidklyuchennya", "after"))
        assert channel.reconnects == 1 and [m.text for m in smsc.mailbox.to(PHONE)] == ["Pislya perepidklyuchennya"]
    finally:
        await channel.stop()


async def test_a_long_reply_in_parts_is_one_inbound_message(smsc):
    complaint = ("Добрий день! Вже третій місяць мені нараховують оплату за газ за нормою, хоча лічильник "
                 "встановлений і я щомісяця передаю показники. Прошу перерахувати. Особовий рахунок 0123456789.")
    channel, sinks = await running(smsc)
    try:
        assert await smsc.send_mo("+380501112233", complaint) == 0
        [reply] = sinks.inbound
        assert reply.text == complaint and reply.thread_key == "sms:+380501112233"
    finally:
        await channel.stop()


async def test_receipts_after_a_restart_still_map_to_their_multipart_message(tmp_path):
    smsc = SmscServer(receipt_delay_s=1.0)
    await smsc.start()
    state = str(tmp_path / "sms-part-ids.jsonl")
    channel, _ = await running(smsc, state_path=state)
    receipt = await channel.send(sms(NOTICE, "before-restart"))
    await channel.stop()  # the channel's process ends before the receipts come
    channel, sinks = await running(smsc, state_path=state)
    try:
        await eventually(lambda: smsc.receipts_sent == 3)
        await asyncio.sleep(0.2)
        assert [(u.external_id, u.state) for u in sinks.updates] == [(receipt.external_id, "delivered")]
    finally:
        await channel.stop()
        await smsc.stop()
