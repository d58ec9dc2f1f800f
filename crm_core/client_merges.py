"""Merging a duplicate client card into the surviving one, and undoing it (the duplicate check's "offer to
fix it", high-level requirements §2 item 5).

A merge moves the merged client's links to accounts, contact points and tickets (with their
conversations) to the survivor and deactivates the merged card, pointing it at the survivor; what moved is
recorded in ``client_merges``, so an undo moves exactly that back and nothing the survivor had or gained
since.  Both are one transaction with their audit entries on both cards, under both cards' versions.  A
ticket's client is otherwise fixed at creation: the database lets it move only along a standing merge.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.client_edits import Author, CardEditError, ClientNotFound, next_version, record_change


class MergeRefused(CardEditError):
    code = "merge_refused"


async def _lock_pair(conn: AsyncConnection, survivor_id: int, merged_id: int) -> dict[int, dict[str, Any]]:
    """Both cards, locked in id order (two merges of one pair never deadlock)."""
    rows = (await conn.execute(text(
        "SELECT id, active FROM clients WHERE id IN (:a, :b) ORDER BY id FOR UPDATE"),
        {"a": survivor_id, "b": merged_id})).mappings().all()
    found = {int(r["id"]): dict(r) for r in rows}
    if survivor_id not in found or merged_id not in found:
        raise ClientNotFound("client")
    return found


async def merge_clients(conn: AsyncConnection, author: Author, *, survivor_id: int, survivor_version: int,
                        merged_id: int, merged_version: int) -> dict[str, Any]:
    """Merge ``merged_id`` into ``survivor_id``, each change made on the card version named."""
    if survivor_id == merged_id:
        raise MergeRefused("a client cannot be merged into itself")
    current = await _lock_pair(conn, survivor_id, merged_id)
    for client_id in (survivor_id, merged_id):
        if not current[client_id]["active"]:
            raise MergeRefused(f"client {client_id} is not active")
    survivor_version = await next_version(conn, survivor_id, survivor_version)
    merged_version = await next_version(conn, merged_id, merged_version)
    merge_id = int((await conn.execute(text(
        "INSERT INTO client_merges (survivor_id, merged_id, merged_by, reason) VALUES (:s, :m, :by, :why)"
        " RETURNING id"), {"s": survivor_id, "m": merged_id, "by": author.actor, "why": author.reason}
    )).scalar_one())
    params = {"s": survivor_id, "m": merged_id, "id": merge_id}
    roles = (await conn.execute(text(
        "WITH taken AS (DELETE FROM account_roles WHERE client_id = :m RETURNING account_id, role),"
        " gained AS (INSERT INTO account_roles (account_id, client_id, role) SELECT account_id, :s, role"
        " FROM taken ON CONFLICT DO NOTHING RETURNING account_id, role)"
        " SELECT t.account_id, t.role, g.account_id IS NOT NULL AS gained FROM taken t"
        " LEFT JOIN gained g USING (account_id, role)"), params)).mappings().all()
    held = (await conn.execute(text(
        "DELETE FROM contact_points p WHERE p.client_id = :m AND EXISTS (SELECT 1 FROM contact_points q"
        " WHERE q.client_id = :s AND q.kind = p.kind AND q.value = p.value) RETURNING kind, value, is_primary"),
        params)).mappings().all()
    points = (await conn.execute(text(
        "WITH moved AS (SELECT id, is_primary FROM contact_points WHERE client_id = :m FOR UPDATE)"
        " UPDATE contact_points p SET client_id = :s, is_primary = p.is_primary AND NOT EXISTS ("
        "SELECT 1 FROM contact_points q WHERE q.client_id = :s AND q.kind = p.kind AND q.is_primary)"
        " FROM moved WHERE p.id = moved.id RETURNING p.id, moved.is_primary"), params)).mappings().all()
    tickets = (await conn.execute(text(
        "UPDATE tickets SET client_id = :s WHERE client_id = :m RETURNING id"), params)).scalars().all()
    await conn.execute(text(
        "UPDATE client_merges SET moved_account_roles = CAST(:roles AS jsonb),"
        " moved_contact_points = CAST(:points AS jsonb), dropped_contact_points = CAST(:held AS jsonb),"
        " moved_tickets = :tickets WHERE id = :id"),
        {**params, "roles": json.dumps([dict(r) for r in roles]), "points": json.dumps([dict(p) for p in points]),
         "held": json.dumps([dict(h) for h in held]), "tickets": list(tickets)})
    await conn.execute(text(
        "UPDATE clients SET active = false, deactivated_at = now(), merged_into = :s WHERE id = :m"), params)
    moved = {"merge_id": merge_id, "accounts": len(roles), "contact_points": len(points), "tickets": len(tickets)}
    await record_change(conn, author, "client.merge", survivor_id, None, {"merged_client_id": merged_id, **moved})
    await record_change(conn, author, "client.merged_into", merged_id, {"active": True},
                  {"active": False, "survivor_client_id": survivor_id, "merge_id": merge_id})
    return {"id": survivor_id, "version": survivor_version, "merged_version": merged_version, **moved}


async def undo_merge(conn: AsyncConnection, author: Author, merge_id: int) -> dict[str, Any]:
    """Give the merged client back what the merge moved and make its card active again."""
    merge = (await conn.execute(text(
        "SELECT * FROM client_merges WHERE id = :id FOR UPDATE"), {"id": merge_id})).mappings().first()
    if merge is None:
        raise ClientNotFound("client_merge")
    if merge["undone_at"] is not None:
        raise MergeRefused(f"merge {merge_id} was undone already")
    survivor_id, merged_id = int(merge["survivor_id"]), int(merge["merged_id"])
    current = await _lock_pair(conn, survivor_id, merged_id)
    if not current[survivor_id]["active"]:
        raise MergeRefused(f"client {survivor_id} was merged further: undo that merge first")
    await conn.execute(text("UPDATE clients SET version = version + 1 WHERE id IN (:s, :m)"),
                       {"s": survivor_id, "m": merged_id})
    params = {"s": survivor_id, "m": merged_id, "id": merge_id}
    await conn.execute(text(
        "UPDATE tickets SET client_id = :m WHERE client_id = :s AND id = ANY (CAST(:tickets AS bigint[]))"),
        {**params, "tickets": list(merge["moved_tickets"])})
    await conn.execute(text(
        "UPDATE contact_points p SET client_id = :m, is_primary = x.is_primary"
        " FROM jsonb_to_recordset(CAST(:points AS jsonb)) AS x (id bigint, is_primary boolean)"
        " WHERE p.id = x.id AND p.client_id = :s"), {**params, "points": json.dumps(merge["moved_contact_points"])})
    for point in merge["dropped_contact_points"]:
        await conn.execute(text(
            "INSERT INTO contact_points (client_id, kind, value, is_primary) VALUES (:m, :k, :v, :p)"
            " ON CONFLICT ON CONSTRAINT uq_contact_points_kind_value_client DO NOTHING"),
            {**params, "k": point["kind"], "v": point["value"], "p": point["is_primary"]})
    # the survivor keeps a primary point of each kind it still has
    await conn.execute(text(
        "UPDATE contact_points p SET is_primary = true WHERE p.client_id = :s AND p.id = (SELECT min(q.id)"
        " FROM contact_points q WHERE q.client_id = :s AND q.kind = p.kind) AND NOT EXISTS (SELECT 1"
        " FROM contact_points r WHERE r.client_id = :s AND r.kind = p.kind AND r.is_primary)"), params)
    for role in merge["moved_account_roles"]:
        values = {**params, "a": role["account_id"], "r": role["role"]}
        if role["gained"]:
            await conn.execute(text(
                "DELETE FROM account_roles WHERE account_id = :a AND client_id = :s AND role = :r"), values)
        await conn.execute(text(
            "INSERT INTO account_roles (account_id, client_id, role) VALUES (:a, :m, :r) ON CONFLICT DO NOTHING"),
            values)
    await conn.execute(text(
        "UPDATE client_merges SET undone_at = now(), undone_by = :by WHERE id = :id"),
        {**params, "by": author.actor})
    await conn.execute(text(
        "UPDATE clients SET active = true, deactivated_at = NULL, merged_into = NULL WHERE id = :m"), params)
    await record_change(conn, author, "client.merge.undo", survivor_id, {"merged_client_id": merged_id},
                  {"merge_id": merge_id})
    await record_change(conn, author, "client.merge.undo", merged_id, {"active": False, "survivor_client_id": survivor_id},
                  {"active": True, "merge_id": merge_id})
    return {"id": merged_id, "survivor_id": survivor_id, "merge_id": merge_id,
            "tickets": len(merge["moved_tickets"]), "contact_points": len(merge["moved_contact_points"]),
            "accounts": len(merge["moved_account_roles"])}


async def merges_of(conn: AsyncConnection, client_id: int) -> list[dict[str, Any]]:
    """The merges a client took part in, as survivor or as the merged card, latest first."""
    rows = await conn.execute(text(
        "SELECT m.id, m.survivor_id, s.full_name AS survivor_name, m.merged_id, d.full_name AS merged_name,"
        " m.merged_at, m.merged_by, m.reason, cardinality(m.moved_tickets) AS tickets,"
        " jsonb_array_length(m.moved_contact_points) AS contact_points,"
        " jsonb_array_length(m.moved_account_roles) AS accounts, m.undone_at, m.undone_by"
        " FROM client_merges m JOIN clients s ON s.id = m.survivor_id JOIN clients d ON d.id = m.merged_id"
        " WHERE m.survivor_id = :c OR m.merged_id = :c ORDER BY m.merged_at DESC, m.id DESC"), {"c": client_id})
    return [dict(r) for r in rows.mappings()]
