"""The HTML pages: plain files from ``dashboards/static`` (no build step); each page asks the API who is
logged in and goes to the login page when nobody is."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from dashboards.context import PRINCIPAL, gateway
from dashboards.routes.auth import menu

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGES = ("login", "desktop", "wall", "tickets", "reports", "templates", "admin", "audit")
LANDING = "wall"
"""Where a role that may watch the wall lands after login, even when it also works conversations."""
NO_CACHE = {"Cache-Control": "no-cache"}


async def home(request: web.Request) -> web.StreamResponse:
    who = request.get(PRINCIPAL)
    pages = menu(who) if who is not None else []
    target = LANDING if LANDING in pages else next((p for p in pages if p in PAGES), "login")
    raise web.HTTPFound(f"/{target}")


def page(name: str) -> web.Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        gateway(request)
        return web.FileResponse(STATIC_DIR / f"{name}.html", headers=NO_CACHE)

    serve.__name__ = f"page_{name}"
    return serve


def add_pages(app: web.Application) -> None:
    app.router.add_get("/", home)
    for name in PAGES:
        app.router.add_get(f"/{name}", page(name))
    app.router.add_get("/tickets/{number}", page("ticket"))
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
