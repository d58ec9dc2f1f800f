"""The intake's dead letters for admins: what a channel received but could not store or read after
bounded attempts (:mod:`actors.intake`), listed with its raw payload and error, and replayed once the
cause is fixed.  A replay goes through the inbox again, so the item's dedupe key still holds: replaying
twice, or replaying what was stored meanwhile, stores nothing twice."""

from __future__ import annotations

from aiohttp import web

from channels.base import ChannelError
from channels.serialization import from_exact_bytes, inbound_from_json
from crm_core import audit
from crm_core import parked as parked_store
from dashboards.api import ApiRoutes, json_response
from dashboards.context import gateway, principal
from dashboards.errors import ApiError, bad_request, reason

routes = ApiRoutes("parked")

PERMISSION = "intake.parked"
PAGE = 100


def _int_query(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise bad_request("invalid_field", f"{name}: a whole number", field=name)
    return int(raw)


@routes.route("GET", "/api/v1/parked", "Parked inbound items (dead letters), newest first", permission=PERMISSION,
              query={"channel": "only this channel", "before": "page on: items with a smaller id",
                     "all": "1: replayed items too"})
async def list_parked(request: web.Request) -> web.Response:
    gw = gateway(request)
    async with gw.services.db.connect() as conn:
        records = await parked_store.list_parked(
            conn, channel=request.query.get("channel") or None, waiting_only=request.query.get("all") != "1",
            before_id=_int_query(request, "before"), limit=PAGE)
    return json_response({"items": [parked_store.as_json(record) for record in records]})


@routes.route("POST", "/api/v1/parked/{parked_id}/replay", "Hand a parked item over again (idempotent)",
              permission=PERMISSION)
async def replay(request: web.Request) -> web.Response:
    gw = gateway(request)
    raw_id = request.match_info["parked_id"]
    if not raw_id.isdigit():
        raise ApiError(404, "parked_item_not_found", raw_id)
    async with gw.services.db.connect() as conn:
        record = await parked_store.parked_item(conn, int(raw_id))
    if record is None:
        raise ApiError(404, "parked_item_not_found", raw_id)
    inbox_id: int | None = None
    if record.form == "inbound":
        taken = await gw.services.inbox.intake.take(inbound_from_json(from_exact_bytes(record.raw)))
        if taken.parked_id is not None:
            raise ApiError(409, "still_refused", "the store refused the item again; see its error")
        inbox_id = taken.inbox_id
    else:
        try:
            await gw.services.channels.read_again(record.channel, record.raw)
        except ChannelError as exc:
            raise ApiError(409, "still_refused", reason(exc)) from None
    async with gw.services.db.begin() as conn:
        await parked_store.mark_replayed(conn, record.id, inbox_id)
        await audit.record(conn, actor=principal(request).author, action="parked.replay", entity="parked_item",
                           entity_id=str(record.id), after={"channel": record.channel, "item_key": record.item_key,
                                                            "inbox_id": inbox_id})
    return json_response({"id": record.id, "replayed": True, "inbox_id": inbox_id,
                          "duplicate": record.form == "inbound" and inbox_id is None})
