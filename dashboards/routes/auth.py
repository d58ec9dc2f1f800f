"""Login, logout and who am I: a password login opens a session whose token works as a bearer token
and, for the pages, as an HttpOnly cookie."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crm_core import users
from dashboards import password_login, security_events
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, TOKEN, Principal, gateway, principal
from dashboards.errors import ApiError
from dashboards.first_start import require_administrator
from dashboards.i18n import LANG_COOKIE
from dashboards.schema import Body, Field
from dashboards.security import session_cookie_secure

routes = ApiRoutes("auth")

LOGIN = Body("Login", {"login": Field(str, required=True, max_len=64),
                       "password": Field(str, required=True, max_len=256)})
LANGUAGE = Body("Language", {"lang": Field(str, required=True, max_len=8)})

PAGES = (("desktop", ("desktop",)), ("wall", ("wall.view",)), ("tickets", ("tickets.read", "tickets.read_own")),
         ("reports", ("reports.view",)), ("templates", ("informing.templates",)),
         ("admin", ("admin.users", "admin.roles", "admin.keys")), ("audit", ("audit.read",)))


def menu(who: Principal) -> list[str]:
    """The pages this user's role opens, in menu order."""
    return [page for page, needs in PAGES if any(who.role.can(p) for p in needs)]


@routes.route("POST", "/api/v1/auth/login", "Log in with login and password; returns a session token",
              body=LOGIN, public=True, statuses={401: "Wrong login or password",
                                                 429: "Too many wrong tries; wait Retry-After seconds"})
async def login(request: web.Request) -> web.Response:
    gw = gateway(request)
    body = request[BODY]
    await require_administrator(gw)
    account, address = body["login"].strip().lower(), request.remote or "unknown"
    try:
        gw.logins.check(account, address)
    except ApiError:
        gw.metrics.logins.labels("throttled").inc()
        await security_events.login_throttled(request, body["login"])
        raise
    async with gw.services.db.begin() as conn:
        user, way = await password_login.authenticate(gw, conn, body["login"], body["password"])
        if user is None or user["role"] not in gw.settings.roles:
            gw.metrics.logins.labels("refused").inc()
            gw.logins.failed(account, address)
            await security_events.login(request, body["login"], None, way)
            raise ApiError(401, "invalid_credentials")
        token, expires_at = await users.open_session(conn, user["id"], gw.settings.session_ttl)
    gw.metrics.logins.labels("ok").inc()
    await security_events.login(request, body["login"], user, way)
    answer: dict[str, Any] = {"token": token, "expires_at": expires_at, "user": {
        "id": user["id"], "login": user["login"], "full_name": user["full_name"], "role": user["role"]}}
    if failed := gw.logins.succeeded(account):
        text = gw.locales.text(gw.locales.pick(request), "login.failed_tries_notice")
        answer["notice"] = {"code": "failed_tries", "count": failed, "message": text.format(count=failed)}
    response = json_response(answer)
    response.set_cookie(gw.settings.session_cookie, token, httponly=True, samesite="Strict", path="/",
                        secure=session_cookie_secure(request),
                        max_age=int(gw.settings.session_ttl.total_seconds()))
    return response


@routes.route("POST", "/api/v1/auth/logout", "End the current session")
async def logout(request: web.Request) -> web.Response:
    gw = gateway(request)
    token = request[TOKEN]
    async with gw.services.db.begin() as conn:
        await users.close_session(conn, token)
    gw.sessions.forget(token)
    await security_events.record(request, "logout", entity_id=principal(request).id)
    response = web.Response(status=204)
    response.del_cookie(gw.settings.session_cookie, path="/")
    return response


@routes.route("GET", "/api/v1/me", "The logged-in user, the role's permissions and menu")
async def me(request: web.Request) -> web.Response:
    who = principal(request)
    gw = gateway(request)
    return json_response({**who.public(), "menu": menu(who), "lang": gw.locales.pick(request),
                          "languages": list(gw.settings.languages)})


@routes.route("POST", "/api/v1/me/language", "Choose the interface language (kept in a cookie)",
              body=LANGUAGE, public=True)
async def choose_language(request: web.Request) -> web.Response:
    gw = gateway(request)
    lang = request[BODY]["lang"]
    if lang not in gw.settings.languages:
        raise ApiError(400, "invalid_field", f"lang: one of {list(gw.settings.languages)}", field="lang")
    response = json_response({"lang": lang})
    response.set_cookie(LANG_COOKIE, lang, samesite="Strict", path="/", max_age=365 * 86400)
    return response


@routes.route("GET", "/api/v1/i18n/{lang}", "Every interface string in one language", public=True)
async def strings(request: web.Request) -> web.Response:
    gw = gateway(request)
    lang = request.match_info["lang"]
    if lang not in gw.settings.languages:
        raise ApiError(404, "not_found", f"language {lang}")
    return json_response({"lang": lang, "strings": gw.locales.table(lang)},
                         headers={"Cache-Control": "max-age=300"})
