"""Passport data on the client card: its own category of personal data, sealed at rest, shown unmasked
only to roles whose mask does not hold ``passport``, and every unmasked view is in the audit log."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from crm_core import audit, client_edits, passports
from crm_core.passports import Passport, PassportCipher
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.filters import path_id
from dashboards.schema import Body, Field

routes = ApiRoutes("clients")

PASSPORT = Body("Passport", {
    "version": Field(int, required=True, description="the card version the change was made on"),
    "series": Field(str, required=True, max_len=2, description="two Cyrillic letters; empty for an ID card"),
    "number": Field(str, required=True, max_len=12), "issued_by": Field(str, required=True, max_len=300),
    "issued_on": Field(str, required=True, max_len=10, description="YYYY-MM-DD"),
    "reason": Field(str, max_len=500)})


def _cipher(request: web.Request) -> PassportCipher:
    gw = gateway(request)
    if "passport_cipher" not in gw.extra:
        data_dir = Path(getattr(getattr(gw.services.settings, "engine", None), "data_dir", "var"))
        gw.extra["passport_cipher"] = PassportCipher.from_environment(data_dir)
    return gw.extra["passport_cipher"]



@routes.route("GET", "/api/v1/clients/{client_id}/passport",
              "The client's passport: unmasked for roles allowed to see it (each such view audited)",
              permission="clients.search")
async def read_passport(request: web.Request) -> web.Response:
    who, client_id = principal(request), path_id(request, "client_id")
    masked = "passport" in who.role.mask
    async with gateway(request).services.db.begin() as conn:
        passport = await passports.load(conn, _cipher(request), client_id)
        if passport is not None and not masked:
            await audit.record(conn, actor=who.author, action="client.passport.view", entity="client",
                               entity_id=client_id)
    return json_response({"passport": passports.describe(passport, masked=masked), "masked": masked})


@routes.route("PUT", "/api/v1/clients/{client_id}/passport", "Record or correct the client's passport",
              permission="clients.edit", body=PASSPORT, statuses={409: "Changed meanwhile (version conflict)"})
async def write_passport(request: web.Request) -> web.Response:
    who, client_id, body = principal(request), path_id(request, "client_id"), request[BODY]
    if "passport" in who.role.mask:
        raise ApiError(403, "forbidden", "passport")
    try:
        passport = Passport.checked(body["series"], body["number"], body["issued_by"], body["issued_on"])
    except ValueError as exc:
        raise bad_request("invalid_field", str(exc), field="number") from None
    author = client_edits.Author(who.author, body.get("reason"))
    try:
        async with gateway(request).services.db.begin() as conn:
            changed = await client_edits.touch_card(conn, author, client_id, body["version"], "client.passport.set")
            await passports.save(conn, _cipher(request), client_id, passport)
    except client_edits.VersionConflict as exc:
        raise ApiError(409, exc.code, None, current_version=exc.current) from None
    except client_edits.CardEditError as exc:
        raise ApiError(404 if exc.code == "not_found" else 400, exc.code, exc.detail) from None
    return json_response(changed)
