"""The hotline console's HTTP server: its settings, routes and static files.

Staff look procedures up while a citizen is on the phone, check an
application's status, and pick up the conversations the bot handed over.
make_app wires two halves that do not know each other's insides: sign-in,
sessions and CSRF (auth.py, whose guard runs before every handler) and the
JSON resources (handlers.py), which use the bot's own parts and import
nothing of the action server.

Pages: GET /login, POST /login, POST /logout, GET / (the app). Everything
but /login, /static/* and /health needs a session; the API answers 401
without one. Every POST needs the session's CSRF token (the X-CSRF-Token
header, or a `csrf` form field); the login form uses a double-submit
cookie. API (JSON):

    GET  /api/me                         user and CSRF token
    GET  /api/facets                     ministries, fields, levels
    GET  /api/search?q=&ministry=&field=&level=&k=10
    GET  /api/procedures/{code}          record, the bot's answers, feedback
    GET  /api/status/{application_code}  the portal's answer, as the bot words it
    GET  /api/tickets?status=open|resolved|all
    GET  /api/tickets/{id}               ticket and transcript
    POST /api/tickets/{id}/claim | /notes {"text"} | /resolve
    GET  /api/feedback                   votes and complaints per procedure
    GET  /api/learn                      questions to link (misses, 👎) and the links made
    POST /api/learn/links {"question", "procedure_code", "origin"}   teach the bank
    POST /api/learn/links/{id}/undo      take a link back out
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from console.accounts import Accounts
from console.auth import Auth, Handler
from console.handlers import Handlers
from helpdesk import search as catalogue_search

__all__ = ["Settings", "make_app"]

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True)
class Settings:
    """Where the accounts live and how long a session lasts (CONSOLE_DB, _SECURE_COOKIE,
    _SESSION_HOURS, _IDLE_MINUTES); the desk, the catalogue and the portal are
    configured as for the bot."""

    db: Path
    secure_cookie: bool = False  # set behind HTTPS
    session_hours: float = 8
    idle_minutes: float = 30

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            db=Path(os.environ.get("CONSOLE_DB") or "run/console.db"),
            secure_cookie=os.environ.get("CONSOLE_SECURE_COOKIE", "") in {"1", "true", "yes"},
            session_hours=float(os.environ.get("CONSOLE_SESSION_HOURS") or 8),
            idle_minutes=float(os.environ.get("CONSOLE_IDLE_MINUTES") or 30),
        )


@web.middleware
async def secure_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on whatever a handler answers; pages and API replies are
    never cached, static files may be. Inside the guard, so only requests it let
    through get here."""
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def make_app(settings: Settings, accounts: Accounts | None = None) -> web.Application:
    """The console's app; `accounts` lets tests bring a store with their own clock."""
    auth = Auth(
        accounts or Accounts(settings.db, settings.session_hours, settings.idle_minutes),
        secure_cookie=settings.secure_cookie,
        session_hours=settings.session_hours,
    )
    handlers = Handlers()

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def asset(request: web.Request) -> web.StreamResponse:
        """Scripts (the page's ES modules), styles and images, only as plain file
        names directly in static/; the HTML templates only through their routes."""
        path = STATIC / request.match_info["name"]
        if path.suffix not in ASSET_TYPES or not path.is_file() or path.parent != STATIC:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": ASSET_TYPES[path.suffix]})

    async def preload(_: web.Application) -> None:
        """Loads the search index in the background: the first search then needs no
        wait, and the sign-in page is served while it loads."""
        threading.Thread(
            target=catalogue_search.warm_up, name="search-warm-up", daemon=True
        ).start()

    async def close_portal(_: web.Application) -> None:
        if handlers.portal is not None:
            await handlers.portal.close()

    # The guard first: a request it turns away gets no further.
    app = web.Application(middlewares=[auth.guard, secure_headers], client_max_size=64 * 1024)
    app.router.add_get("/health", health)
    app.router.add_get("/login", auth.login_form)
    app.router.add_post("/login", auth.login)
    app.router.add_post("/logout", auth.logout)
    app.router.add_get("/", auth.app_page)
    app.router.add_get("/api/me", auth.me)
    app.router.add_get("/api/facets", handlers.facets)
    app.router.add_get("/api/search", handlers.search)
    app.router.add_get("/api/procedures/{code}", handlers.procedure)
    app.router.add_get("/api/status/{application_code}", handlers.status)
    app.router.add_get("/api/tickets", handlers.tickets)
    app.router.add_get("/api/tickets/{id}", handlers.ticket)
    app.router.add_post("/api/tickets/{id}/claim", handlers.claim)
    app.router.add_post("/api/tickets/{id}/notes", handlers.note)
    app.router.add_post("/api/tickets/{id}/resolve", handlers.resolve)
    app.router.add_get("/api/feedback", handlers.feedback)
    app.router.add_get("/api/learn", handlers.learn)
    app.router.add_post("/api/learn/links", handlers.link)
    app.router.add_post("/api/learn/links/{id}/undo", handlers.undo_link)
    app.router.add_get("/static/{name}", asset)
    app.on_startup.append(preload)
    app.on_cleanup.append(close_portal)
    return app
