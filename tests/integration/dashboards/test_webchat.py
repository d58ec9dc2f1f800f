"""The widget's public web-chat API over HTTP against the in-process engine: a visitor's session and
message become a ticket, the agent's reply (through the conversation actor) arrives on the visitor's
event stream once, and a dropped stream resumes with Last-Event-ID; forged, expired and foreign-origin
calls, oversized bodies, replays and floods are refused clearly with nothing stored twice."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from dashboards.context import GATEWAY
from dashboards.routes.webchat import WEBCHAT
from dashboards.routes.webchat_visitor import VisitorTokens
from tests.integration.dashboards.conftest import make_user
from tests.integration.dashboards.test_dashboards_live import read_events
from tests.support.engine import add_client, eventually

SITE = "https://www.example-utility.ua"
CABINET = "https://cabinet.example-utility.ua"
ORIGIN = {"Origin": SITE}


@pytest.fixture(autouse=True)
def allowed_origins(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_WEBCHAT_ORIGINS", f"{SITE}, {CABINET}")


async def start(web, origin: str = SITE, **visitor) -> dict:
    response = await web.post("/api/v1/webchat/sessions", json={"source": "site_chat", **visitor},
                              headers={"Origin": origin})
    assert response.status == 201, await response.text()
    assert response.headers["Access-Control-Allow-Origin"] == origin
    return await response.json()


async def say(web, session: dict, text_: str, key: str, origin: str = SITE):
    return await web.post("/api/v1/webchat/messages", json={"text": text_, "dedupe_key": key},
                          headers={"Origin": origin, "X-Visitor-Token": session["token"]})


async def ticket_of(engine, thread_key: str):
    async with engine.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT t.number, t.channel, t.client_id FROM tickets t JOIN conversations c ON c.ticket_id = t.id"
            " WHERE c.thread_key = :k"), {"k": thread_key})).first()


async def count(engine, table: str, where: str, **params) -> int:
    async with engine.db.connect() as conn:
        return (await conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)).scalar_one()


async def agent_reply(engine, agent_id: int, thread_key: str, text_: str) -> str:
    dedupe_key = f"reply:{agent_id}:{uuid.uuid4().hex[:8]}"
    await engine.system.ask(ActorRef("conversation", thread_key), m.Reply(agent_id, text_, dedupe_key))
    return dedupe_key


async def test_visitor_message_becomes_a_ticket_and_the_agents_replies_stream_back_once(engine, web):
    client_id = await add_client(engine, "Ковальчук Марія Іванівна", "+380501234567")
    agent_id, _ = await make_user(engine, "cc_operator")
    session = await start(web, name="Марія", phone="+380501234567")
    thread_key = f"webchat:site_chat:{session['thread']}"

    stream = await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=ORIGIN)
    assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["Access-Control-Allow-Origin"] == SITE
    [(_, name, snapshot)] = await read_events(stream, 1)
    assert name == "snapshot" and snapshot["messages"] == []

    sent = await say(web, session, "Добрий день, не бачу оплату за жовтень", "k-1")
    assert sent.status == 202, await sent.text()
    assert (await sent.json())["id"] == "k-1"
    ticket = await eventually(lambda: ticket_of(engine, thread_key))
    assert ticket.channel == "webchat" and ticket.client_id == client_id  # found by the phone the visitor gave

    first = await agent_reply(engine, agent_id, thread_key, "Перевіряю, хвилинку")
    second = await agent_reply(engine, agent_id, thread_key, "Оплата надійшла 3 листопада")
    got = await read_events(stream, 2)
    assert [(n, e["id"], e["text"]) for _, n, e in got] == [
        ("reply", first, "Перевіряю, хвилинку"), ("reply", second, "Оплата надійшла 3 листопада")]
    # the desk's record of each reply (a "message" event, direction out) does not reach the visitor twice
    await engine.hub.publish([{"type": "reply", "id": thread_key, "state": {"text": "marker", "dedupe_key": "mk"}}])
    [(last_id, _, marker)] = await read_events(stream, 1)
    assert marker["id"] == "mk"
    stream.close()

    # while the visitor's connection is down the agent answers; the reconnect gets exactly that
    missed = await agent_reply(engine, agent_id, thread_key, "Чи можу ще чимось допомогти?")
    resumed = await web.get("/api/v1/webchat/stream", params={"token": session["token"]},
                            headers={**ORIGIN, "Last-Event-ID": last_id})
    [(_, name, event)] = await read_events(resumed, 1)
    assert (name, event["id"], event["text"]) == ("reply", missed, "Чи можу ще чимось допомогти?")
    resumed.close()

    # a fresh page load gets the transcript of the open conversation, in order, the visitor's own keys kept
    # (and deliveries not stored, like the marker, from the ring)
    reloaded = await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=ORIGIN)
    [(_, name, snapshot)] = await read_events(reloaded, 1)
    assert name == "snapshot"
    assert [(x["direction"], x["id"]) for x in snapshot["messages"]] == [
        ("in", "k-1"), ("out", first), ("out", second), ("out", missed), ("out", "mk")]
    reloaded.close()


async def test_a_record_without_its_delivery_still_reaches_the_visitor(engine, web):
    session = await start(web)
    thread_key = f"webchat:site_chat:{session['thread']}"
    stream = await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=ORIGIN)
    await read_events(stream, 1)
    await engine.hub.publish([
        {"type": "message", "id": "webchat:site_chat:someone-else", "state": {"direction": "out", "text": "не вам"}},
        {"type": "message", "id": thread_key, "state": {"direction": "in", "text": "власне"}},
        {"type": "message", "id": thread_key, "state": {"direction": "out", "text": "Відповідь з робочого місця"}}])
    [(seq, name, event)] = await read_events(stream, 1)
    assert (name, event["text"], event["id"]) == ("message", "Відповідь з робочого місця", f"event:{seq}")
    stream.close()


async def test_a_replayed_dedupe_key_is_stored_once(engine, web):
    session = await start(web)
    thread_key = f"webchat:site_chat:{session['thread']}"
    assert (await say(web, session, "Показники: 04512", "send-1")).status == 202
    again = await say(web, session, "Показники: 04512", "send-1")
    assert again.status == 200 and await again.json() == {"id": "send-1", "duplicate": True}
    await eventually(lambda: ticket_of(engine, thread_key))
    assert await count(engine, "inbox", "thread_key = :k", k=thread_key) == 1
    assert await count(engine, "messages", "dedupe_key LIKE :k", k=f"{thread_key}:%") == 1
    # the same key from another visitor is that visitor's own message
    other = await start(web)
    assert (await say(web, other, "Інше питання", "send-1")).status == 202


async def test_forged_and_expired_tokens_are_refused(engine, web):
    session = await start(web)
    payload, signature = session["token"].split(".")
    other_payload = (await start(web))["token"].split(".")[0]
    desk = web.app[WEBCHAT]
    _, expired = VisitorTokens(desk.settings.secret, ttl_s=-60).issue("site_chat")
    _, foreign = VisitorTokens(b"another gateway's secret, 32+ chars!!", ttl_s=3600).issue("site_chat")
    forged = {"tampered signature": f"{payload}.{signature[:-2]}xx",
              "someone else's thread": f"{other_payload}.{signature}",
              "another secret": foreign, "no signature": payload, "garbage": "not-a-token", "empty": ""}
    for case, token in forged.items():
        response = await say(web, {"token": token}, "hello", "k-1")
        assert response.status == 401, case
        assert (await response.json())["error"] == "invalid_visitor_token", case
    missing = await web.post("/api/v1/webchat/messages", json={"text": "hi", "dedupe_key": "k"}, headers=ORIGIN)
    assert missing.status == 401 and missing.headers["Access-Control-Allow-Origin"] == SITE
    late = await say(web, {"token": expired}, "hello", "k-1")
    assert late.status == 401 and (await late.json())["error"] == "visitor_token_expired"
    for token in (expired, forged["tampered signature"]):
        stream = await web.get("/api/v1/webchat/stream", params={"token": token}, headers=ORIGIN)
        assert stream.status == 401
    assert await count(engine, "inbox", "channel = 'webchat'") == 0


async def test_pages_of_other_origins_are_refused(engine, web):
    evil = {"Origin": "https://evil.example"}
    refused = await web.post("/api/v1/webchat/sessions", json={"source": "site_chat"}, headers=evil)
    assert refused.status == 403 and (await refused.json())["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers
    session = await start(web, origin=CABINET)
    assert (await say(web, session, "hi", "k-1", origin="https://evil.example")).status == 403
    stream = await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=evil)
    assert stream.status == 403
    preflight = await web.options("/api/v1/webchat/messages", headers={
        **evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    allowed = await web.options("/api/v1/webchat/messages", headers={
        "Origin": CABINET, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-visitor-token"})
    assert allowed.status == 204 and allowed.headers["Access-Control-Allow-Origin"] == CABINET
    assert "X-Visitor-Token" in allowed.headers["Access-Control-Allow-Headers"]
    # the gateway's own pages (the demo) need no listing; a request without Origin is no page's
    own = await web.post("/api/v1/webchat/sessions", json={"source": "site_chat"},
                         headers={"Origin": str(web.make_url("")).rstrip("/")})
    assert own.status == 201
    assert (await web.post("/api/v1/webchat/sessions", json={"source": "site_chat"})).status == 201
    assert await count(engine, "inbox", "channel = 'webchat'") == 0


async def test_oversized_and_malformed_bodies_are_refused_with_a_reason(engine, web):
    session = await start(web)
    limits = web.app[WEBCHAT].settings
    huge = await web.post("/api/v1/webchat/messages", data=b'{"text": "' + b"x" * limits.max_body_bytes + b'"}',
                          headers={**ORIGIN, "X-Visitor-Token": session["token"], "Content-Type": "application/json"})
    assert huge.status == 413 and (await huge.json())["error"] == "body_too_large"
    cases = [({"text": "я" * (limits.max_text_chars + 1), "dedupe_key": "k"}, "field_too_long", "text"),
             ({"text": "hi", "dedupe_key": "has spaces/slash"}, "invalid_field", "dedupe_key"),
             ({"text": "   ", "dedupe_key": "k"}, "missing_field", "text"),
             ({"text": "hi"}, "missing_field", "dedupe_key"),
             ({"text": "hi", "dedupe_key": "k", "thread": "someone-else"}, "unknown_field", "thread")]
    for body, code, field in cases:
        response = await web.post("/api/v1/webchat/messages", json=body,
                                  headers={**ORIGIN, "X-Visitor-Token": session["token"]})
        assert response.status == 400, body
        assert (await response.json())["error"] == code and (await response.json())["field"] == field
    bad_phone = await web.post("/api/v1/webchat/sessions", json={"source": "site_chat", "phone": "<script>"},
                               headers=ORIGIN)
    assert bad_phone.status == 400 and (await bad_phone.json())["field"] == "phone"
    unknown = await web.post("/api/v1/webchat/sessions", json={"source": "contact_form"}, headers=ORIGIN)
    assert unknown.status == 404 and (await unknown.json())["error"] == "unknown_source"
    assert await count(engine, "inbox", "channel = 'webchat'") == 0


async def test_each_visitor_is_rate_limited_on_their_own(engine, web):
    flooding, quiet = await start(web), await start(web)
    burst = web.app[WEBCHAT].settings.burst
    for i in range(burst):
        assert (await say(web, flooding, f"spam {i}", f"s-{i}")).status == 202
    refused = await say(web, flooding, "one more", "s-more")
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    body = await refused.json()
    assert body["error"] == "rate_limited" and body["retry_after_s"] >= 1
    assert refused.headers["Access-Control-Allow-Origin"] == SITE
    assert (await say(web, quiet, "Моє питання", "q-1")).status == 202
    thread_key = f"webchat:site_chat:{flooding['thread']}"
    assert await count(engine, "inbox", "thread_key = :k", k=thread_key) == burst


async def test_a_visitor_may_hold_only_a_few_streams_at_once(web):
    session = await start(web)
    limit = web.app[WEBCHAT].settings.streams_per_visitor
    streams = [await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=ORIGIN)
               for _ in range(limit)]
    assert all(s.status == 200 for s in streams)
    for stream in streams:
        await read_events(stream, 1)
    extra = await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=ORIGIN)
    assert extra.status == 429 and (await extra.json())["error"] == "too_many_streams"
    for stream in streams:
        stream.close()

    async def reopened():  # a closed tab's stream gives its place back
        response = await web.get("/api/v1/webchat/stream", params={"token": session["token"]}, headers=ORIGIN)
        if response.status != 200:
            return None
        response.close()
        return True

    assert await eventually(reopened)


async def test_widget_strings_come_in_the_visitors_language(web):
    uk = await (await web.get("/api/v1/webchat/config", params={"source": "site_chat"}, headers=ORIGIN)).json()
    en = await (await web.get("/api/v1/webchat/config", params={"source": "site_chat", "lang": "en"},
                              headers=ORIGIN)).json()
    assert uk["lang"] == "uk" and uk["strings"]["send"] == "Надіслати"
    assert en["lang"] == "en" and en["strings"]["send"] == "Send" and set(uk["strings"]) == set(en["strings"])
    assert uk["max_text_chars"] == web.app[WEBCHAT].settings.max_text_chars
    refused = await web.post("/api/v1/webchat/messages?lang=en", json={"text": "x", "dedupe_key": "k"},
                             headers={**ORIGIN, "X-Visitor-Token": "nope"})
    assert (await refused.json())["message"] == "The chat session is not valid. Please start the conversation again."


async def test_a_resume_after_the_ring_forgot_gets_the_transcript_again(engine, web):
    session = await start(web)
    thread_key = f"webchat:site_chat:{session['thread']}"
    assert (await say(web, session, "Чи є заборгованість?", "k-1")).status == 202
    await eventually(lambda: ticket_of(engine, thread_key))
    engine.hub.hub.ring = type(engine.hub.hub.ring)(engine.hub.hub.ring, maxlen=5)
    web.app[GATEWAY].relay.ring = type(web.app[GATEWAY].relay.ring)(maxlen=5)
    await engine.hub.publish([{"type": "queue", "id": "general", "state": {"waiting_count": i}} for i in range(12)])
    for last_seen in ("1", "999999"):  # events long gone; an id from before a hub restart
        resumed = await web.get("/api/v1/webchat/stream", params={"token": session["token"]},
                                headers={**ORIGIN, "Last-Event-ID": last_seen})
        [(_, name, snapshot)] = await read_events(resumed, 1)
        assert name == "snapshot" and [x["id"] for x in snapshot["messages"]] == ["k-1"], last_seen
        resumed.close()
