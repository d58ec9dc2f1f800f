"""The generic API channel over HTTP: keys per source, strict bodies, size caps, idempotent storing,
nothing half-written on a refusal."""

from __future__ import annotations

import base64

from sqlalchemy import text

FORM_KEY = {"X-Api-Key": "sandbox-form-key"}
APP_KEY = {"X-Api-Key": "sandbox-app-key"}


def form(**overrides) -> dict:
    body = {"thread": "form-1", "dedupe_key": "f-1", "from": {"kind": "email", "value": "olena@example.com"},
            "text": "Прошу перевірити показники", "subject": "Показники"}
    body.update(overrides)
    return body


async def inbox_rows(engine) -> list:
    async with engine.db.connect() as conn:
        return (await conn.execute(text("SELECT channel, thread_key, dedupe_key, payload FROM inbox ORDER BY id"))).all()


async def test_each_source_lands_on_its_channel_with_a_namespaced_thread(engine, web):
    first = await web.post("/api/v1/inbound/contact_form", json=form(), headers=FORM_KEY)
    assert first.status == 202
    body = await first.json()
    assert body["thread"] == "form-1" and isinstance(body["inbox_id"], int)
    app = await web.post("/api/v1/inbound/mobile_app", headers=APP_KEY, json=form(
        thread="device-7:req-1", dedupe_key="a-1", **{"from": {"kind": "app", "value": "device-7", "name": "Олена"}}))
    assert app.status == 202
    rows = await inbox_rows(engine)
    assert [(r.channel, r.thread_key, r.dedupe_key) for r in rows] == [
        ("web_form", "web_form:contact_form:form-1", "api:contact_form:f-1"),
        ("app", "app:mobile_app:device-7:req-1", "api:mobile_app:a-1")]
    assert rows[0].payload["subject"] == "Показники" and rows[0].payload["sender"]["value"] == "olena@example.com"


async def test_repeat_of_a_dedupe_key_is_a_duplicate_not_a_second_item(engine, web):
    assert (await web.post("/api/v1/inbound/contact_form", json=form(), headers=FORM_KEY)).status == 202
    again = await web.post("/api/v1/inbound/contact_form", json=form(text="changed"), headers=FORM_KEY)
    assert again.status == 200 and await again.json() == {"duplicate": True, "thread": "form-1"}
    assert len(await inbox_rows(engine)) == 1


async def test_wrong_or_missing_key_and_unknown_source_are_refused_before_reading(engine, web):
    for headers in ({"X-Api-Key": "sandbox-app-key"}, {"X-Api-Key": ""}, {}):
        response = await web.post("/api/v1/inbound/contact_form", json=form(), headers=headers)
        assert response.status == 401 and (await response.json())["error"] == "invalid_api_key"
    unknown = await web.post("/api/v1/inbound/nowhere", json=form(), headers=FORM_KEY)
    assert unknown.status == 404 and (await unknown.json())["error"] == "unknown_source"
    assert await inbox_rows(engine) == []


async def test_bad_bodies_are_refused_with_the_field_named_and_nothing_stored(engine, web):
    too_big = base64.b64encode(b"x" * (2 * 1024 * 1024 + 1)).decode()
    cases = [
        ({**form(), "colour": "red"}, 400, "unknown_field"),
        ({k: v for k, v in form().items() if k != "dedupe_key"}, 400, "missing_field"),
        (form(thread="has spaces/and slashes"), 400, "invalid_field"),
        (form(**{"from": {"kind": "pigeon", "value": "x"}}), 400, "invalid_field"),
        (form(**{"from": {"kind": "email", "value": "a@b.c", "extra": 1}}), 400, "unknown_field"),
        (form(text=5), 400, "invalid_field"),
        (form(attachments=[{"filename": "a.txt", "content_type": "text/plain", "data": "@@not base64@@"}]), 400,
         "invalid_field"),
        (form(attachments=[{"filename": "a.txt", "content_type": "text/plain", "data": too_big}]), 413,
         "attachment_too_large"),
        (form(attachments=[{"filename": f"{i}.txt", "content_type": "text/plain", "data": "eA=="} for i in range(6)]),
         400, "too_many_attachments"),
    ]
    for body, status, code in cases:
        response = await web.post("/api/v1/inbound/contact_form", json=body, headers=FORM_KEY)
        assert response.status == status, (body, await response.text())
        assert (await response.json())["error"] == code
    malformed = await web.post("/api/v1/inbound/contact_form", data=b'{"thread": ', headers=FORM_KEY)
    assert malformed.status == 400 and (await malformed.json())["error"] == "malformed_json"
    huge = await web.post("/api/v1/inbound/contact_form", data=b"x" * (9 * 1024 * 1024), headers=FORM_KEY)
    assert huge.status == 413 and (await huge.json())["error"] == "body_too_large"
    assert await inbox_rows(engine) == []


async def test_attachment_within_the_cap_is_kept(engine, web):
    data = base64.b64encode("лічильник 12345".encode()).decode()
    response = await web.post("/api/v1/inbound/contact_form", headers=FORM_KEY, json=form(
        attachments=[{"filename": "reading.txt", "content_type": "text/plain", "data": data}]))
    assert response.status == 202
    [row] = await inbox_rows(engine)
    [attachment] = row.payload["attachments"]
    assert attachment["filename"] == "reading.txt" and base64.b64decode(attachment["data"]).decode() == "лічильник 12345"
