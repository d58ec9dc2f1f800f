"""The write side of conversations and tickets, used by the conversation actor inside its transactions.

Every write is idempotent: conversations are unique per open thread, messages per dedupe key, ticket
links per pair; a repeated delivery finds what the first one wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import driver_sql as sql
from crm_core.driver_sql import Jsonb, Source
from crm_core.models import Conversation, Message, Ticket

_CONVERSATION = ", ".join(c.name for c in Conversation.__table__.c)
_TICKET = ", ".join(c.name for c in Ticket.__table__.c)
_JSON_COLUMNS = {"state", "attributes", "data", "payload"}
_TICKET_DEFAULTS = {column.name: column.default.arg for column in Ticket.__table__.c
                    if column.default is not None and not callable(column.default.arg)}
"""The model's fixed column defaults, which a statement written for the driver must name itself."""

Event = tuple[str, str, dict[str, Any]]
"""A ticket event: (author, kind, data)."""

_EVENT_ROWS = ("ROWS FROM (jsonb_to_recordset(%s) AS (author text, kind text, data jsonb))"
               " WITH ORDINALITY AS x(author, kind, data, n)")
"""The events of one JSON parameter (:func:`_events_json`) as rows ``x`` in their order ``x.n``."""


def _events_json(events: Iterable[Event]) -> Jsonb:
    return Jsonb([{"author": a, "kind": k, "data": d} for a, k, d in events])


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping) if row is not None else {}


def _value(column: str, value: Any) -> Any:
    return Jsonb(value) if column in _JSON_COLUMNS and value is not None else value


def _check_columns(table: Any, values: dict[str, Any]) -> None:
    """Column names go into the SQL text: a name outside ``table`` is a programming error."""
    unknown = set(values) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column {sorted(unknown)}")


