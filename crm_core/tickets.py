"""The write side of conversations and tickets, used by the conversation actor inside its transactions.

Every write is idempotent: conversations are unique per open thread, messages per dedupe key, ticket
links per pair; a repeated delivery finds what the first one wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Conversation, InboxItem, Message, Ticket, TicketEvent, TicketLink

TICKET_COLUMNS = [c for c in Ticket.__table__.c]


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping) if row is not None else {}


async def open_conversation(conn: AsyncConnection, thread_key: str, channel: str) -> dict[str, Any]:
    """The open conversation of a thread, created if there is none."""
    statement = (pg_insert(Conversation.__table__)
                 .values(thread_key=thread_key, channel=channel, status="open", routing_state="new", state={})
                 .on_conflict_do_nothing(index_elements=["thread_key"], index_where=text("status = 'open'"))
                 .returning(*Conversation.__table__.c))
    row = (await conn.execute(statement)).first()
    if row is None:
        row = (await conn.execute(select(*Conversation.__table__.c).where(
            Conversation.thread_key == thread_key, Conversation.status == "open"))).first()
    return row_dict(row)


async def find_open_conversation(conn: AsyncConnection, thread_key: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(*Conversation.__table__.c).where(
        Conversation.thread_key == thread_key, Conversation.status == "open"))).first()
    return row_dict(row) if row is not None else None


async def latest_conversation(conn: AsyncConnection, thread_key: str) -> dict[str, Any] | None:
    """The newest conversation of a thread, open or closed."""
    row = (await conn.execute(select(*Conversation.__table__.c).where(Conversation.thread_key == thread_key)
                              .order_by(Conversation.id.desc()).limit(1))).first()
    return row_dict(row) if row is not None else None


async def update_conversation(conn: AsyncConnection, conversation_id: int, **values: Any) -> None:
    await conn.execute(update(Conversation.__table__).where(Conversation.id == conversation_id)
                       .values(**values, updated_at=func.now()))


async def store_message(conn: AsyncConnection, *, conversation_id: int, ticket_id: int | None, direction: str,
                        author: str, text_: str, dedupe_key: str, attachments: list[dict[str, Any]] | None = None,
                        external_id: str | None = None, at: datetime | None = None) -> int | None:
    """Store one message; None when a message with this dedupe key is already stored."""
    statement = (pg_insert(Message.__table__)
                 .values(conversation_id=conversation_id, ticket_id=ticket_id, direction=direction,
                         author=author, text=text_, dedupe_key=dedupe_key,
                         attachments={"items": attachments or []}, external_id=external_id,
                         at=at or datetime.now(UTC))
                 .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Message.id))
    return (await conn.execute(statement)).scalar()


async def set_message_ticket(conn: AsyncConnection, message_id: int, ticket_id: int) -> None:
    await conn.execute(update(Message.__table__).where(Message.id == message_id).values(ticket_id=ticket_id))


async def next_ticket_number(conn: AsyncConnection, number_format: str) -> str:
    seq = (await conn.execute(text("SELECT nextval('ticket_number_seq')"))).scalar_one()
    return number_format.format(year=datetime.now(UTC).year % 100, seq=seq)


async def create_ticket(conn: AsyncConnection, *, number: str, **values: Any) -> dict[str, Any]:
    statement = insert(Ticket.__table__).values(number=number, **values).returning(*TICKET_COLUMNS)
    return row_dict((await conn.execute(statement)).first())


async def load_ticket(conn: AsyncConnection, ticket_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(select(*TICKET_COLUMNS).where(Ticket.id == ticket_id))).first()
    return row_dict(row) if row is not None else None


async def update_ticket(conn: AsyncConnection, ticket_id: int, **values: Any) -> None:
    await conn.execute(update(Ticket.__table__).where(Ticket.id == ticket_id)
                       .values(**values, updated_at=func.now()))


async def add_events(conn: AsyncConnection, ticket_id: int, events: Iterable[tuple[str, str, dict[str, Any]]],
                     at: datetime | None = None) -> None:
    """Append ticket events: (author, kind, data) each, all stamped with the same instant."""
    rows = [{"ticket_id": ticket_id, "author": author, "kind": kind, "data": data,
             "at": at or datetime.now(UTC)} for author, kind, data in events]
    if rows:
        await conn.execute(insert(TicketEvent.__table__), rows)


async def recent_tickets_of_client(conn: AsyncConnection, client_id: int, since: datetime,
                                   exclude_ticket: int | None = None) -> list[dict[str, Any]]:
    statement = (select(Ticket.id, Ticket.number, Ticket.channel, Ticket.created_at, Ticket.status)
                 .where(Ticket.client_id == client_id, Ticket.created_at >= since)
                 .order_by(Ticket.created_at.desc()).limit(20))
    if exclude_ticket is not None:
        statement = statement.where(Ticket.id != exclude_ticket)
    return [row_dict(r) for r in (await conn.execute(statement)).all()]


async def link_tickets(conn: AsyncConnection, ticket_id: int, related: Iterable[int], kind: str) -> None:
    rows = [{"ticket_id": ticket_id, "related_ticket_id": r, "kind": kind} for r in related]
    if rows:
        await conn.execute(pg_insert(TicketLink.__table__).values(rows).on_conflict_do_nothing())


async def mark_inbox_processed(conn: AsyncConnection, inbox_id: int) -> None:
    await conn.execute(update(InboxItem.__table__).where(InboxItem.id == inbox_id, InboxItem.processed_at.is_(None))
                       .values(processed_at=func.now()))


async def conversation_messages(conn: AsyncConnection, conversation_id: int, limit: int = 200) -> list[dict[str, Any]]:
    statement = (select(Message.id, Message.direction, Message.author, Message.text, Message.attachments,
                        Message.at, Message.delivery_status, Message.external_id)
                 .where(Message.conversation_id == conversation_id).order_by(Message.at, Message.id).limit(limit))
    return [row_dict(r) for r in (await conn.execute(statement)).all()]


async def ticket_by_number(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(*TICKET_COLUMNS).where(Ticket.number == number))).first()
    return row_dict(row) if row is not None else None


async def open_thread_of_ticket(conn: AsyncConnection, number: str) -> str | None:
    """The thread key of a ticket's conversation, if that conversation is still open."""
    statement = (select(Conversation.thread_key).join(Ticket, Ticket.conversation_id == Conversation.id)
                 .where(Ticket.number == number, Conversation.status == "open"))
    return (await conn.execute(statement)).scalar()


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
