"""The informing API: templates saved as versions and refused with every reason (IC-01), a preview for a
real client, the operator's send stored in the outbox, its recorded steps, and the client's timeline."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import text

OUTAGE = {
    "name": "outage", "topic": "service",
    "variables": [{"name": "street", "type": "text", "max_length": 50}, {"name": "day", "type": "date"}],
    "bodies": {"sms": {"text": "Відключення газу {{ day }}, вул. {{ street }}."},
               "email": {"subject": "Відключення {{ day }}", "text": "Вул. {{ street }}, {{ day }}."}},
}


async def _client(engine) -> int:
    async with engine.db.begin() as conn:
        client = (await conn.execute(text("INSERT INTO clients (kind, full_name, segment, language)"
                                          " VALUES ('person', 'Олена', 'regular', 'uk')"
                                          " RETURNING id"))).scalar_one()
        await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                " VALUES (:c, 'phone', '+380671234567', true)"), {"c": client})
    return int(client)


async def test_templates_are_versioned_and_refused_with_their_reasons(web, login_as):
    admin = await login_as("admin")
    saved = await web.post("/api/v1/informing/templates", json=OUTAGE, headers=admin.headers)
    assert saved.status == 201, await saved.text()
    body = await saved.json()
    assert body["template"]["version"] == 1
    assert body["sms"]["encoding"] == "ucs2" and body["sms"]["segments"] == 2  # 85 UCS-2 characters at the longest street: 67 + 18
    again = await web.post("/api/v1/informing/templates", json=OUTAGE, headers=admin.headers)
    assert (await again.json())["template"]["version"] == 1  # unchanged: no new version
    changed = {**OUTAGE, "bodies": {**OUTAGE["bodies"], "sms": {"text": "Газу не буде {{ day }}."}}}
    assert (await (await web.post("/api/v1/informing/templates", json=changed, headers=admin.headers)).json())["template"]["version"] == 2

    unknown = {**OUTAGE, "bodies": {"sms": {"text": "Борг {{ debt }} грн"}}}
    refused = await web.post("/api/v1/informing/templates", json=unknown, headers=admin.headers)
    assert refused.status == 400
    problems = (await refused.json())["problems"]
    assert problems == [{"code": "unknown_variable", "where": "bodies.sms.text", "detail": "debt"}]
    long_sms = {**OUTAGE, "bodies": {"sms": {"text": "Шановний клієнте! " * 12 + "{{ street }}"}}}
    too_long = await (await web.post("/api/v1/informing/templates", json=long_sms, headers=admin.headers)).json()
    assert [p["code"] for p in too_long["problems"]] == ["too_many_segments"]
    listed = await (await web.get("/api/v1/informing/templates", headers=admin.headers)).json()
    assert [(t["name"], t["version"]) for t in listed["templates"]] == [("outage", 2)]


async def test_preview_send_steps_and_timeline_for_a_real_client(engine, web, login_as):
    engine.informing.settings = replace(engine.informing.settings, sending_hours=None)  # any hour of the day
    admin, operator, marketer = await login_as("admin"), await login_as("cc_operator"), await login_as("marketer")
    assert (await web.post("/api/v1/informing/templates", json=OUTAGE, headers=admin.headers)).status == 201
    client = await _client(engine)
    values = {"street": "Хрещатик", "day": "2026-12-09"}
    shown = await (await web.post("/api/v1/informing/templates/preview", headers=admin.headers,
                                  json={"name": "outage", "client_id": client, "values": values})).json()
    assert shown["channels"]["sms"]["text"] == "Відключення газу 09.12.2026, вул. Хрещатик."
    assert shown["channels"]["sms"]["address"] == "+38067***4567"  # the administrator sees no client's phone
    assert shown["channels"]["email"]["address"] is None
    missing = await web.post("/api/v1/informing/templates/preview", headers=admin.headers,
                             json={"name": "outage", "client_id": client, "values": {"street": "Хрещатик"}})
    assert missing.status == 400 and (await missing.json())["problems"][0]["code"] == "value_missing"

    message = {"client_id": client, "template": "outage", "topic": "service", "values": values,
               "dedupe_key": "desk-1", "chain": ["email"]}
    assert (await web.post("/api/v1/informing/messages", json=message, headers=marketer.headers)).status == 403
    sent = await web.post("/api/v1/informing/messages", json=message, headers=operator.headers)
    assert sent.status == 202
    message_id = (await sent.json())["message_id"]
    repeated = await (await web.post("/api/v1/informing/messages", json=message, headers=operator.headers)).json()
    assert repeated == {"message_id": message_id, "created": False}

    async def steps():
        data = await (await web.get(f"/api/v1/informing/messages/{message_id}", headers=operator.headers)).json()
        return data if data["message"]["state"] == "undeliverable" else None

    from tests.support.engine import eventually

    data = await eventually(steps, 15.0)
    assert data["message"]["origin"] == "operator" and data["message"]["reason"] == "email: no_address"
    assert [s["state"] for s in data["steps"]] == ["queued", "undeliverable"]
    timeline = await (await web.get(f"/api/v1/informing/clients/{client}/timeline", headers=operator.headers)).json()
    assert [(i["direction"], i["state"], i["message_id"]) for i in timeline["items"]] == [
        ("outbound", "undeliverable", message_id)]
