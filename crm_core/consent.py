"""Consent history and stop lists.  The consent history is append-only (the database refuses UPDATE,
DELETE and TRUNCATE): the newest record of a client × channel × topic is what holds."""

from __future__ import annotations

from datetime import datetime

from crm_core import driver_sql
from crm_core.driver_sql import Source
from routing.informing.policy import ConsentRecord, StopEntry

STOP_KINDS = ("client", "phone", "email", "viber", "segment")


async def record_consent(conn: Source, client_id: int, channel: str, topic: str, opted_in: bool, source: str,
                         author: str, source_ref: str | None = None) -> datetime | None:
    """Append one consent record (opt-in or opt-out, where it came from and who made it); its time, or
    None when ``source_ref`` (the item that made the change) was recorded before."""
    value = await driver_sql.fetch_value(
        conn, "INSERT INTO consent_history (client_id, channel, topic, opted_in, source, author, source_ref)"
              " VALUES (%s, %s, %s, %s, %s, %s, %s)"
              " ON CONFLICT (client_id, channel, source_ref) WHERE source_ref IS NOT NULL DO NOTHING RETURNING recorded_at",
        (client_id, channel, topic, opted_in, source, author, source_ref))
    assert value is None or isinstance(value, datetime)
    return value


async def opt_out_by_contact(conn: Source, kind: str, value: str, channel: str, source: str, source_ref: str) -> int:
    """Every client the contact point (``kind``, ``value``) belongs to opts out of every topic on
    ``channel`` (a STOP reply, a Viber unsubscribe, an e-mail one-click unsubscribe); the same
    ``source_ref`` again records nothing.  How many records were added."""
    rows = await driver_sql.fetch_all(conn, """
        INSERT INTO consent_history (client_id, channel, topic, opted_in, source, author, source_ref)
        SELECT DISTINCT client_id, %(channel)s, '*', false, %(source)s, 'client', %(ref)s
        FROM contact_points WHERE kind = %(kind)s AND value = %(value)s
        ON CONFLICT (client_id, channel, source_ref) WHERE source_ref IS NOT NULL DO NOTHING
        RETURNING id
        """, {"channel": channel, "source": source, "ref": source_ref, "kind": kind, "value": value})
    return len(rows)


async def consent_history(conn: Source, client_id: int) -> list[dict[str, object]]:
    return await driver_sql.fetch_all(
        conn, "SELECT channel, topic, opted_in, source, author, recorded_at FROM consent_history"
              " WHERE client_id = %s ORDER BY id", (client_id,))


async def add_stop_entry(conn: Source, kind: str, value: str, topic: str, reason: str, author: str) -> None:
    """Put an entry on the stop list (adding one already there changes nothing)."""
    if kind not in STOP_KINDS:
        raise ValueError(f"stop list kind must be one of {', '.join(STOP_KINDS)}, not {kind!r}")
    await driver_sql.execute(
        conn, "INSERT INTO stop_list (kind, value, topic, reason, author) VALUES (%s, %s, %s, %s, %s)"
              " ON CONFLICT (kind, value, topic) DO NOTHING", (kind, value, topic, reason, author))


async def policy_facts(conn: Source, client_ids: list[int], addresses: list[str]) -> tuple[list[ConsentRecord], list[StopEntry], dict[int, str]]:
    """Everything the contact policy needs for a batch of messages, in one round trip: the newest consent
    records of the clients, the stop entries naming them, their addresses or their segments, and each
    client's segment."""
    rows = await driver_sql.fetch_all(conn, """
        WITH c AS (SELECT id, segment FROM clients WHERE id = ANY(%(clients)s))
        SELECT 'consent' AS what, h.client_id, h.channel, h.topic, h.opted_in, h.recorded_at, NULL AS kind, NULL AS value
        FROM (SELECT DISTINCT ON (client_id, channel, topic) * FROM consent_history
              WHERE client_id = ANY(%(clients)s) ORDER BY client_id, channel, topic, id DESC) h
        UNION ALL
        SELECT 'stop', NULL, NULL, s.topic, NULL, NULL, s.kind, s.value FROM stop_list s
        WHERE (s.kind = 'client' AND s.value = ANY(%(client_texts)s))
           OR (s.kind IN ('phone', 'email', 'viber') AND s.value = ANY(%(addresses)s))
           OR (s.kind = 'segment' AND s.value IN (SELECT segment FROM c))
        UNION ALL
        SELECT 'segment', id, NULL, NULL, NULL, NULL, NULL, segment FROM c
        """, {"clients": client_ids, "client_texts": [str(c) for c in client_ids], "addresses": addresses})
    consents = [ConsentRecord(r["client_id"], r["channel"], r["topic"], r["opted_in"], r["recorded_at"])
                for r in rows if r["what"] == "consent"]
    stops = [StopEntry(r["kind"], r["value"], r["topic"]) for r in rows if r["what"] == "stop"]
    segments = {r["client_id"]: r["value"] for r in rows if r["what"] == "segment"}
    return consents, stops, segments
