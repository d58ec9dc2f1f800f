"""Merging duplicate cards (high-level requirements §2 item 5: the duplicate check with an offer to fix
it; CM-01: every change in the audit log): the duplicate's accounts, contact points and tickets move to
the surviving card, the duplicate is deactivated and points at it; an undo gives back exactly what moved;
both are refused on a stale version and audited on both cards."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.support.engine import add_client

pytestmark = pytest.mark.integration


async def _ticket(engine, client_id: int) -> int:
    async with engine.db.begin() as conn:
        return (await conn.execute(text(
            "INSERT INTO tickets (number, conversation_id, channel, client_id, identified, type, priority,"
            " status, attributes) VALUES (:n, 1, 'telegram', :c, true, 'request', 'normal', 'new', '{}')"
            " RETURNING id"), {"n": f"T-{uuid.uuid4().hex[:8]}", "c": client_id})).scalar_one()


async def _add_point(engine, client_id: int, kind: str, value: str, primary: bool) -> None:
    async with engine.db.begin() as conn:
        await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                " VALUES (:c, :k, :v, :p)"), {"c": client_id, "k": kind, "v": value, "p": primary})


async def _card(web, user, client_id):
    response = await web.get(f"/api/v1/clients/{client_id}", headers=user.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def _ticket_clients(engine, *tickets: int) -> list[int]:
    async with engine.db.connect() as conn:
        rows = await conn.execute(text("SELECT client_id FROM tickets WHERE id = ANY (:ids) ORDER BY id"),
                                  {"ids": list(tickets)})
        return [r[0] for r in rows]


def _points(card):
    return {(p["kind"], p["value"], p["is_primary"]) for p in card["contact_points"]}


async def test_a_supervisor_merges_a_duplicate_and_undoes_it(engine, web, login_as):
    survivor = await add_client(engine, "Мельник Петро Іванович", "+380671110001")
    duplicate = await add_client(engine, "Мельник П. І.", "+380501110002")
    await _add_point(engine, duplicate, "phone", "+380671110001", False)  # the survivor's phone as well
    await _add_point(engine, duplicate, "email", "p.melnyk@example.ua", True)
    kept, moved = await _ticket(engine, survivor), await _ticket(engine, duplicate)
    supervisor = await login_as("supervisor")
    before_survivor, before_duplicate = await _card(web, supervisor, survivor), await _card(web, supervisor, duplicate)

    stale = await web.post(f"/api/v1/clients/{survivor}/merge", headers=supervisor.headers, json={
        "version": before_survivor["client"]["version"], "merged_client_id": duplicate,
        "merged_version": before_duplicate["client"]["version"] - 1})
    assert stale.status == 409 and (await stale.json())["current_version"] == before_duplicate["client"]["version"]

    response = await web.post(f"/api/v1/clients/{survivor}/merge", headers=supervisor.headers, json={
        "version": before_survivor["client"]["version"], "merged_client_id": duplicate,
        "merged_version": before_duplicate["client"]["version"], "reason": "одна особа, два записи"})
    assert response.status == 200, await response.text()
    merged = await response.json()
    assert (merged["accounts"], merged["contact_points"], merged["tickets"]) == (1, 2, 1)

    card = await _card(web, supervisor, survivor)
    assert _points(card) == {("phone", "+380671110001", True), ("phone", "+380501110002", False),
                             ("email", "p.melnyk@example.ua", True)}
    assert len(card["accounts"]) == 2
    assert await _ticket_clients(engine, kept, moved) == [survivor, survivor]
    gone = await _card(web, supervisor, duplicate)
    assert gone["client"]["active"] is False and gone["client"]["merged_into"] == survivor
    assert gone["contact_points"] == [] and gone["accounts"] == []

    again = await web.post(f"/api/v1/clients/{survivor}/merge", headers=supervisor.headers, json={
        "version": merged["version"], "merged_client_id": duplicate, "merged_version": merged["merged_version"]})
    assert again.status == 409 and (await again.json())["error"] == "merge_refused"

    undo = await web.post(f"/api/v1/client-merges/{merged['merge_id']}/undo", headers=supervisor.headers,
                          json={"reason": "різні особи"})
    assert undo.status == 200, await undo.text()
    assert _points(await _card(web, supervisor, duplicate)) == _points(before_duplicate)
    assert _points(await _card(web, supervisor, survivor)) == _points(before_survivor)
    restored = await _card(web, supervisor, duplicate)
    assert restored["client"]["active"] is True and restored["client"]["merged_into"] is None
    assert [a["account_no"] for a in restored["accounts"]] == [a["account_no"] for a in before_duplicate["accounts"]]
    assert len((await _card(web, supervisor, survivor))["accounts"]) == 1
    assert await _ticket_clients(engine, kept, moved) == [survivor, duplicate]
    twice = await web.post(f"/api/v1/client-merges/{merged['merge_id']}/undo", headers=supervisor.headers, json={})
    assert twice.status == 409

    for client_id, actions in ((survivor, ["client.merge.undo", "client.merge"]),
                               (duplicate, ["client.merge.undo", "client.merged_into"])):
        history = await (await web.get(f"/api/v1/clients/{client_id}/history", headers=supervisor.headers)).json()
        assert [c["action"] for c in history["changes"]][:2] == actions
        assert all(c["actor"] == f"agent:{supervisor.id}" for c in history["changes"][:2])
    listed = await (await web.get(f"/api/v1/clients/{duplicate}/merges", headers=supervisor.headers)).json()
    assert [(m["survivor_id"], m["merged_id"], m["tickets"], m["undone_at"] is not None)
            for m in listed["merges"]] == [(survivor, duplicate, 1, True)]


async def test_an_operator_may_not_merge_and_a_ticket_moves_only_along_a_merge(engine, web, login_as):
    first = await add_client(engine, "Бондар Олена", "+380671110003")
    second = await add_client(engine, "Бондар О.", "+380671110004")
    ticket = await _ticket(engine, second)
    operator = await login_as("cc_operator")
    refused = await web.post(f"/api/v1/clients/{first}/merge", headers=operator.headers,
                             json={"version": 1, "merged_client_id": second, "merged_version": 1})
    assert refused.status == 403
    with pytest.raises(Exception, match="fixed"):
        async with engine.db.begin() as conn:
            await conn.execute(text("UPDATE tickets SET client_id = :c WHERE id = :t"), {"c": first, "t": ticket})
    assert await _ticket_clients(engine, ticket) == [second]
