"""Duplicate candidates for a client card (the duplicate check of the high-level requirements, §2 item 5):
other clients with the same phone, e-mail, messenger id or EIC code, or a name and a supply address that
read alike, each scored with the reasons.

Every candidate comes from an index: contact points by ``(kind, value)`` (the unique constraint's index),
accounts by EIC code, names and addresses by their pg_trgm GIN indexes with a similarity threshold high
enough that a common surname alone does not bring thousands of rows.  Each look-up is capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

CANDIDATES_PER_LOOKUP = 20
NAME_SIMILARITY = 0.6
ADDRESS_SIMILARITY = 0.5
# How much each kind of evidence says that two cards are one client.
WEIGHTS = {"eic_code": 1.0, "phone": 0.7, "email": 0.7, "telegram": 0.7, "viber": 0.7, "name_and_address": 0.8,
           "name": 0.3}


@dataclass(frozen=True, slots=True)
class Probe:
    """What is known of a client being saved (or of an existing card): its normalised contact points."""

    full_name: str | None = None
    contacts: tuple[tuple[str, str], ...] = ()
    eic_codes: tuple[str, ...] = ()
    address: str | None = None
    exclude_client_id: int | None = None


@dataclass(slots=True)
class Candidate:
    client_id: int
    full_name: str = ""
    score: float = 0.0
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def add(self, reason: str, weight: float, **detail: Any) -> None:
        self.reasons.append({"reason": reason, **detail})
        self.score = min(1.0, self.score + weight)

    def to_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "full_name": self.full_name, "score": round(self.score, 2),
                "reasons": self.reasons}


async def probe_of(conn: AsyncConnection, client_id: int) -> Probe:
    """The probe of an existing card: its name, contact points, EIC codes and first supply address."""
    client = (await conn.execute(text("SELECT full_name FROM clients WHERE id = :id"),
                                 {"id": client_id})).scalar()
    contacts = (await conn.execute(text("SELECT kind, value FROM contact_points WHERE client_id = :id"),
                                   {"id": client_id})).all()
    accounts = (await conn.execute(text(
        "SELECT a.eic_code, a.service_address FROM account_roles r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.client_id = :id ORDER BY a.account_no LIMIT 20"), {"id": client_id})).all()
    return Probe(full_name=client, contacts=tuple((k, v) for k, v in contacts),
                 eic_codes=tuple(a.eic_code for a in accounts),
                 address=accounts[0].service_address if accounts else None, exclude_client_id=client_id)


async def candidates(conn: AsyncConnection, probe: Probe, limit: int = 10) -> list[dict[str, Any]]:
    """Other clients that may be the same one, best first."""
    found: dict[int, Candidate] = {}
    exclude = probe.exclude_client_id or 0

    def hit(client_id: int, name: str) -> Candidate:
        return found.setdefault(client_id, Candidate(client_id, name))

    for kind, value in dict.fromkeys(probe.contacts):
        rows = await conn.execute(text(
            "SELECT c.id, c.full_name FROM contact_points p JOIN clients c ON c.id = p.client_id"
            " WHERE p.kind = :k AND p.value = :v AND p.client_id <> :x LIMIT :n"),
            {"k": kind, "v": value, "x": exclude, "n": CANDIDATES_PER_LOOKUP})
        for row in rows:
            hit(row.id, row.full_name).add(kind, WEIGHTS[kind], value=value)
    if probe.eic_codes:
        rows = await conn.execute(text(
            "SELECT c.id, c.full_name, a.eic_code FROM accounts a JOIN account_roles r ON r.account_id = a.id"
            " JOIN clients c ON c.id = r.client_id WHERE a.eic_code = ANY(:codes) AND c.id <> :x LIMIT :n"),
            {"codes": list(probe.eic_codes), "x": exclude, "n": CANDIDATES_PER_LOOKUP})
        for row in rows:
            hit(row.id, row.full_name).add("eic_code", WEIGHTS["eic_code"], value=row.eic_code)
    if probe.full_name and probe.full_name.strip():
        await _alike(conn, probe, exclude, hit)
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.client_id))
    return [c.to_dict() for c in ranked[:limit]]


async def _alike(conn: AsyncConnection, probe: Probe, exclude: int, hit: Any) -> None:
    """Clients whose name reads like the probe's; with an address, those on an account whose supply
    address reads like it too score as one client."""
    await conn.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                       {"t": str(NAME_SIMILARITY)})
    names = (await conn.execute(text(
        "SELECT id, full_name, similarity(full_name, :name) AS alike FROM clients"
        " WHERE full_name % :name AND id <> :x AND merged_into IS NULL ORDER BY alike DESC LIMIT :n"),
        {"name": probe.full_name, "x": exclude, "n": CANDIDATES_PER_LOOKUP})).all()
    if not names:
        return
    addresses: dict[int, tuple[str, float]] = {}
    if probe.address:
        rows = await conn.execute(text(
            "SELECT r.client_id, a.service_address, similarity(a.service_address, :addr) AS alike"
            " FROM account_roles r JOIN accounts a ON a.id = r.account_id"
            " WHERE r.client_id = ANY(:ids) AND similarity(a.service_address, :addr) >= :t"),
            {"addr": probe.address, "ids": [row.id for row in names], "t": ADDRESS_SIMILARITY})
        for row in rows:
            addresses.setdefault(row.client_id, (row.service_address, float(row.alike)))
    for row in names:
        if row.id in addresses:
            address, alike = addresses[row.id]
            hit(row.id, row.full_name).add("name_and_address", WEIGHTS["name_and_address"] * alike,
                                           name_similarity=round(float(row.alike), 2),
                                           address_similarity=round(alike, 2), service_address=address)
        else:
            hit(row.id, row.full_name).add("name", WEIGHTS["name"] * float(row.alike),
                                           name_similarity=round(float(row.alike), 2))
