"""Changes to the client card: the client, contact points and links to accounts (CM-01).

Every change is one transaction with its audit entry (who, when, before, after, why), so a change and its
record commit together or not at all.  A change names the card ``version`` it was made on; the client's
version rises with every change, and a change made on an older version is refused with
:class:`VersionConflict` carrying the current one, so two operators editing one card never overwrite each
other silently.  Nothing is deleted but a contact point: a client is deactivated, a link to an account
ends with its date (kept in ``account_role_ends``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import audit
from crm_core.phones import CONTACT_KINDS, normalize_email, normalize_messenger_id, normalize_phone
from routing.vocabulary import REGULAR, SEGMENTS

CLIENT_KINDS = ("person", "organisation")
ACCOUNT_ROLES = ("owner", "co_owner", "contact_person")
CLIENT_FIELDS = ("full_name", "kind", "segment", "language")


class CardEditError(Exception):
    """A change to the card that cannot be made; ``code`` names the reason, ``detail`` says it."""

    code = "invalid_change"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ClientNotFound(CardEditError):
    code = "not_found"


class InvalidContact(CardEditError):
    code = "invalid_contact"


class VersionConflict(CardEditError):
    """The card changed since the version the change was made on."""

    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(str(current))
        self.current = current

    def __reduce__(self) -> tuple[Any, ...]:
        return (VersionConflict, (self.current,))


@dataclass(frozen=True, slots=True)
class Author:
    """Who makes a change and why: the audit entry's actor and reason."""

    actor: str
    reason: str | None = None


def _check_fields(fields: dict[str, Any]) -> None:
    if "kind" in fields and fields["kind"] not in CLIENT_KINDS:
        raise CardEditError(f"kind: one of {list(CLIENT_KINDS)}")
    if "segment" in fields and fields["segment"] not in SEGMENTS:
        raise CardEditError(f"segment: one of {list(SEGMENTS)}")
    if "full_name" in fields and not str(fields["full_name"]).strip():
        raise CardEditError("full_name: empty")


def normalize_contact(kind: str, value: str) -> str:
    """The stored form of a contact point, or :class:`InvalidContact` saying why it is not one."""
    if kind not in CONTACT_KINDS:
        raise InvalidContact(f"kind: one of {list(CONTACT_KINDS)}")
    normalised = {"phone": normalize_phone, "email": normalize_email}.get(kind, normalize_messenger_id)(value)
    if normalised is None:
        raise InvalidContact(f"{kind}: {value!r} is not a usable {kind}")
    return normalised


async def _client(conn: AsyncConnection, client_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(
        "SELECT id, kind, full_name, segment, language, version, active FROM clients WHERE id = :id"
        + (" FOR UPDATE" if lock else "")), {"id": client_id})).mappings().first()
    if row is None:
        raise ClientNotFound("client")
    return dict(row)


async def next_version(conn: AsyncConnection, client_id: int, version: int) -> int:
    """Raise the client's version from ``version``; :class:`VersionConflict` when the card moved on."""
    raised = (await conn.execute(text(
        "UPDATE clients SET version = version + 1 WHERE id = :id AND version = :version RETURNING version"),
        {"id": client_id, "version": version})).scalar()
    if raised is None:
        raise VersionConflict((await _client(conn, client_id))["version"])
    return int(raised)


