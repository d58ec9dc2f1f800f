"""Billing on the client card: fetch the card's accounts from billing now (the card opened with data older
than the refresh period, or the operator pressed "refresh").  Billing that is down or slow never turns the
card into an error: the answer is the cached card with its age and why it could not be refreshed."""

from __future__ import annotations

from aiohttp import web

from crm_core.billing import store, sync
from crm_core.billing.client import BillingUnavailable
from dashboards.api import ApiRoutes, json_response
from dashboards.billing import billing_client, billing_state
from dashboards.context import gateway, principal
from dashboards.errors import ApiError
from dashboards.filters import path_id
from dashboards.masking import mask
from dashboards.reply_shapes import CARD
from dashboards.ticket_access import card_for

routes = ApiRoutes("clients")


@routes.route("POST", "/api/v1/clients/{client_id}/billing/refresh",
              "Fetch the client's accounts from billing now; the card as it then is, with its billing age",
              permission="clients.search")
async def refresh_billing(request: web.Request) -> web.Response:
    client_id = path_id(request, "client_id")
    gw = gateway(request)
    billing = billing_client(request)
    unavailable = None
    if billing is None:
        unavailable = "billing_not_configured"
    else:
        async with gw.services.db.connect() as conn:
            accounts = [row["account_no"] for row in await store.accounts_of_client(conn, client_id)]
        try:
            await sync.refresh_client(billing, gw.services.db, accounts)
        except BillingUnavailable:
            unavailable = "billing_unavailable"
    card = await gw.services.crm.client_card(client_id)
    if card is None:
        raise ApiError(404, "not_found", "client")
    refresh_after = billing.settings.refresh_after if billing else float("inf")
    state = {**billing_state(card, refresh_after), "unavailable": unavailable}
    if unavailable:
        state["message"] = gw.locales.text(gw.locales.pick(request), f"billing.{unavailable}")
    who = principal(request)
    return json_response(mask({**card_for(who, card), "billing_state": state}, CARD, who.role.mask))
