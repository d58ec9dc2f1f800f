"""Passport data on the card (high-level requirements §2: owner's full name and passport data): sealed in
the database, unmasked only for the roles the matrix allows, every unmasked view audited."""

from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration
BODY = {"series": "МК", "number": "654321", "issued_by": "Полтавським МВ УМВС", "issued_on": "2001-09-03"}


async def test_passport_is_sealed_at_rest_and_shown_per_role_with_each_view_audited(engine, web, login_as):
    clerk, operator, supervisor = (await login_as("sc_operator"), await login_as("cc_operator"),
                                   await login_as("supervisor"))
    created = await (await web.post("/api/v1/clients", headers=clerk.headers,
                                    json={"full_name": "Паспорт Тест"})).json()
    client_id = created["id"]
    response = await web.put(f"/api/v1/clients/{client_id}/passport", headers=clerk.headers,
                             json={"version": created["version"], **BODY})
    assert response.status == 200, await response.text()

    async with engine.db.connect() as conn:
        sealed = bytes((await conn.execute(text("SELECT sealed FROM client_passports WHERE client_id = :c"),
                                           {"c": client_id})).scalar_one())
        dumped = (await conn.execute(text("SELECT string_agg(coalesce(after::text, ''), '') FROM audit_log")
                                     )).scalar_one()
    assert b"654321" not in sealed and "654321" not in dumped

    shown = await (await web.get(f"/api/v1/clients/{client_id}/passport", headers=clerk.headers)).json()
    assert shown == {"passport": BODY, "masked": False}
    for masked_role in (operator, supervisor):
        shown = await (await web.get(f"/api/v1/clients/{client_id}/passport", headers=masked_role.headers)).json()
        assert shown["masked"] is True and "654321" not in str(shown) and shown["passport"]["number"] == "***21"

    history = await (await web.get(f"/api/v1/clients/{client_id}/history", headers=clerk.headers)).json()
    assert [(c["action"], c["actor"]) for c in history["changes"]] == [
        ("client.passport.view", f"agent:{clerk.id}"), ("client.passport.set", f"agent:{clerk.id}"),
        ("client.create", f"agent:{clerk.id}")]


async def test_a_masked_role_cannot_write_a_passport_and_bad_numbers_are_refused(web, login_as):
    clerk, operator = await login_as("sc_operator"), await login_as("cc_operator")
    created = await (await web.post("/api/v1/clients", headers=clerk.headers,
                                    json={"full_name": "Паспорт Два"})).json()
    url = f"/api/v1/clients/{created['id']}/passport"
    response = await web.put(url, headers=operator.headers, json={"version": created["version"], **BODY})
    assert response.status == 403
    response = await web.put(url, headers=clerk.headers,
                             json={"version": created["version"], **BODY, "number": "12"})
    assert response.status == 400 and (await response.json())["error"] == "invalid_field"
    shown = await (await web.get(url, headers=clerk.headers)).json()
    assert shown["passport"] is None