async def record_change(conn: AsyncConnection, author: Author, action: str, client_id: int,
                  before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    if author.reason:
        after = {**(after or {}), "reason": author.reason}
    await audit.record(conn, actor=author.actor, action=action, entity="client", entity_id=client_id,
                       before=before, after=after)


async def create_client(conn: AsyncConnection, author: Author, *, full_name: str, kind: str = "person",
                        segment: str = REGULAR, language: str = "uk",
                        contacts: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """A new client with its contact points (each ``(kind, value)``); the first of a kind is primary."""
    _check_fields({"kind": kind, "segment": segment, "full_name": full_name})
    points = [(k, normalize_contact(k, v)) for k, v in contacts]
    client_id = int((await conn.execute(text(
        "INSERT INTO clients (kind, full_name, segment, language) VALUES (:kind, :name, :segment, :language)"
        " RETURNING id"), {"kind": kind, "name": full_name.strip(), "segment": segment, "language": language}
    )).scalar_one())
    seen: set[str] = set()
    for point_kind, value in dict.fromkeys(points):
        await conn.execute(text(
            "INSERT INTO contact_points (client_id, kind, value, is_primary) VALUES (:c, :k, :v, :p)"),
            {"c": client_id, "k": point_kind, "v": value, "p": point_kind not in seen})
        seen.add(point_kind)
    after = {"full_name": full_name.strip(), "kind": kind, "segment": segment, "language": language,
             "contact_points": [{"kind": k, "value": v} for k, v in dict.fromkeys(points)]}
    await record_change(conn, author, "client.create", client_id, None, after)
    return {"id": client_id, "version": 1}


async def update_client(conn: AsyncConnection, author: Author, client_id: int, version: int,
                        changes: dict[str, Any]) -> dict[str, Any]:
    """Change the client's own fields (name, kind, segment, language) made on card ``version``."""
    if unknown := set(changes) - set(CLIENT_FIELDS):
        raise CardEditError(f"unknown field {sorted(unknown)[0]}")
    _check_fields(changes)
    current = await _client(conn, client_id, lock=True)
    new_version = await next_version(conn, client_id, version)
    changed = {k: v for k, v in changes.items() if current[k] != v}
    if changed:
        assignments = ", ".join(f"{name} = :{name}" for name in changed)
        await conn.execute(text(f"UPDATE clients SET {assignments} WHERE id = :id"), {**changed, "id": client_id})
        await record_change(conn, author, "client.update", client_id, {k: current[k] for k in changed}, changed)
    return {"id": client_id, "version": new_version}


async def deactivate_client(conn: AsyncConnection, author: Author, client_id: int, version: int) -> dict[str, Any]:
    """Mark the client inactive (never deleted: tickets and history keep pointing at it)."""
    current = await _client(conn, client_id, lock=True)
    new_version = await next_version(conn, client_id, version)
    if current["active"]:
        await conn.execute(text("UPDATE clients SET active = false, deactivated_at = now() WHERE id = :id"),
                           {"id": client_id})
        await record_change(conn, author, "client.deactivate", client_id, {"active": True}, {"active": False})
    return {"id": client_id, "version": new_version}


async def touch_card(conn: AsyncConnection, author: Author, client_id: int, version: int, action: str,
                     ) -> dict[str, Any]:
    """Raise the card's version for a change stored elsewhere (sealed passport data) and audit it, with no
    personal data in the entry."""
    await _client(conn, client_id, lock=True)
    new_version = await next_version(conn, client_id, version)
    await record_change(conn, author, action, client_id, None, {})
    return {"id": client_id, "version": new_version}


async def _contact_point(conn: AsyncConnection, client_id: int, point_id: int) -> dict[str, Any]:
    row = (await conn.execute(text(
        "SELECT id, kind, value, is_primary FROM contact_points WHERE id = :id AND client_id = :client"),
        {"id": point_id, "client": client_id})).mappings().first()
    if row is None:
        raise ClientNotFound("contact_point")
    return dict(row)


async def _make_primary(conn: AsyncConnection, client_id: int, kind: str, point_id: int) -> None:
    await conn.execute(text(
        "UPDATE contact_points SET is_primary = (id = :id) WHERE client_id = :client AND kind = :kind"),
        {"id": point_id, "client": client_id, "kind": kind})


async def add_contact_point(conn: AsyncConnection, author: Author, client_id: int, version: int, *, kind: str,
                            value: str, primary: bool = False) -> dict[str, Any]:
    """Add a phone, e-mail, Telegram or Viber id; adding one the client already has changes nothing."""
    normalised = normalize_contact(kind, value)
    await _client(conn, client_id, lock=True)
    new_version = await next_version(conn, client_id, version)
    point_id = (await conn.execute(text(
        "INSERT INTO contact_points (client_id, kind, value, is_primary) VALUES (:c, :k, :v, false)"
        " ON CONFLICT ON CONSTRAINT uq_contact_points_kind_value_client DO NOTHING RETURNING id"),
        {"c": client_id, "k": kind, "v": normalised})).scalar()
    if point_id is None:
        existing = (await conn.execute(text(
            "SELECT id FROM contact_points WHERE client_id = :c AND kind = :k AND value = :v"),
            {"c": client_id, "k": kind, "v": normalised})).scalar_one()
        return {"id": client_id, "version": new_version, "contact_point_id": int(existing)}
    has_primary = (await conn.execute(text(
        "SELECT bool_or(is_primary) FROM contact_points WHERE client_id = :c AND kind = :k"),
        {"c": client_id, "k": kind})).scalar()
    if primary or not has_primary:
        await _make_primary(conn, client_id, kind, int(point_id))
    await record_change(conn, author, "client.contact_point.add", client_id, None,
                  {"kind": kind, "value": normalised, "is_primary": primary or not has_primary})
    return {"id": client_id, "version": new_version, "contact_point_id": int(point_id)}


async def change_contact_point(conn: AsyncConnection, author: Author, client_id: int, version: int,
                               point_id: int, *, value: str | None = None,
                               primary: bool | None = None) -> dict[str, Any]:
    """Correct a contact point's value or make it the primary one of its kind."""
    await _client(conn, client_id, lock=True)
    point = await _contact_point(conn, client_id, point_id)
    new_version = await next_version(conn, client_id, version)
    after: dict[str, Any] = {"kind": point["kind"]}
    if value is not None:
        normalised = normalize_contact(point["kind"], value)
        if normalised != point["value"]:
            clash = (await conn.execute(text(
                "SELECT 1 FROM contact_points WHERE client_id = :c AND kind = :k AND value = :v"),
                {"c": client_id, "k": point["kind"], "v": normalised})).first()
            if clash is not None:
                raise InvalidContact(f"{point['kind']}: the client already has {normalised}")
            await conn.execute(text("UPDATE contact_points SET value = :v WHERE id = :id"),
                               {"v": normalised, "id": point_id})
            after["value"] = normalised
    if primary and not point["is_primary"]:
        await _make_primary(conn, client_id, point["kind"], point_id)
        after["is_primary"] = True
    if len(after) > 1:
        before = {"kind": point["kind"], **{k: point[k] for k in after if k != "kind"}}
        await record_change(conn, author, "client.contact_point.change", client_id, before, after)
    return {"id": client_id, "version": new_version}


async def remove_contact_point(conn: AsyncConnection, author: Author, client_id: int, version: int,
                               point_id: int) -> dict[str, Any]:
    """Remove a contact point; the audit entry keeps what it was."""
    await _client(conn, client_id, lock=True)
    point = await _contact_point(conn, client_id, point_id)
    new_version = await next_version(conn, client_id, version)
    await conn.execute(text("DELETE FROM contact_points WHERE id = :id"), {"id": point_id})
    if point["is_primary"]:
        await conn.execute(text(
            "UPDATE contact_points SET is_primary = true WHERE id = (SELECT min(id) FROM contact_points"
            " WHERE client_id = :c AND kind = :k)"), {"c": client_id, "k": point["kind"]})
    await record_change(conn, author, "client.contact_point.remove", client_id,
                  {"kind": point["kind"], "value": point["value"], "is_primary": point["is_primary"]}, None)
    return {"id": client_id, "version": new_version}


async def _account_id(conn: AsyncConnection, account_no: str) -> int:
    account_id = (await conn.execute(text("SELECT id FROM accounts WHERE account_no = :no"),
                                     {"no": account_no})).scalar()
    if account_id is None:
        raise ClientNotFound("account")
    return int(account_id)


async def link_account(conn: AsyncConnection, author: Author, client_id: int, version: int, *, account_no: str,
                       role: str) -> dict[str, Any]:
    """Put the client on an account in a role (owner, co-owner, contact person); one contact may be on
    several accounts."""
    if role not in ACCOUNT_ROLES:
        raise CardEditError(f"role: one of {list(ACCOUNT_ROLES)}")
    await _client(conn, client_id, lock=True)
    account_id = await _account_id(conn, account_no)
    new_version = await next_version(conn, client_id, version)
    linked = (await conn.execute(text(
        "INSERT INTO account_roles (account_id, client_id, role) VALUES (:a, :c, :r)"
        " ON CONFLICT DO NOTHING RETURNING account_id"), {"a": account_id, "c": client_id, "r": role})).scalar()
    if linked is not None:
        await record_change(conn, author, "client.account.link", client_id, None,
                      {"account_no": account_no, "role": role})
    return {"id": client_id, "version": new_version}


async def unlink_account(conn: AsyncConnection, author: Author, client_id: int, version: int, *, account_no: str,
                         role: str) -> dict[str, Any]:
    """End the client's link to an account in a role; the link is kept with its end date."""
    await _client(conn, client_id, lock=True)
    account_id = await _account_id(conn, account_no)
    new_version = await next_version(conn, client_id, version)
    ended = (await conn.execute(text(
        "WITH ended AS (DELETE FROM account_roles WHERE account_id = :a AND client_id = :c AND role = :r"
        " RETURNING account_id, client_id, role)"
        " INSERT INTO account_role_ends (account_id, client_id, role, ended_by, reason)"
        " SELECT account_id, client_id, role, :by, :why FROM ended RETURNING ended_at"),
        {"a": account_id, "c": client_id, "r": role, "by": author.actor, "why": author.reason})).scalar()
    if ended is None:
        raise ClientNotFound("account_role")
    await record_change(conn, author, "client.account.unlink", client_id, {"account_no": account_no, "role": role},
                  {"ended_at": ended.isoformat()})
    return {"id": client_id, "version": new_version}


async def ended_links(conn: AsyncConnection, client_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The client's ended links to accounts, latest first."""
    rows = await conn.execute(text(
        "SELECT a.account_no, e.role, e.ended_at, e.ended_by, e.reason FROM account_role_ends e"
        " JOIN accounts a ON a.id = e.account_id WHERE e.client_id = :c ORDER BY e.ended_at DESC LIMIT :n"),
        {"c": client_id, "n": limit})
    return [dict(r) for r in rows.mappings()]
