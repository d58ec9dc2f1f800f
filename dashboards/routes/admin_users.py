"""Administration of users: list, create, change (role, skills with levels, queues, capacity per channel,
extension, VICIdial user, language), deactivate and activate (never delete), reset a password, import
from CSV.  Every change is audited (``crm_core.user_admin``) and takes effect at once: a deactivated
user's sessions end, and an agent's running actor reads its new skills, queues and capacity."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import messages as m
from actors.runtime.ref import ActorRef
from crm_core import user_admin, user_import, users
from crm_core.password_policy import PasswordPolicy
from dashboards import security_events
from dashboards.api import RAW_BODY, ApiRoutes, json_response
from dashboards.context import BODY, Gateway, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.schema import Body, Field

routes = ApiRoutes("administration")

PERMISSION = "admin.users"
CSV_BYTES = 4 * 1024 * 1024
PROFILE_FIELDS = ("skills", "queues", "capacity")
_EDITS = {"full_name": Field(str, max_len=200), "role": Field(str, max_len=32),
          "skills": Field(dict, description='{"billing": 4}: levels 1-5'),
          "queues": Field(list, description='["general", "billing"]'),
          "capacity": Field(dict, description='{"voice": 1, "chat": 3}'),
          "extension": Field(str, max_len=32, nullable=True), "vicidial_user": Field(str, max_len=32, nullable=True),
          "language": Field(str, max_len=8, nullable=True)}
NEW_USER = Body("NewUser", {"login": Field(str, required=True, max_len=64),
                            "password": Field(str, required=True, max_len=256),
                            **{k: Field(f.type, required=k in ("full_name", "role"), max_len=f.max_len,
                                        nullable=f.nullable, description=f.description) for k, f in _EDITS.items()}})
USER_CHANGES = Body("UserChanges", _EDITS)
NEW_PASSWORD = Body("NewPassword", {"password": Field(str, required=True, max_len=256)})


def catalogue(gw: Gateway) -> user_import.Catalogue:
    routing = gw.services.router.current
    return user_import.Catalogue(roles=tuple(gw.settings.roles), skills=tuple(routing.skills),
                                 queues=tuple(routing.queues), channels=tuple(routing.capacity),
                                 languages=gw.settings.languages)


def checked(gw: Gateway, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes in storage form, refused with the field named when they name what does not exist."""
    known = catalogue(gw)
    if "role" in changes and changes["role"] not in known.roles:
        raise bad_request("unknown_role", changes["role"], field="role")
    if "skills" in changes:
        skills = changes["skills"]
        if unknown := known.unknown_skills(skills):
            raise bad_request("unknown_skill", ", ".join(unknown), field="skills")
        if any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5 for v in skills.values()):
            raise bad_request("invalid_field", "skills: levels 1-5", field="skills")
    if "queues" in changes:
        if unknown := sorted({str(q) for q in changes["queues"]} - set(known.queues)):
            raise bad_request("unknown_queue", ", ".join(unknown), field="queues")
        changes = {**changes, "queues": {"names": [str(q) for q in changes["queues"]]}}
    if "capacity" in changes:
        capacity = changes["capacity"]
        if unknown := sorted(set(capacity) - set(known.channels)):
            raise bad_request("invalid_field", f"capacity: unknown channels {', '.join(unknown)}", field="capacity")
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in capacity.values()):
            raise bad_request("invalid_field", "capacity: whole numbers", field="capacity")
    if changes.get("language") is not None and changes["language"] not in known.languages:
        raise bad_request("invalid_field", f"language: one of {list(known.languages)}", field="language")
    return changes


def refused(exc: user_admin.AdminRefused) -> ApiError:
    status = {"not_found": 404, "login_taken": 409, "last_administrator": 409, "own_admin_role": 409}
    return ApiError(status.get(exc.code, 400), exc.code, exc.detail)


def _user_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not raw.isdigit():
        raise ApiError(404, "not_found", "user")
    return int(raw)


def _profile_changed(gw: Gateway, user_id: int) -> None:
    gw.services.system.tell(ActorRef("agent", str(user_id)), m.ProfileChanged())


@routes.route("GET", "/api/v1/admin/users", "Every user (active or not)", permission=PERMISSION)
async def list_all(request: web.Request) -> web.Response:
    async with gateway(request).services.db.connect() as conn:
        return json_response({"users": await users.list_users(conn)})


