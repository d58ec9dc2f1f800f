"""What the agent and queue actors read and write of the people who take contacts: an agent's user row,
chosen state and the conversations it holds, a queue's members and waiting conversations, extensions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import driver_sql
from crm_core.models import AgentState, Conversation, Ticket, User


async def agent_row(conn: AsyncConnection, agent_id: int) -> Any:
    """The agent's user row; :class:`LookupError` when there is none."""
    user = (await conn.execute(select(*User.__table__.c).where(User.id == agent_id))).first()
    if user is None:
        raise LookupError(f"no user {agent_id}")
    return user


async def agent_state_row(conn: AsyncConnection, agent_id: int) -> Any:
    """The state the agent last chose (with since when), or None."""
    return (await conn.execute(select(*AgentState.__table__.c).where(AgentState.user_id == agent_id))).first()


async def held_conversations(conn: AsyncConnection, agent_id: int) -> list[Any]:
    """``(thread_key, channel, id)`` of the open conversations assigned to the agent."""
    return list((await conn.execute(select(Conversation.thread_key, Conversation.channel, Conversation.id).where(
        Conversation.agent_id == agent_id, Conversation.status == "open",
        Conversation.routing_state == "assigned"))).all())


async def waiting_in_queue(conn: AsyncConnection, queue: str) -> list[Any]:
    """The queue's open conversations waiting or offered: thread, channel, state, ticket number, priority,
    attributes and the conversation's id."""
    return list((await conn.execute(
        select(Conversation.thread_key, Conversation.channel, Conversation.state, Ticket.number,
               Ticket.priority, Ticket.attributes, Conversation.id)
        .join(Ticket, Ticket.id == Conversation.ticket_id)
        .where(Conversation.queue == queue, Conversation.status == "open",
               Conversation.routing_state.in_(("queued", "offered"))))).all())


async def queue_members(conn: AsyncConnection, queue: str) -> list[int]:
    """The active users who serve the queue."""
    return list((await conn.execute(select(User.id).where(
        User.active.is_(True), User.queues["names"].contains([queue])))).scalars().all())


async def extension_of(conn: AsyncConnection, agent_id: int) -> str | None:
    return (await conn.execute(select(User.extension).where(User.id == agent_id))).scalar()


async def agent_at_extension(conn: driver_sql.Source, extension: str) -> int | None:
    """The active user whose telephone extension this is (``conn``: a connection or the autocommit pool)."""
    return await driver_sql.fetch_value(conn, "SELECT id FROM users WHERE extension = %s AND active", (extension,))


async def save_agent_state(conn: driver_sql.Source, user_id: int, state: str, reason: str | None,
                           since: datetime) -> None:
    """The agent's chosen state (available, break with its reason, wrap-up...) since when."""
    await driver_sql.execute(conn, (
        "INSERT INTO agent_states (user_id, state, reason, since, data) VALUES (%s, %s, %s, %s, '{}')"
        " ON CONFLICT (user_id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,"
        " since = EXCLUDED.since"), (user_id, state, reason, since))

