"""Changing the client card through the API (CM-01): every change audited with who, when, before, after
and why; concurrent edits refused with the current version; links to accounts ended, never deleted;
duplicate candidates (high-level requirements §2 item 5) by phone, e-mail, EIC and a name with an address
that read alike."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration


async def _account(engine, address="м. Київ, вул. Хрещатик, 1, кв. 5"):
    tag = str(uuid.uuid4().int)[:10]
    async with engine.db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance)"
            " VALUES (:no, :eic, :addr, 'Побутовий', 0)"), {"no": tag, "eic": f"56XS{tag}AB", "addr": address})
    return tag, f"56XS{tag}AB"


async def _card(web, user, client_id):
    response = await web.get(f"/api/v1/clients/{client_id}", headers=user.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def _history(web, user, client_id):
    response = await web.get(f"/api/v1/clients/{client_id}/history", headers=user.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_an_operator_creates_a_client_and_each_change_is_in_the_history(web, login_as):
    operator = await login_as("sc_operator")
    response = await web.post("/api/v1/clients", headers=operator.headers, json={
        "full_name": "Коваленко Ірина Петрівна", "contact_points": [{"kind": "phone", "value": "067 123 45 67"}],
        "reason": "звернення у сервісному центрі"})
    assert response.status == 201, await response.text()
    created = await response.json()
    client_id, version = created["id"], created["version"]

    card = await _card(web, operator, client_id)
    assert card["client"]["version"] == version and card["client"]["active"]
    assert [(p["kind"], p["value"], p["is_primary"]) for p in card["contact_points"]] == [
        ("phone", "+380671234567", True)]

    response = await web.post(f"/api/v1/clients/{client_id}/contact-points", headers=operator.headers,
                              json={"version": version, "kind": "email", "value": " I.Kovalenko@Example.UA "})
    assert response.status == 200, await response.text()
    version = (await response.json())["version"]
    phone_id = card["contact_points"][0]["id"]
    response = await web.patch(f"/api/v1/clients/{client_id}/contact-points/{phone_id}", headers=operator.headers,
                               json={"version": version, "value": "+38 (050) 765-43-21", "reason": "новий номер"})
    assert response.status == 200, await response.text()
    version = (await response.json())["version"]

    card = await _card(web, operator, client_id)
    assert {(p["kind"], p["value"]) for p in card["contact_points"]} == {
        ("phone", "+380507654321"), ("email", "i.kovalenko@example.ua")}
    changes = (await _history(web, operator, client_id))["changes"]
    assert [c["action"] for c in changes] == ["client.contact_point.change", "client.contact_point.add",
                                              "client.create"]
    assert changes[0]["before"] == {"kind": "phone", "value": "+380671234567"}
    assert changes[0]["after"] == {"kind": "phone", "value": "+380507654321", "reason": "новий номер"}
    assert all(c["actor"] == f"agent:{operator.id}" and c["at"] for c in changes), changes


async def test_a_change_made_on_an_old_version_is_a_conflict_not_an_overwrite(web, login_as):
    first, second = await login_as("cc_operator"), await login_as("cc_operator")
    created = await (await web.post("/api/v1/clients", headers=first.headers,
                                    json={"full_name": "Бондар Олег"})).json()
    version = created["version"]
    answers = await asyncio.gather(*(
        web.patch(f"/api/v1/clients/{created['id']}", headers=user.headers,
                  json={"version": version, "full_name": name})
        for user, name in ((first, "Бондар Олег Іванович"), (second, "Бондаренко Олег"))))
    statuses = sorted(a.status for a in answers)
    assert statuses == [200, 409], statuses
    conflict = await next(a for a in answers if a.status == 409).json()
    assert conflict["error"] == "version_conflict" and conflict["current_version"] == version + 1
    assert conflict["message"] and "Traceback" not in str(conflict)
    card = await _card(web, first, created["id"])
    winner = next(name for a, name in zip(answers, ("Бондар Олег Іванович", "Бондаренко Олег"), strict=True)
                  if a.status == 200)
    assert card["client"]["full_name"] == winner
    assert len((await _history(web, first, created["id"]))["changes"]) == 2


async def test_links_to_accounts_end_with_a_date_and_a_client_is_deactivated_not_deleted(engine, web, login_as):
    operator = await login_as("sc_operator")
    account_no, _ = await _account(engine)
    created = await (await web.post("/api/v1/clients", headers=operator.headers,
                                    json={"full_name": "Мельник Тарас"})).json()
    client_id, version = created["id"], created["version"]
    for role in ("owner", "contact_person"):
        response = await web.post(f"/api/v1/clients/{client_id}/accounts", headers=operator.headers,
                                  json={"version": version, "account_no": account_no, "role": role})
        assert response.status == 200, await response.text()
        version = (await response.json())["version"]
    assert sorted((await _card(web, operator, client_id))["accounts"][0]["roles"]) == ["contact_person", "owner"]

    response = await web.post(f"/api/v1/clients/{client_id}/accounts/unlink", headers=operator.headers,
                              json={"version": version, "account_no": account_no, "role": "contact_person",
                                    "reason": "більше не контактна особа"})
    assert response.status == 200, await response.text()
    version = (await response.json())["version"]
    assert (await _card(web, operator, client_id))["accounts"][0]["roles"] == ["owner"]
    history = await _history(web, operator, client_id)
    assert [(e["account_no"], e["role"], e["reason"]) for e in history["ended_links"]] == [
        (account_no, "contact_person", "більше не контактна особа")]

    response = await web.post(f"/api/v1/clients/{client_id}/deactivate", headers=operator.headers,
                              json={"version": version, "reason": "помер"})
    assert response.status == 200, await response.text()
    card = await _card(web, operator, client_id)
    assert card["client"]["active"] is False and card["accounts"][0]["account_no"] == account_no


async def test_bad_input_is_refused_with_the_reason_and_changes_nothing(engine, web, login_as):
    operator = await login_as("sc_operator")
    created = await (await web.post("/api/v1/clients", headers=operator.headers,
                                    json={"full_name": "Ткаченко Ганна"})).json()
    client_id, version = created["id"], created["version"]
    for body, code in (({"kind": "phone", "value": "12-34"}, "invalid_contact"),
                       ({"kind": "email", "value": "ganna@"}, "invalid_contact"),
                       ({"kind": "fax", "value": "123"}, "invalid_field")):
        response = await web.post(f"/api/v1/clients/{client_id}/contact-points", headers=operator.headers,
                                  json={"version": version, **body})
        assert response.status == 400, await response.text()
        assert (await response.json())["error"] == code
    response = await web.post(f"/api/v1/clients/{client_id}/accounts", headers=operator.headers,
                              json={"version": version, "account_no": "000000000001", "role": "owner"})
    assert response.status == 404 and (await response.json())["error"] == "not_found"
    for change in ({"segment": "platinum"}, {"full_name": "  "}):
        response = await web.patch(f"/api/v1/clients/{client_id}", headers=operator.headers,
                                   json={"version": version, **change})
        assert response.status == 400 and (await response.json())["error"] == "invalid_change"
    response = await web.patch(f"/api/v1/clients/{10**12}", headers=operator.headers,
                               json={"version": 1, "full_name": "Ніхто"})
    assert response.status == 404
    card = await _card(web, operator, client_id)
    assert card["client"]["version"] == version and card["contact_points"] == []
    assert [c["action"] for c in (await _history(web, operator, client_id))["changes"]] == ["client.create"]


async def test_roles_without_the_edit_permission_cannot_change_a_card(web, login_as):
    operator, marketer = await login_as("sc_operator"), await login_as("marketer")
    created = await (await web.post("/api/v1/clients", headers=operator.headers,
                                    json={"full_name": "Лисенко Петро"})).json()
    response = await web.patch(f"/api/v1/clients/{created['id']}", headers=marketer.headers,
                               json={"version": created["version"], "full_name": "Інший"})
    assert response.status == 403


async def test_duplicate_candidates_by_phone_eic_and_a_name_with_an_address_alike(engine, web, login_as):
    operator = await login_as("sc_operator")
    account_no, eic = await _account(engine, "м. Полтава, вул. Соборності, буд. 12, кв. 7")
    original = await (await web.post("/api/v1/clients", headers=operator.headers, json={
        "full_name": "Гончаренко Василь Миколайович",
        "contact_points": [{"kind": "phone", "value": "0671112299"}]})).json()
    await web.post(f"/api/v1/clients/{original['id']}/accounts", headers=operator.headers,
                   json={"version": original["version"], "account_no": account_no, "role": "owner"})

    response = await web.post("/api/v1/clients/duplicates", headers=operator.headers, json={
        "contact_points": [{"kind": "phone", "value": "+380 67 111 22 99"}]})
    assert response.status == 200, await response.text()
    (found,) = (await response.json())["candidates"]
    assert found["client_id"] == original["id"] and found["reasons"][0]["reason"] == "phone"

    response = await web.post("/api/v1/clients/duplicates", headers=operator.headers, json={"eic_codes": [eic]})
    assert [c["client_id"] for c in (await response.json())["candidates"]] == [original["id"]]

    response = await web.post("/api/v1/clients/duplicates", headers=operator.headers, json={
        "full_name": "Гончаренко Василь Миколайович",
        "service_address": "Полтава, вул. Соборності, 12, кв. 7"})
    (alike,) = [c for c in (await response.json())["candidates"] if c["client_id"] == original["id"]]
    assert alike["reasons"][0]["reason"] == "name_and_address" and alike["score"] >= 0.4

    twin = await (await web.post("/api/v1/clients", headers=operator.headers, json={
        "full_name": "Гончаренко В. М.", "contact_points": [{"kind": "phone", "value": "067 111 22 99"}]})).json()
    assert [c["client_id"] for c in twin["duplicates"]] == [original["id"]]
    response = await web.get(f"/api/v1/clients/{original['id']}/duplicates", headers=operator.headers)
    assert [c["client_id"] for c in (await response.json())["candidates"]] == [twin["id"]]

    response = await web.post("/api/v1/clients/duplicates", headers=operator.headers, json={
        "full_name": "Зовсім Інша Людина", "contact_points": [{"kind": "phone", "value": "0931234500"}]})
    assert original["id"] not in [c["client_id"] for c in (await response.json())["candidates"]]


async def test_the_audit_log_is_read_by_author_and_entity_for_audit_read_only(web, login_as):
    operator, supervisor = await login_as("sc_operator"), await login_as("supervisor")
    created = await (await web.post("/api/v1/clients", headers=operator.headers,
                                    json={"full_name": "Савченко Марія"})).json()
    response = await web.get("/api/v1/audit", headers=operator.headers)
    assert response.status == 403
    response = await web.get("/api/v1/audit", headers=supervisor.headers,
                             params={"entity": "client", "entity_id": str(created["id"])})
    assert response.status == 200, await response.text()
    entries = (await response.json())["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("client.create", f"agent:{operator.id}")]
    response = await web.get("/api/v1/audit", headers=supervisor.headers,
                             params={"actor": f"agent:{operator.id}", "since": "2999-01-01T00:00:00+00:00"})
    assert (await response.json())["entries"] == []
    response = await web.get("/api/v1/audit", headers=supervisor.headers, params={"since": "вчора"})
    assert response.status == 400