@routes.route("POST", "/api/v1/admin/users", "Create a user", permission=PERMISSION, body=NEW_USER,
              statuses={201: "Created", 409: "The login is taken"})
async def create(request: web.Request) -> web.Response:
    gw, who = gateway(request), principal(request)
    body = checked(gw, dict(request[BODY]))
    login, password = body.pop("login"), body.pop("password")
    try:
        async with gw.services.db.begin() as conn:
            user_id = await user_admin.add_user(conn, who.author, login=login, password=password,
                                                policy=PasswordPolicy(), **body)
            created = await users.get_user(conn, user_id)
    except user_admin.AdminRefused as exc:
        raise refused(exc) from None
    security_events.emit(request, "user.created", user_id=user_id, login=login, role=body["role"])
    return json_response(created, status=201)


@routes.route("PATCH", "/api/v1/admin/users/{user_id}", "Change a user's role, skills, queues, capacity, "
              "extension, VICIdial user or language", permission=PERMISSION, body=USER_CHANGES)
async def change(request: web.Request) -> web.Response:
    gw, who, user_id = gateway(request), principal(request), _user_id(request)
    changes = checked(gw, dict(request[BODY]))
    try:
        async with gw.services.db.begin() as conn:
            await user_admin.update_user(conn, who.author, user_id, changes, acting_user_id=who.id)
            after = await users.get_user(conn, user_id)
    except user_admin.AdminRefused as exc:
        raise refused(exc) from None
    gw.sessions.forget_user(user_id)  # a new role counts from the next request
    security_events.emit(request, "user.role_changed" if "role" in changes else "user.updated", user_id=user_id,
                         fields=sorted(changes))
    if set(changes) & set(PROFILE_FIELDS):
        _profile_changed(gw, user_id)
    return json_response(after)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    gw, who, user_id = gateway(request), principal(request), _user_id(request)
    try:
        async with gw.services.db.begin() as conn:
            changed = await user_admin.set_active(conn, who.author, user_id, active, acting_user_id=who.id)
    except user_admin.AdminRefused as exc:
        raise refused(exc) from None
    gw.sessions.forget_user(user_id)
    if changed:
        security_events.emit(request, "user.activated" if active else "user.deactivated", user_id=user_id)
    return json_response({"id": user_id, "active": active, "changed": changed})


@routes.route("POST", "/api/v1/admin/users/{user_id}/deactivate", "Deactivate a user; their sessions end at once",
              permission=PERMISSION)
async def deactivate(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@routes.route("POST", "/api/v1/admin/users/{user_id}/activate", "Activate a user again", permission=PERMISSION)
async def activate(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@routes.route("POST", "/api/v1/admin/users/{user_id}/password", "Set a new password; the user's sessions end",
              permission=PERMISSION, body=NEW_PASSWORD)
async def reset_password(request: web.Request) -> web.Response:
    gw, who, user_id = gateway(request), principal(request), _user_id(request)
    try:
        async with gw.services.db.begin() as conn:
            await user_admin.reset_password(conn, who.author, user_id, request[BODY]["password"], PasswordPolicy())
    except user_admin.AdminRefused as exc:
        raise refused(exc) from None
    gw.sessions.forget_user(user_id)
    security_events.emit(request, "user.password_reset", user_id=user_id)
    return web.Response(status=204)


@routes.route("POST", "/api/v1/admin/users/import", "Import users from CSV (text/csv body); refused rows are "
              "reported with their line and reason, the rest imported", permission=PERMISSION, statuses=RAW_BODY)
async def import_csv(request: web.Request) -> web.Response:
    gw, who = gateway(request), principal(request)
    if request.content_type != "text/csv":
        raise ApiError(415, "unsupported_media_type", "text/csv")
    if request.content_length is not None and request.content_length > CSV_BYTES:
        raise ApiError(413, "body_too_large", f"at most {CSV_BYTES} bytes")
    raw = await request.content.read(CSV_BYTES + 1)
    if len(raw) > CSV_BYTES:
        raise ApiError(413, "body_too_large", f"at most {CSV_BYTES} bytes")
    try:
        rows, refused_rows = user_import.parse(raw.decode("utf-8"), catalogue(gw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad_request("invalid_csv", str(exc)) from None
    async with gw.services.db.begin() as conn:
        report = await user_import.import_users(conn, who.author, rows)
    report.refused = refused_rows
    security_events.emit(request, "user.imported", imported=len(report.imported), refused=len(refused_rows))
    return json_response(report.public())
