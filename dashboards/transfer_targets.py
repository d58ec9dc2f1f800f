"""Where a conversation may be transferred, as people name it: queues by their localised names (with
their departments), agents by name with their live state.  :func:`transfer_choices` is what the desktop
offers; :func:`resolve_transfer` turns what a person picked or typed (a queue's id, its name in any
language, a department, an agent's id) into the target the conversation actor takes, and refuses
anything else with a localised 400 that lists the choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from crm_core.users import list_users
from dashboards.context import Gateway, gateway
from dashboards.errors import bad_request


@dataclass(frozen=True, slots=True)
class TransferTarget:
    """A resolved target: a queue (or a department's queue) or one agent."""

    queue: str | None = None
    agent_id: int | None = None


def _queue_names(gw: Gateway, queue: str) -> dict[str, str]:
    return {lang: gw.locales.text(lang, f"queue.{queue}") for lang in gw.locales.tables}


async def _agents(gw: Gateway) -> list[dict[str, Any]]:
    """Active users whose role works conversations, with the state their agent actor last published."""
    async with gw.services.db.connect() as conn:
        people = await list_users(conn)
    snapshot = await gw.services.hub.snapshot()
    states = {str(e.get("id")): (e.get("state") or {}).get("state") for e in snapshot.get("agent", [])}
    roles = gw.settings.roles
    return [{"agent_id": p["id"], "name": p["full_name"], "state": states.get(str(p["id"])) or "offline"}
            for p in people if p["active"] and p["role"] in roles and roles[p["role"]].can("desktop")]


async def transfer_choices(request: web.Request) -> dict[str, Any]:
    gw = gateway(request)
    lang = gw.locales.pick(request)
    rules = gw.services.router.current
    queues = [{"queue": q.name, "name": gw.locales.text(lang, f"queue.{q.name}"), "department": q.department,
               "department_name": gw.locales.text(lang, f"department.{q.department}") if q.department else None}
              for q in rules.queues.values()]
    return {"queues": queues, "agents": await _agents(gw)}


async def resolve_transfer(request: web.Request, body: dict[str, Any]) -> TransferTarget:
    """The target of a transfer body (``queue`` or ``agent_id``); a 400 ``unknown_transfer_target`` for a
    queue, department or agent that does not exist, with the choices."""
    gw = gateway(request)
    if body.get("agent_id") is not None:
        agents = await _agents(gw)
        if not any(a["agent_id"] == body["agent_id"] for a in agents):
            raise bad_request("unknown_transfer_target", str(body["agent_id"]), field="agent_id",
                              choices=[{"agent_id": a["agent_id"], "name": a["name"]} for a in agents])
        return TransferTarget(agent_id=int(body["agent_id"]))
    typed = str(body.get("queue") or "").strip()
    rules = gw.services.router.current
    folded = typed.casefold()
    for queue in rules.queues.values():
        names = {queue.name, *(_queue_names(gw, queue.name).values())}
        if folded and folded in {n.casefold() for n in names}:
            return TransferTarget(queue=queue.name)
        if folded and queue.department and folded == queue.department.casefold():
            return TransferTarget(queue=queue.name)
    lang = gw.locales.pick(request)
    raise bad_request("unknown_transfer_target", typed, field="queue",
                      choices=[{"queue": q, "name": gw.locales.text(lang, f"queue.{q}")} for q in rules.queues])
