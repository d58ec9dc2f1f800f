"""Client search (by phone, account, owner name, address, e-mail, EIC; partial and combined) and the
client card, both masked per role."""

from __future__ import annotations

from aiohttp import web

from crm_core.search import SEARCH_FIELDS, SEARCH_MODES, SearchError, SearchQuery, Term
from dashboards.api import ApiRoutes, json_response
from dashboards.billing import billing_client, billing_state
from dashboards.context import gateway, principal
from dashboards.errors import ApiError, bad_request, cause
from dashboards.filters import parse_int
from dashboards.masking import mask
from dashboards.reply_shapes import CARD, SEARCH
from dashboards.ticket_access import card_for

routes = ApiRoutes("clients")


@routes.route("GET", "/api/v1/clients/search", "Search clients; terms combine with mode=and (default) or or",
              permission="clients.search",
              query={**{f: f"part of the {f}" for f in SEARCH_FIELDS}, "mode": "and | or", "limit": "1..100"})
async def search_clients(request: web.Request) -> web.Response:
    who = principal(request)
    query = request.query
    if unknown := set(query) - {*SEARCH_FIELDS, "mode", "limit", "lang"}:
        raise bad_request("invalid_filter", f"unknown parameter {sorted(unknown)[0]}", field=sorted(unknown)[0])
    terms = [Term(field, value.strip()) for field in SEARCH_FIELDS for value in query.getall(field, ())
             if value.strip()]
    if not terms:
        raise bad_request("invalid_filter", f"give at least one of {list(SEARCH_FIELDS)}", field="name")
    if any(len(t.value) > 200 for t in terms):
        raise bad_request("invalid_filter", "a search term is at most 200 characters", field=terms[0].field)
    mode = query.get("mode", "and")
    if mode not in SEARCH_MODES:
        raise bad_request("invalid_filter", f"mode: one of {list(SEARCH_MODES)}", field="mode")
    limit = parse_int(query, "limit", 25, 1, 100)
    try:
        result = await gateway(request).services.crm.search(SearchQuery(tuple(terms), mode, limit))
    except SearchError as exc:
        refusal = cause(exc)
        gw = gateway(request)
        text = gw.locales.text(gw.locales.pick(request), getattr(refusal, "key", "error.invalid_filter"))
        raise bad_request("invalid_filter", text.format_map(_Params(getattr(refusal, "params", {})))) from None
    return json_response(mask(result.to_dict(), SEARCH, who.role.mask))


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return ""


@routes.route("GET", "/api/v1/clients/{client_id}", "The client card: accounts, balance as of its time, contacts, "
              "previous tickets and communications, repeat-contact marker", permission="clients.search")
async def client_card(request: web.Request) -> web.Response:
    who = principal(request)
    try:
        client_id = int(request.match_info["client_id"])
    except ValueError:
        raise ApiError(404, "not_found", "client") from None
    card = await gateway(request).services.crm.client_card(client_id)
    if card is None:
        raise ApiError(404, "not_found", "client")
    data = card_for(who, card.to_dict() if hasattr(card, "to_dict") else card)
    billing = billing_client(request)
    if billing is not None:
        data = {**data, "billing_state": billing_state(data, billing.settings.refresh_after)}
    return json_response(mask(data, CARD, who.role.mask))
