"""A conversation as the API names it: by its public id (the conversation's number), never by the thread
key the engine keys it by internally (built from a messenger id or an e-mail Message-ID)."""

from __future__ import annotations

from aiohttp import web

from actors.runtime.ref import ActorRef
from crm_core.tickets import thread_of_conversation
from dashboards.context import gateway
from dashboards.errors import ApiError

MAX_ID = 2**63 - 1


def public_id(raw: object) -> int:
    """The public id written in a path or a body; 404 when it cannot be one."""
    try:
        value = int(str(raw))
    except ValueError:
        raise ApiError(404, "not_found", "conversation") from None
    if not 0 < value <= MAX_ID:
        raise ApiError(404, "not_found", "conversation")
    return value


async def conversation_actor(request: web.Request, raw: object) -> tuple[int, ActorRef]:
    """The public id and the actor of the conversation named ``raw``; 404 when there is none."""
    conversation_id = public_id(raw)
    async with gateway(request).services.db.connect() as conn:
        thread_key = await thread_of_conversation(conn, conversation_id)
    if thread_key is None:
        raise ApiError(404, "not_found", "conversation")
    return conversation_id, ActorRef("conversation", thread_key)