def _assignments(table: Any, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """``a = %s, b = %s`` for columns of ``table``."""
    _check_columns(table, values)
    return ", ".join(f"{column} = %s" for column in values), [_value(c, v) for c, v in values.items()]


# ``c``: the open conversation of a thread, opened if there is none.  Parameters: thread key, channel,
# thread key.
_OPEN_CONVERSATION = (
    "c0 AS (INSERT INTO conversations (thread_key, channel, status, routing_state, state)"
    " VALUES (%s, %s, 'open', 'new', '{}') ON CONFLICT (thread_key) WHERE status = 'open' DO NOTHING"
    f" RETURNING {_CONVERSATION}),"
    f" c AS (SELECT {_CONVERSATION} FROM c0 UNION ALL SELECT {_CONVERSATION} FROM conversations"
    " WHERE thread_key = %s AND status = 'open' AND NOT EXISTS (SELECT FROM c0))")


async def open_conversation(conn: Source, thread_key: str, channel: str) -> dict[str, Any]:
    """The open conversation of a thread, created if there is none."""
    return await sql.fetch_one(conn, f"WITH {_OPEN_CONVERSATION} SELECT * FROM c",
                               (thread_key, channel, thread_key)) or {}


async def find_open_conversation(conn: Source, thread_key: str) -> dict[str, Any] | None:
    return await sql.fetch_one(conn, f"SELECT {_CONVERSATION} FROM conversations"
                                     " WHERE thread_key = %s AND status = 'open'", (thread_key,))


async def latest_conversation(conn: AsyncConnection, thread_key: str) -> dict[str, Any] | None:
    """The newest conversation of a thread, open or closed."""
    return await sql.fetch_one(conn, f"SELECT {_CONVERSATION} FROM conversations WHERE thread_key = %s"
                                     " ORDER BY id DESC LIMIT 1", (thread_key,))


async def update_conversation(conn: Source, conversation_id: int, **values: Any) -> None:
    assignments, params = _assignments(Conversation.__table__, values)
    await sql.execute(conn, f"UPDATE conversations SET {assignments}, updated_at = now() WHERE id = %s",
                      (*params, conversation_id))


_MESSAGE_INSERT = ("INSERT INTO messages (conversation_id, ticket_id, direction, author, text, dedupe_key, attachments,"
                   " external_id, at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                   " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to store; its ``dedupe_key`` makes storing it twice harmless."""

    conversation_id: int | None
    ticket_id: int | None
    direction: str
    author: str
    text: str
    dedupe_key: str
    attachments: list[dict[str, Any]] | None = None
    external_id: str | None = None
    at: datetime | None = None

    def params(self) -> tuple[Any, ...]:
        return (self.conversation_id, self.ticket_id, self.direction, self.author, self.text, self.dedupe_key,
                Jsonb({"items": self.attachments or []}), self.external_id, self.at or datetime.now(UTC))


async def store_message(conn: Source, message: NewMessage) -> int | None:
    """Store one message; None when a message with this dedupe key is already stored."""
    return await sql.fetch_value(conn, _MESSAGE_INSERT, message.params())


async def add_to_ticket(conn: Source, message: NewMessage, *, inbox_id: int, ticket_attributes: dict[str, Any] | None,
                        events: list[Event], conversation_state: dict[str, Any] | None) -> int | None:
    """A later inbound item of a conversation with a ticket, in one statement: its message, then -- only
    when the message is new -- the ticket's ``ticket_attributes`` and ``events`` and the conversation's
    ``conversation_state`` (each None or empty: unchanged); the inbox item is marked done either way.
    Returns the message's id, None when its dedupe key was stored before."""
    statement = (
        f"WITH m AS ({_MESSAGE_INSERT}),"
        " t AS (UPDATE tickets SET attributes = %s, updated_at = now()"
        " WHERE id = %s AND %s AND EXISTS (SELECT FROM m)),"
        " e AS (INSERT INTO ticket_events (ticket_id, author, kind, data, at) SELECT %s, x.author, x.kind, x.data, %s"
        f" FROM m, {_EVENT_ROWS} ORDER BY x.n),"
        " c AS (UPDATE conversations SET state = %s, updated_at = now()"
        " WHERE id = %s AND %s AND EXISTS (SELECT FROM m)),"
        " i AS (UPDATE inbox SET processed_at = now() WHERE id = %s AND processed_at IS NULL)"
        " SELECT id FROM m")
    return await sql.fetch_value(conn, statement, (
        *message.params(),
        Jsonb(ticket_attributes), message.ticket_id, ticket_attributes is not None,
        message.ticket_id, datetime.now(UTC), _events_json(events),
        Jsonb(conversation_state), message.conversation_id, conversation_state is not None,
        inbox_id))


async def add_calls_to_ticket(conn: Source, messages: list[NewMessage], *, inbox_ids: list[int],
                              events: list[Event], ticket_attributes: dict[str, Any]) -> set[str]:
    """Later events of one call (``messages[i]`` with its ticket event ``events[i]``), in one statement: the
    new messages, the ticket event of each new one, the ticket's call attributes after them all when
    every one is new (otherwise the caller writes what the new ones change), and the inbox items done.
    Returns the dedupe keys of the messages stored now."""
    first = messages[0]
    rows = Jsonb([{"author": message.author, "text": message.text, "dedupe_key": message.dedupe_key,
                   "attachments": {"items": message.attachments or []}, "external_id": message.external_id,
                   "at": (message.at or datetime.now(UTC)).isoformat(), "direction": message.direction,
                   "event_author": author, "event_kind": kind, "event_data": data}
                  for message, (author, kind, data) in zip(messages, events, strict=True)])
    statement = (
        "WITH x AS (SELECT * FROM ROWS FROM (jsonb_to_recordset(%s) AS (author text, text text, dedupe_key text,"
        " attachments jsonb, external_id text, at timestamptz, direction text, event_author text, event_kind text,"
        " event_data jsonb)) WITH ORDINALITY AS x(author, text, dedupe_key, attachments, external_id, at, direction,"
        " event_author, event_kind, event_data, n)),"
        " m AS (INSERT INTO messages (conversation_id, ticket_id, direction, author, text, dedupe_key, attachments,"
        " external_id, at) SELECT %s, %s, direction, author, text, dedupe_key, attachments, external_id, at"
        " FROM x ORDER BY n ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key),"
        " t AS (UPDATE tickets SET attributes = %s, updated_at = now() WHERE id = %s"
        " AND (SELECT count(*) FROM m) = %s),"
        " e AS (INSERT INTO ticket_events (ticket_id, author, kind, data, at)"
        " SELECT %s, x.event_author, x.event_kind, x.event_data, %s FROM x JOIN m USING (dedupe_key) ORDER BY x.n),"
        " i AS (UPDATE inbox SET processed_at = now() WHERE id = ANY(%s) AND processed_at IS NULL)"
        " SELECT dedupe_key FROM m")
    stored = await sql.fetch_all(conn, statement, (
        rows, first.conversation_id, first.ticket_id, Jsonb(ticket_attributes), first.ticket_id, len(messages),
        first.ticket_id, datetime.now(UTC), inbox_ids))
    return {row["dedupe_key"] for row in stored}


async def receive_first(conn: Source, thread_key: str, channel: str, message: NewMessage, *,
                        number: bool) -> tuple[dict[str, Any], int | None, int | None]:
    """An item of a thread without a ticket, in one statement: the thread's open conversation (opened if
    there is none), the item's message in it (``message.conversation_id`` is not read) and, when
    ``number`` is asked for and the message is new, the next ticket number's sequence value.  Returns the
    conversation's row, the message's id (None: stored before) and the sequence value."""
    statement = (
        f"WITH {_OPEN_CONVERSATION},"
        " m AS (INSERT INTO messages (conversation_id, ticket_id, direction, author, text, dedupe_key, attachments,"
        " external_id, at) SELECT c.id, %s, %s, %s, %s, %s, %s, %s, %s FROM c"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id)"
        " SELECT c.*, (SELECT id FROM m) AS message_id,"
        " CASE WHEN %s AND EXISTS (SELECT FROM m) THEN nextval('ticket_number_seq') END AS ticket_seq FROM c")
    row = await sql.fetch_one(conn, statement, (thread_key, channel, thread_key, *message.params()[1:], number))
    if row is None:
        raise LookupError(f"no open conversation for {thread_key!r}")
    return row, row.pop("message_id"), row.pop("ticket_seq")


def ticket_number(number_format: str, seq: int) -> str:
    return number_format.format(year=datetime.now(UTC).year % 100, seq=seq)


async def open_ticket(conn: AsyncConnection, *, number: str, values: dict[str, Any], events: list[Event],
                      at: datetime, message_id: int, conversation_id: int, conversation: dict[str, Any],
                      inbox_id: int, repeat_since: datetime) -> dict[str, Any]:
    """Open a ticket in one statement: the ticket (``values`` by column; columns not named take the
    model's defaults), its ``events`` at ``at`` -- with a ``repeat_contact`` event after the first two
    and links to the client's tickets opened since ``repeat_since`` --, its first message, its
    conversation's ``conversation`` columns, and the inbox item marked done.  Returns the ticket's row."""
    row = {**_TICKET_DEFAULTS, "number": number, **values}
    _check_columns(Ticket.__table__, row)
    assignments, conversation_params = _assignments(Conversation.__table__, conversation)
    statement = (
        f"WITH t AS (INSERT INTO tickets ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})"
        f" RETURNING {_TICKET}),"
        " r AS (SELECT id, number, created_at FROM tickets WHERE client_id = %s AND created_at >= %s"
        " ORDER BY created_at DESC LIMIT 20),"
        " l AS (INSERT INTO ticket_links (ticket_id, related_ticket_id, kind) SELECT t.id, r.id, 'repeat' FROM t, r"
        " ON CONFLICT DO NOTHING),"
        " e AS (INSERT INTO ticket_events (ticket_id, author, kind, data, at) SELECT t.id, x.author, x.kind, x.data, %s"
        " FROM t, (SELECT author, kind, data, n::numeric FROM ROWS FROM (jsonb_to_recordset(%s)"
        " AS (author text, kind text, data jsonb)) WITH ORDINALITY AS j(author, kind, data, n)"
        " UNION ALL SELECT 'system', 'repeat_contact',"
        " jsonb_build_object('previous', jsonb_agg(r.number ORDER BY r.created_at DESC)), 2.5 FROM r HAVING count(*) > 0"
        " ) AS x ORDER BY x.n),"
        " m AS (UPDATE messages SET ticket_id = t.id FROM t WHERE messages.id = %s),"
        f" c AS (UPDATE conversations SET {assignments + ', ' if assignments else ''}ticket_id = t.id,"
        " updated_at = now() FROM t WHERE conversations.id = %s),"
        " i AS (UPDATE inbox SET processed_at = now() WHERE id = %s AND processed_at IS NULL)"
        " SELECT * FROM t")
    params = [*(_value(c, v) for c, v in row.items()), values.get("client_id"), repeat_since, at,
              _events_json(events), message_id,
              *conversation_params, conversation_id, inbox_id]
    return await sql.fetch_one(conn, statement, params) or {}


async def load_ticket(conn: AsyncConnection, ticket_id: int) -> dict[str, Any] | None:
    return await sql.fetch_one(conn, f"SELECT {_TICKET} FROM tickets WHERE id = %s", (ticket_id,))


async def update_ticket(conn: AsyncConnection, ticket_id: int, **values: Any) -> None:
    assignments, params = _assignments(Ticket.__table__, values)
    await sql.execute(conn, f"UPDATE tickets SET {assignments}, updated_at = now() WHERE id = %s", (*params, ticket_id))


async def add_events(conn: AsyncConnection, ticket_id: int, events: Iterable[Event],
                     at: datetime | None = None) -> None:
    """Append ticket events: (author, kind, data) each, all stamped with the same instant."""
    stamp, rows = at or datetime.now(UTC), list(events)
    if len(rows) == 1:
        author, kind, data = rows[0]
        await sql.execute(conn, "INSERT INTO ticket_events (ticket_id, author, kind, data, at)"
                                " VALUES (%s, %s, %s, %s, %s)", (ticket_id, author, kind, Jsonb(data), stamp))
    elif rows:
        await sql.execute(conn, "INSERT INTO ticket_events (ticket_id, author, kind, data, at)"
                                f" SELECT %s, x.author, x.kind, x.data, %s FROM {_EVENT_ROWS} ORDER BY x.n",
                          (ticket_id, stamp, _events_json(rows)))


async def change_conversation_and_ticket(conn: Source, *, conversation_id: int, conversation: dict[str, Any],
                                         ticket_id: int, ticket: dict[str, Any], events: list[Event]) -> None:
    """Columns of a conversation and of its ticket, and the ticket's ``events``, in one statement (atomic
    on an autocommit connection too).  ``conversation`` and ``ticket`` must name at least one column."""
    conversation_set, conversation_params = _assignments(Conversation.__table__, conversation)
    ticket_set, ticket_params = _assignments(Ticket.__table__, ticket)
    await sql.execute(conn, (
        f"WITH c AS (UPDATE conversations SET {conversation_set}, updated_at = now() WHERE id = %s),"
        f" t AS (UPDATE tickets SET {ticket_set}, updated_at = now() WHERE id = %s)"
        f" INSERT INTO ticket_events (ticket_id, author, kind, data, at)"
        f" SELECT %s, x.author, x.kind, x.data, %s FROM {_EVENT_ROWS} ORDER BY x.n"),
        (*conversation_params, conversation_id, *ticket_params, ticket_id, ticket_id, datetime.now(UTC),
         _events_json(events)))


async def mark_inbox_processed(conn: AsyncConnection, inbox_id: int) -> None:
    await sql.execute(conn, "UPDATE inbox SET processed_at = now() WHERE id = %s AND processed_at IS NULL",
                      (inbox_id,))


async def conversation_messages(conn: AsyncConnection, conversation_id: int, limit: int = 200) -> list[dict[str, Any]]:
    statement = (select(Message.id, Message.direction, Message.author, Message.text, Message.attachments,
                        Message.at, Message.delivery_status, Message.external_id)
                 .where(Message.conversation_id == conversation_id).order_by(Message.at, Message.id).limit(limit))
    return [row_dict(r) for r in (await conn.execute(statement)).all()]


async def ticket_by_number(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    return await sql.fetch_one(conn, f"SELECT {_TICKET} FROM tickets WHERE number = %s", (number,))


async def thread_of_conversation(conn: AsyncConnection, conversation_id: int) -> str | None:
    """The thread key of a conversation given by its public id (the thread key itself is never shown)."""
    return (await conn.execute(select(Conversation.thread_key).where(Conversation.id == conversation_id))).scalar()


async def open_thread_of_ticket(conn: Source, number: str) -> str | None:
    """The thread key of a ticket's conversation, if that conversation is still open."""
    return await sql.fetch_value(conn, "SELECT c.thread_key FROM conversations c JOIN tickets t"
                                       " ON t.conversation_id = c.id WHERE t.number = %s AND c.status = 'open'",
                                 (number,))


async def edit_message(conn: AsyncConnection, conversation_id: int, external_id: str, text_: str) -> bool:
    """The client edited a message: keep the new text, and the earlier one beside it."""
    result = await conn.execute(text(
        "UPDATE messages SET attachments = attachments || jsonb_build_object('edited_from', text), text = :t"
        " WHERE conversation_id = :c AND external_id = :e AND direction = 'in' AND text <> :t"),
        {"t": text_, "c": conversation_id, "e": external_id})
    return result.rowcount > 0


async def set_delivery_status(conn: AsyncConnection, conversation_id: int, external_id: str, status: str) -> bool:
    """A delivery report (delivered, seen, failed) for a message we sent; 'seen' is never undone by a
    late 'delivered'."""
    result = await conn.execute(text(
        "UPDATE messages SET delivery_status = :s WHERE conversation_id = :c AND external_id = :e"
        " AND direction IN ('out', 'bot') AND (delivery_status IS DISTINCT FROM 'seen' OR :s = 'failed')"),
        {"s": status, "c": conversation_id, "e": external_id})
    return result.rowcount > 0


async def thread_messages(conn: AsyncConnection, thread_key: str, directions: Iterable[str],
                          limit: int) -> list[Any]:
    """The newest ``limit`` messages of the thread's open conversation in ``directions``, newest first:
    direction, text, dedupe key and time."""
    conversation = (select(Conversation.id)
                    .where(Conversation.thread_key == thread_key, Conversation.status == "open")
                    .scalar_subquery())
    statement = (select(Message.direction, Message.text, Message.dedupe_key, Message.at)
                 .where(Message.conversation_id == conversation, Message.direction.in_(tuple(directions)))
                 .order_by(Message.at.desc(), Message.id.desc()).limit(limit))
    return list((await conn.execute(statement)).all())

