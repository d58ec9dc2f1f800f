"""Changes to the client card (create, edit, contact points, links to accounts, deactivate), its history,
duplicate candidates, and the audit log for the roles that read it.  Every change names the card's
``version`` and answers 409 with the current one when the card moved on meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import audit, client_edits, client_merges, duplicates
from crm_core.client_edits import ACCOUNT_ROLES, CLIENT_KINDS, Author, CardEditError
from crm_core.phones import CONTACT_KINDS, normalize_account_no
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.filters import parse_int, path_id
from dashboards.masking import mask
from dashboards.reply_shapes import AUDIT_ENTRY, CLIENT_HISTORY, DUPLICATES, MERGES
from dashboards.schema import Body, Field

routes = ApiRoutes("clients")

_VERSION = Field(int, required=True, description="the card version the change was made on")
_REASON = Field(str, max_len=500, description="why, for the audit log")
_CLIENT_FIELDS = {"full_name": Field(str, max_len=300), "kind": Field(str, choices=CLIENT_KINDS),
                  "segment": Field(str, max_len=16), "language": Field(str, max_len=8)}
NEW_CLIENT = Body("NewClient", {
    **_CLIENT_FIELDS, "full_name": Field(str, required=True, max_len=300),
    "contact_points": Field(list, max_len=20, description="[{kind, value}]"), "reason": _REASON})
CLIENT_CHANGE = Body("ClientChange", {**_CLIENT_FIELDS, "version": _VERSION, "reason": _REASON})
NEW_CONTACT_POINT = Body("NewContactPoint", {
    "version": _VERSION, "kind": Field(str, required=True, choices=CONTACT_KINDS),
    "value": Field(str, required=True, max_len=320), "is_primary": Field(bool), "reason": _REASON})
CONTACT_POINT_CHANGE = Body("ContactPointChange", {
    "version": _VERSION, "value": Field(str, max_len=320), "is_primary": Field(bool), "reason": _REASON})
ACCOUNT_LINK = Body("AccountLink", {
    "version": _VERSION, "account_no": Field(str, required=True, max_len=20),
    "role": Field(str, required=True, choices=ACCOUNT_ROLES), "reason": _REASON})
VERSIONED = Body("VersionedChange", {"version": _VERSION, "reason": _REASON})
CLIENT_MERGE = Body("ClientMerge", {
    "version": _VERSION, "merged_client_id": Field(int, required=True, description="the duplicate card"),
    "merged_version": Field(int, required=True, description="the duplicate card's version"), "reason": _REASON})
MERGE_UNDO = Body("ClientMergeUndo", {"reason": _REASON})
DUPLICATE_PROBE = Body("DuplicateProbe", {
    "full_name": Field(str, max_len=300), "contact_points": Field(list, max_len=20, description="[{kind, value}]"),
    "eic_codes": Field(list, max_len=20), "service_address": Field(str, max_len=500)})

_STATUS = {"not_found": 404, "version_conflict": 409, "merge_refused": 409}
CHANGED_MEANWHILE = {409: "Changed meanwhile (version conflict)"}
MERGE_REFUSED = {409: "Changed meanwhile, or refused: a card merged into itself, an inactive card, a merge undone"}



def _author(request: web.Request) -> Author:
    return Author(principal(request).author, request[BODY].get("reason"))


def _contacts(items: list[Any]) -> tuple[tuple[str, str], ...]:
    """``[{kind, value}]`` as normalised pairs, refusing the first that is not a usable contact point."""
    pairs = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"kind", "value"} or not all(
                isinstance(v, str) for v in item.values()):
            raise bad_request("invalid_field", "contact_points: [{kind, value}]", field="contact_points")
        try:
            pairs.append((item["kind"], client_edits.normalize_contact(item["kind"], item["value"])))
        except CardEditError as exc:
            raise bad_request(exc.code, exc.detail, field="contact_points") from None
    return tuple(pairs)


async def _change(request: web.Request,
                  work: Callable[[AsyncConnection], Awaitable[dict[str, Any]]]) -> web.Response:
    """Run one change in a transaction with its audit entry; refusals become clear 4xx answers."""
    try:
        async with gateway(request).services.db.begin() as conn:
            result = await work(conn)
    except client_edits.VersionConflict as exc:
        raise ApiError(409, exc.code, None, current_version=exc.current) from None
    except CardEditError as exc:
        raise ApiError(_STATUS.get(exc.code, 400), exc.code, exc.detail) from None
    return json_response(result)


@routes.route("POST", "/api/v1/clients/duplicates", "Duplicate candidates of a card about to be saved",
              permission="clients.search", body=DUPLICATE_PROBE)
async def check_duplicates(request: web.Request) -> web.Response:
    body = request[BODY]
    probe = duplicates.Probe(full_name=body.get("full_name"), contacts=_contacts(body.get("contact_points", [])),
                             eic_codes=tuple(str(code).strip().upper() for code in body.get("eic_codes", [])),
                             address=body.get("service_address"))
    async with gateway(request).services.db.connect() as conn:
        found = await duplicates.candidates(conn, probe)
    return json_response(mask({"candidates": found}, DUPLICATES, principal(request).role.mask))


@routes.route("GET", "/api/v1/clients/{client_id}/duplicates", "Duplicate candidates of a client card",
              permission="clients.search")
async def client_duplicates(request: web.Request) -> web.Response:
    client_id = path_id(request, "client_id")
    async with gateway(request).services.db.connect() as conn:
        found = await duplicates.candidates(conn, await duplicates.probe_of(conn, client_id))
    return json_response(mask({"candidates": found}, DUPLICATES, principal(request).role.mask))


@routes.route("POST", "/api/v1/clients", "Create a client card; the answer lists its duplicate candidates",
              permission="clients.edit", body=NEW_CLIENT,
              statuses={201: "Created"})
async def create_client(request: web.Request) -> web.Response:
    body = request[BODY]
    contacts = _contacts(body.get("contact_points", []))
    fields = {k: body[k] for k in ("kind", "segment", "language") if k in body}

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        created = await client_edits.create_client(conn, _author(request), full_name=body["full_name"],
                                                   contacts=contacts, **fields)
        probe = duplicates.Probe(full_name=body["full_name"], contacts=contacts, exclude_client_id=created["id"])
        return {**created, "duplicates": mask(await duplicates.candidates(conn, probe),
                                              DUPLICATES["candidates"], principal(request).role.mask)}

    response = await _change(request, work)
    response.set_status(201)
    return response


@routes.route("PATCH", "/api/v1/clients/{client_id}", "Change the client's name, kind, segment or language",
              permission="clients.edit", body=CLIENT_CHANGE,
              statuses={409: "Changed meanwhile (version conflict)"})
async def update_client(request: web.Request) -> web.Response:
    client_id, body = path_id(request, "client_id"), request[BODY]
    changes = {k: body[k] for k in client_edits.CLIENT_FIELDS if k in body}
    return await _change(request, lambda conn: client_edits.update_client(
        conn, _author(request), client_id, body["version"], changes))


@routes.route("POST", "/api/v1/clients/{client_id}/deactivate", "Deactivate the client (never deleted)",
              permission="clients.edit", body=VERSIONED,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def deactivate_client(request: web.Request) -> web.Response:
    client_id = path_id(request, "client_id")
    return await _change(request, lambda conn: client_edits.deactivate_client(
        conn, _author(request), client_id, request[BODY]["version"]))


@routes.route("POST", "/api/v1/clients/{client_id}/contact-points", "Add a phone, e-mail or messenger id",
              permission="clients.edit", body=NEW_CONTACT_POINT,
              statuses=CHANGED_MEANWHILE)
async def add_contact_point(request: web.Request) -> web.Response:
    client_id, body = path_id(request, "client_id"), request[BODY]
    return await _change(request, lambda conn: client_edits.add_contact_point(
        conn, _author(request), client_id, body["version"], kind=body["kind"], value=body["value"],
        primary=body.get("is_primary", False)))


@routes.route("PATCH", "/api/v1/clients/{client_id}/contact-points/{point_id}",
              "Correct a contact point or make it the primary one", permission="clients.edit",
              body=CONTACT_POINT_CHANGE, statuses=CHANGED_MEANWHILE)
async def change_contact_point(request: web.Request) -> web.Response:
    client_id, point_id, body = path_id(request, "client_id"), path_id(request, "point_id"), request[BODY]
    return await _change(request, lambda conn: client_edits.change_contact_point(
        conn, _author(request), client_id, body["version"], point_id, value=body.get("value"),
        primary=body.get("is_primary")))


@routes.route("POST", "/api/v1/clients/{client_id}/contact-points/{point_id}/remove", "Remove a contact point",
              permission="clients.edit", body=VERSIONED, statuses=CHANGED_MEANWHILE)
async def remove_contact_point(request: web.Request) -> web.Response:
    client_id, point_id = path_id(request, "client_id"), path_id(request, "point_id")
    return await _change(request, lambda conn: client_edits.remove_contact_point(
        conn, _author(request), client_id, request[BODY]["version"], point_id))


async def _account_change(request: web.Request, change: Callable[..., Awaitable[dict[str, Any]]]) -> web.Response:
    """Link or unlink the client and an account in a role."""
    client_id, body = path_id(request, "client_id"), request[BODY]
    account_no = normalize_account_no(body["account_no"])
    if account_no is None:
        raise bad_request("invalid_field", "account_no: digits", field="account_no")
    return await _change(request, lambda conn: change(conn, _author(request), client_id, body["version"],
                                                      account_no=account_no, role=body["role"]))


@routes.route("POST", "/api/v1/clients/{client_id}/accounts", "Put the client on an account in a role",
              permission="clients.edit", body=ACCOUNT_LINK,
              statuses=CHANGED_MEANWHILE)
async def link_account(request: web.Request) -> web.Response:
    return await _account_change(request, client_edits.link_account)


@routes.route("POST", "/api/v1/clients/{client_id}/accounts/unlink",
              "End the client's link to an account in a role (kept with its end date)",
              permission="clients.edit", body=ACCOUNT_LINK,
              statuses=CHANGED_MEANWHILE)
async def unlink_account(request: web.Request) -> web.Response:
    return await _account_change(request, client_edits.unlink_account)


@routes.route("POST", "/api/v1/clients/{client_id}/merge",
              "Merge a duplicate card into this one: its accounts, contact points and tickets move here",
              permission="clients.merge", body=CLIENT_MERGE, statuses=MERGE_REFUSED)
async def merge_client(request: web.Request) -> web.Response:
    client_id, body = path_id(request, "client_id"), request[BODY]
    return await _change(request, lambda conn: client_merges.merge_clients(
        conn, _author(request), survivor_id=client_id, survivor_version=body["version"],
        merged_id=body["merged_client_id"], merged_version=body["merged_version"]))


@routes.route("POST", "/api/v1/client-merges/{merge_id}/undo",
              "Undo a merge: the merged card gets back what moved and is active again",
              permission="clients.merge", body=MERGE_UNDO, statuses=MERGE_REFUSED)
async def undo_merge(request: web.Request) -> web.Response:
    merge_id = path_id(request, "merge_id")
    return await _change(request, lambda conn: client_merges.undo_merge(conn, _author(request), merge_id))


@routes.route("GET", "/api/v1/clients/{client_id}/merges", "The merges the client took part in",
              permission="clients.search")
async def client_merge_list(request: web.Request) -> web.Response:
    client_id = path_id(request, "client_id")
    async with gateway(request).services.db.connect() as conn:
        found = await client_merges.merges_of(conn, client_id)
    return json_response(mask({"merges": found}, MERGES, principal(request).role.mask))


@routes.route("GET", "/api/v1/clients/{client_id}/history",
              "Every change of the card (who, when, before, after, why) and its ended account links",
              permission="clients.search", query={"limit": "1..500"})
async def client_history(request: web.Request) -> web.Response:
    client_id = path_id(request, "client_id")
    limit = parse_int(request.query, "limit", 200, 1, 500)
    async with gateway(request).services.db.connect() as conn:
        entries = await audit.entries_for(conn, "client", client_id, limit=limit)
        ended = await client_edits.ended_links(conn, client_id)
    return json_response(mask({"changes": entries, "ended_links": ended}, CLIENT_HISTORY, principal(request).role.mask))


def _time(query: Any, name: str) -> datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request("invalid_filter", f"{name}: an ISO 8601 time", field=name) from None


@routes.route("GET", "/api/v1/audit", "The audit log, newest first, filtered by entity, author and time",
              permission="audit.read",
              query={"entity": "client | ticket | conversation | user ...", "entity_id": "the entity's id",
                     "actor": "who made the change", "since": "ISO 8601", "until": "ISO 8601", "limit": "1..500"})
async def audit_log(request: web.Request) -> web.Response:
    query = request.query
    entries = audit.AuditFilter(entity=query.get("entity") or None, entity_id=query.get("entity_id") or None,
                                actor=query.get("actor") or None, since=_time(query, "since"),
                                until=_time(query, "until"))
    limit = parse_int(query, "limit", 100, 1, 500)
    async with gateway(request).services.db.connect() as conn:
        found = await audit.search(conn, entries, limit=limit)
    return json_response(mask({"entries": found}, {"entries": [AUDIT_ENTRY]}, principal(request).role.mask))
