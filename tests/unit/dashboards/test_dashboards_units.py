"""Pure parts of the gateway: masking per role, strict bodies, the streamed XLSX, the event relay."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from actors.event_hub import EventHub
from dashboards.errors import ApiError
from dashboards.masking import mask
from dashboards.relay import EventRelay
from dashboards.reply_shapes import (
    AGENT,
    AUDIT_ENTRY,
    CARD,
    DUPLICATES,
    EVENT,
    MESSAGE,
    TEMPLATE_PREVIEW,
    TICKET,
    TICKET_EVENT,
)
from dashboards.schema import Body, Field
from dashboards.xlsx_stream import XlsxStream


class Hub:
    """The event hub seen through the interface the gateway uses (snapshot, events_after)."""

    def __init__(self) -> None:
        self.hub = EventHub(ring_size=10)

    async def snapshot(self):
        return await self.hub.get_snapshot()

    async def events_after(self, seq, timeout_s=15.0):
        return await self.hub.events_after(seq, timeout_s)


def test_masking_follows_the_role_fields_and_leaves_the_original_alone():
    card = {"client": {"full_name": "Шевченко Тарас Григорович"}, "name": "general",
            "contact_points": [{"kind": "phone", "value": "+380671234567"}, {"kind": "email", "value": "taras@example.com"}],
            "accounts": [{"account_no": "1234567890", "service_address": "м. Київ, вул. Хрещатик, 1", "balance": "12.50"}],
            "related_contacts": [{"full_name": "Шевченко Олена", "phones": ["+380501112233"]}]}
    masked = mask(card, CARD, frozenset({"name", "phone", "email", "address", "account_no", "balance"}))
    assert masked["client"]["full_name"] == "Ш. Т. Г." and masked["name"] == "general"
    assert [c["value"] for c in masked["contact_points"]] == ["+38067***4567", "t***@example.com"]
    assert masked["accounts"][0] == {"account_no": "***7890", "service_address": "м. Київ, ***", "balance": "***"}
    assert masked["related_contacts"][0] == {"full_name": "Ш. О.", "phones": ["+38050***2233"]}
    only_email = mask(card, CARD, frozenset({"email"}))
    assert only_email["contact_points"][0]["value"] == "+380671234567"
    assert card["client"]["full_name"] == "Шевченко Тарас Григорович"


def test_masking_goes_by_what_a_field_means_not_by_its_name():
    messenger = frozenset({"messenger"})
    history = [{"kind": "status", "author": "agent:7", "data": {"from": "new", "to": "in_progress"}},
               {"kind": "created", "author": "system", "data": {"channel": "viber", "sender": "5a8Kq0vZ1xY2=="}}]
    shown = mask(history, [TICKET_EVENT], frozenset({"name", "phone", "email", "messenger"}))
    assert shown[0]["data"] == {"from": "new", "to": "in_progress"}  # a status, not a sender
    assert shown[1]["data"]["sender"] == "5a***"
    messages = [{"author": "viber:5a8Kq0vZ1xY2=="}, {"author": "telegram:123456789"},
                {"author": "email:olena@example.com"}, {"author": "agent:12"}, {"author": "system"}]
    assert [m["author"] for m in mask(messages, [MESSAGE], messenger)] == [
        "viber:5a***", "telegram:12***", "email:olena@example.com", "agent:12", "system"]
    call = {"channel": "voice", "sender": "+380671234567",
            "attributes": {"call": {"caller": "+380671234567", "did": "0800300500"}, "call_back": {"number": "0671234567"}}}
    assert mask(call, TICKET, frozenset({"phone"})) == {
        "channel": "voice", "sender": "+38067***4567",
        "attributes": {"call": {"caller": "+38067***4567", "did": "0800300500"}, "call_back": {"number": "***67"}}}
    ticket = {"channel": "telegram", "sender": "123456789"}  # a chat id is no phone number
    assert mask(ticket, TICKET, frozenset({"phone"}))["sender"] == "123456789"
    assert mask(ticket, TICKET, messenger)["sender"] == "12***"


def test_internal_keys_never_leave_and_public_ids_stand_in_for_them():
    event = {"type": "conversation", "id": "viber:5a8Kq0vZ1xY2==", "conversation_id": 41, "agent_id": 3,
             "state": {"thread_key": "viber:5a8Kq0vZ1xY2==", "channel": "viber"}}
    for fields in (frozenset(), frozenset({"messenger"})):
        shown = mask(event, EVENT, fields)
        assert shown["id"] == 41 and "thread_key" not in shown["state"]
    agent = {"conversations": ["email:<a1@mail.example.com>"], "conversation_ids": [41],
             "offers": [{"offer_id": "o1", "conversation": "viber:5a8Kq0vZ1xY2==", "conversation_id": 42}]}
    shown = mask(agent, AGENT, frozenset())
    assert shown["conversations"] == [41] and shown["offers"][0]["conversation"] == 42
    assert "viber" not in str(shown) and "mail.example.com" not in str(shown)
    for hidden in ({"type": "reply", "id": "webchat:site:visit-1", "state": {"text": "Вітаю"}},
                   {"type": "escalation", "id": "26-1:resolution", "state": {"conversation": "telegram:123456789"}}):
        assert "webchat:" not in str(mask(hidden, EVENT, frozenset())) and "telegram:" not in str(mask(hidden, EVENT, frozenset()))


def test_an_audit_entry_written_under_a_thread_key_shows_it_masked():
    entries = [{"entity": "conversation", "entity_id": "viber:5a8Kq0vZ1xY2=="}, {"entity": "conversation", "entity_id": "41"},
               {"entity": "client", "entity_id": "7"}, {"entity": "conversation", "entity_id": "webchat:site:visit-1"}]
    shown = [e["entity_id"] for e in mask(entries, [AUDIT_ENTRY], frozenset({"messenger"}))]
    assert shown == ["viber:5a***", "41", "7", "webchat:site:visit-1"]


def test_a_duplicate_candidate_shows_why_as_the_role_may_see_it():
    found = {"candidates": [{"client_id": 2, "full_name": "Шевченко Тарас", "score": 0.9, "reasons": [
        {"reason": "email", "value": "taras@example.com"}, {"reason": "eic_code", "value": "56XS000000771234"},
        {"reason": "name_and_address", "name_similarity": 0.8, "service_address": "м. Київ, вул. Хрещатик, 1"}]}]}
    shown = mask(found, DUPLICATES, frozenset({"email", "account_no", "address"}))["candidates"][0]
    assert shown["full_name"] == "Шевченко Тарас" and shown["score"] == 0.9
    assert [r.get("value", r.get("service_address")) for r in shown["reasons"]] == [
        "t***@example.com", "***1234", "м. Київ, ***"]
    assert mask(found, DUPLICATES, frozenset({"phone"})) == found


def test_a_filled_template_shows_each_channel_s_address_as_the_role_may_see_it():
    preview = {"template": "debt", "channels": {"sms": {"text": "Борг 12 грн", "address": "+380671234567"},
                                                "email": {"text": "Борг", "address": "taras@example.com"},
                                                "viber": {"text": "Борг", "address": "5a8Kq0vZ1xY2=="}}}
    shown = mask(preview, TEMPLATE_PREVIEW, frozenset({"phone", "email", "messenger"}))
    assert [c["address"] for c in shown["channels"].values()] == ["+38067***4567", "t***@example.com", "5a***"]
    assert shown["channels"]["sms"]["text"] == "Борг 12 грн"
    assert mask(preview, TEMPLATE_PREVIEW, frozenset({"name"})) == preview


def test_body_refuses_unknown_missing_and_mistyped_fields():
    body = Body("T", {"state": Field(str, required=True, choices=("a", "b")), "n": Field(int)})
    assert body.validate({"state": "a", "n": 2}) == {"state": "a", "n": 2}
    for data, code in (({"state": "a", "x": 1}, "unknown_field"), ({}, "missing_field"), ({"state": "c"}, "invalid_field"),
                       ({"state": "a", "n": True}, "invalid_field"), ([], "invalid_body")):
        with pytest.raises(ApiError) as refused:
            body.validate(data)
        assert refused.value.code == code and refused.value.status == 400


def test_streamed_xlsx_is_a_valid_workbook_that_rolls_over_to_a_new_sheet():
    book = XlsxStream(["number", "created_at", "text"], "Tickets", max_rows=3)
    out = io.BytesIO()
    out.write(book.rows([("26-1", datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "a < b & \x01c"), ("26-2", None, "ok")]))
    out.write(book.rows([("26-3", None, "x")]))
    out.write(book.close())
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    assert archive.testzip() is None
    assert {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "[Content_Types].xml"} <= set(archive.namelist())
    ns = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    first = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    second = ElementTree.fromstring(archive.read("xl/worksheets/sheet2.xml"))
    assert len(first.findall(".//s:row", ns)) == 3 and len(second.findall(".//s:row", ns)) == 2  # header each
    texts = [t.text for t in first.findall(".//s:t", ns)]
    assert "a < b & c" in texts


async def test_relay_serves_followers_from_its_ring_and_reports_gaps():
    hub = Hub()
    relay = EventRelay(hub, ring_size=4, poll_s=0.2)
    await relay.start()
    try:
        await hub.hub.publish([{"type": "agent", "id": str(i), "state": {}} for i in range(3)])
        answer = await relay.after(0, 2.0)
        assert [e["id"] for e in answer["events"]] == ["0", "1", "2"] and not answer["gap"]
        await hub.hub.publish([{"type": "agent", "id": str(i), "state": {}} for i in range(3, 15)])
        late = await relay.after(1, 2.0)  # gone from both rings
        assert late["gap"] is True
        ahead = await relay.after(10_000, 5.0)  # an id from before a hub restart
        assert ahead["gap"] is True
    finally:
        await relay.stop()
