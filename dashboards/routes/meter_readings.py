"""Meter readings through the API: taken by an operator (or the app and IVR behind the API), judged
against the meter's last reading and the tariff, held for a supervisor's review when doubtful, refused with
the reason when impossible; the readings of a client's accounts for the card."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from aiohttp import web

from crm_core import meter_readings
from crm_core.meter_readings import SOURCES, NewReading, ReadingRefused
from crm_core.phones import normalize_account_no
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.filters import parse_int, path_id
from dashboards.masking import mask
from dashboards.reply_shapes import READINGS
from dashboards.schema import Body, Field

routes = ApiRoutes("readings")

NEW_READING = Body("MeterReading", {
    "account_no": Field(str, required=True, max_len=20), "meter_serial": Field(str, required=True, max_len=64),
    "value": Field(float, required=True), "taken_on": Field(str, required=True, max_len=10,
                                                            description="YYYY-MM-DD"),
    "source": Field(str, required=True, choices=SOURCES),
    "idempotency_key": Field(str, max_len=128, description="the same key again stores nothing more")})
DECISION = Body("ReadingDecision", {"accept": Field(bool, required=True), "reason": Field(str, max_len=500)})


def _reading(request: web.Request) -> NewReading:
    body = request[BODY]
    account_no = normalize_account_no(body["account_no"])
    if account_no is None:
        raise bad_request("invalid_field", "account_no: digits", field="account_no")
    try:
        value = Decimal(str(body["value"])).quantize(Decimal("0.001"))
        taken_on = date.fromisoformat(body["taken_on"])
    except (InvalidOperation, ValueError):
        raise bad_request("invalid_field", "value: a number; taken_on: YYYY-MM-DD", field="taken_on") from None
    return NewReading(account_no, body["meter_serial"].strip(), value, taken_on, body["source"],
                      body.get("idempotency_key") or uuid.uuid4().hex, principal(request).author)


@routes.route("POST", "/api/v1/readings", "Take a meter reading: accepted, held for review, or refused with why",
              permission="clients.edit", body=NEW_READING,
              statuses={201: "Accepted", 202: "Held for review", 422: "Refused: implausible (lower than the last one, say)"})
async def take_reading(request: web.Request) -> web.Response:
    reading = _reading(request)
    try:
        async with gateway(request).services.db.begin() as conn:
            outcome = await meter_readings.take(conn, reading, date.today())
    except ReadingRefused as exc:
        status = 404 if exc.code in ("unknown_account", "unknown_meter") else 422
        raise ApiError(status, exc.code, exc.detail) from None
    return json_response(outcome, status=201 if outcome.get("status") == "accepted" else 202)


@routes.route("GET", "/api/v1/readings/review", "Readings held for review, oldest first", permission="wall.act",
              query={"limit": "1..500"})
async def readings_for_review(request: web.Request) -> web.Response:
    async with gateway(request).services.db.connect() as conn:
        found = await meter_readings.for_review(conn, parse_int(request.query, "limit", 100, 1, 500))
    return json_response(mask({"readings": found}, READINGS, principal(request).role.mask))


@routes.route("POST", "/api/v1/readings/{reading_id}/decision", "Accept or refuse a reading held for review",
              permission="wall.act", body=DECISION)
async def decide_reading(request: web.Request) -> web.Response:
    reading_id = path_id(request, "reading_id")
    body = request[BODY]
    async with gateway(request).services.db.begin() as conn:
        decided = await meter_readings.decide(conn, reading_id, body["accept"], principal(request).author,
                                              body.get("reason"))
    if decided is None:
        raise ApiError(404, "not_found", "reading")
    return json_response(decided)


@routes.route("GET", "/api/v1/clients/{client_id}/readings", "Readings the centre took on the client's accounts",
              permission="clients.search")
async def client_readings(request: web.Request) -> web.Response:
    client_id = path_id(request, "client_id")
    async with gateway(request).services.db.connect() as conn:
        found = await meter_readings.of_client(conn, client_id)
    return json_response(mask({"readings": found}, READINGS, principal(request).role.mask))
