"""The hotline console's HTTP server: sign-in, pages and the JSON API.

Staff look procedures up while a citizen is on the phone, check an
application's status, and pick up the conversations the bot handed over. It
uses the bot's own parts: the same search index (actions.catalogue_search),
answer texts (actions.answers), portal client and status texts
(actions.status) and help-desk database (actions.desk), so what staff read
out is what the bot would have said.

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

import asyncio
import html
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from actions import answers, catalogue_search
from actions.desk import Desk, TicketConflictError
from actions.status import LABELS, UNFINISHED, error_message, normalize_code, status_message
from console.accounts import Accounts, Session
from console.highlight import match
from portal.client import NotFound, PortalClient, PortalError, mask_code

__all__ = ["Settings", "make_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "console_session"
LOGIN_COOKIE = "console_login_csrf"
MAX_NOTE = 2000
# Failed sign-ins per user name before a pause, and how long the pause lasts.
MAX_FAILURES, LOCKOUT_S = 5, 300
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PUBLIC = ("/login", "/static/", "/health")
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

# The signed-in session, set by the guard middleware for the handlers.
SESSION = web.RequestKey("session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Settings:
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


def _page(name: str, **values: str) -> str:
    text = (STATIC / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return text


def _error(status: int, error: str, **extra: object) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


class Console:
    """The handlers, over one Accounts store, one Desk and one portal client."""

    def __init__(self, settings: Settings, accounts: Accounts | None = None) -> None:
        self.settings = settings
        self.accounts = accounts or Accounts(
            settings.db, settings.session_hours, settings.idle_minutes
        )
        self.desk = Desk()
        self.portal: PortalClient | None = None
        self._failures: dict[str, list[float]] = {}

    # --- sign-in -----------------------------------------------------------

    def _cookie(self, response: web.Response, name: str, value: str, max_age: float) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(max_age),
            httponly=True,
            samesite="Strict",
            secure=self.settings.secure_cookie,
            path="/",
        )

    def _login_page(
        self, request: web.Request, error: str = "", username: str = "", status: int = 200
    ) -> web.Response:
        """The sign-in form with a double-submit token.

        An existing token is reused, so a second tab or a stray request for the
        form does not invalidate a form that is already open.
        """
        current = request.cookies.get(LOGIN_COOKIE, "")
        token = (
            current if re.fullmatch(r"[A-Za-z0-9_-]{32}", current) else secrets.token_urlsafe(24)
        )
        page = _page("login.html", CSRF=token, ERROR=error, USERNAME=username)
        response = web.Response(text=page, content_type="text/html", status=status)
        self._cookie(response, LOGIN_COOKIE, token, 3600)
        return response

    async def login_form(self, request: web.Request) -> web.Response:
        if self.session_of(request):
            raise web.HTTPSeeOther("/")
        return self._login_page(request)

    def _locked(self, username: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self._failures.get(username, []) if now - t < LOCKOUT_S]
        self._failures[username] = recent
        return len(recent) >= MAX_FAILURES

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        username = str(form.get("username", "")).strip().lower()[:64]
        password = str(form.get("password", ""))[:1024]
        sent, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(sent, expected):
            return self._login_page(
                request, "Phiên đăng nhập đã hết hạn, vui lòng thử lại.", username, 403
            )
        if self._locked(username):
            return self._login_page(
                request, "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 5 phút.", username, 429
            )
        user = await asyncio.to_thread(self.accounts.authenticate, username, password)
        if user is None:
            self._failures.setdefault(username, []).append(time.monotonic())
            logger.info("console: failed sign-in")
            return self._login_page(
                request, "Tên đăng nhập hoặc mật khẩu không đúng.", username, 401
            )
        self._failures.pop(username, None)
        token, _ = self.accounts.start_session(user)
        response = web.HTTPSeeOther("/")
        self._cookie(response, COOKIE, token, self.settings.session_hours * 3600)
        response.del_cookie(LOGIN_COOKIE, path="/")
        logger.info("console: %s signed in", user.username)
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        self.accounts.end_session(request.cookies.get(COOKIE))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    def session_of(self, request: web.Request) -> Session | None:
        return self.accounts.session(request.cookies.get(COOKIE))

    async def app_page(self, request: web.Request) -> web.Response:
        session: Session = request[SESSION]
        page = _page("app.html", CSRF=session.csrf, USER_NAME=session.user.name)
        return web.Response(text=page, content_type="text/html")

    async def me(self, request: web.Request) -> web.Response:
        session: Session = request[SESSION]
        return web.json_response(
            {"username": session.user.username, "name": session.user.name, "csrf": session.csrf}
        )

    # --- search and procedures --------------------------------------------

    async def facets(self, _: web.Request) -> web.Response:
        searcher = await asyncio.to_thread(catalogue_search.searcher)
        procedures = searcher.procedures
        return web.json_response(
            {
                "ministries": sorted({p.ministry for p in procedures if p.ministry}),
                "fields": sorted({p.field for p in procedures if p.field}),
                "levels": sorted({level for p in procedures for level in p.levels}),
            }
        )

    async def search(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()[:300]
        filters = {
            key: request.query.get(key, "").strip() for key in ("ministry", "field", "level")
        }
        try:
            k = max(1, min(int(request.query.get("k", 10)), 50))
        except ValueError:
            k = 10
        if not query:
            return web.json_response({"query": "", "took_ms": 0.0, "results": []})
        started = time.perf_counter()
        try:
            searcher = await asyncio.to_thread(catalogue_search.searcher)
        except catalogue_search.SearchUnavailableError as error:
            return _error(503, "search_unavailable", message=str(error))
        # With filters, rank a wider pool and keep the matching ones.
        pool = k if not any(filters.values()) else max(200, k)
        result = await asyncio.to_thread(searcher.search, query, pool)
        hits = [
            h
            for h in result.hits
            if (not filters["ministry"] or h.procedure.ministry == filters["ministry"])
            and (not filters["field"] or h.procedure.field == filters["field"])
            and (not filters["level"] or filters["level"] in h.procedure.levels)
        ][:k]
        results = [
            {
                "code": h.procedure.code,
                "name": h.procedure.name,
                "ministry": h.procedure.ministry,
                "field": h.procedure.field,
                "levels": list(h.procedure.levels),
                "score": round(h.score, 3),
                "match": match(h.procedure, query, result.expanded),
            }
            for h in hits
        ]
        took = round((time.perf_counter() - started) * 1000, 1)
        need = result.elsewhere
        elsewhere = (
            {"ministry": need.ministry, "field": need.field, "foreign": need.foreign}
            if need
            else None
        )
        return web.json_response(
            {"query": query, "took_ms": took, "results": results, "elsewhere": elsewhere}
        )

    async def procedure(self, request: web.Request) -> web.Response:
        searcher = await asyncio.to_thread(catalogue_search.searcher)
        procedure = searcher.by_code.get(request.match_info["code"])
        if procedure is None:
            return _error(404, "not_found")
        texts = {
            aspect: "\n\n".join(answers.answer(procedure, aspect))
            for aspect in answers.ASPECTS
            if aspect != "overview"
        }
        # The copied answer is the bot's overview less its pointer to the buttons.
        overview = "\n\n".join(answers.split(answers.overview(procedure, buttons=False), procedure))
        code = procedure.code
        return web.json_response(
            {
                "procedure": procedure.record,
                "answer": overview,
                "answers": texts,
                "feedback": {**self.desk.votes(code), "complaints": self.desk.complaints(code)},
            }
        )

    # --- application status -------------------------------------------------

    async def status(self, request: web.Request) -> web.Response:
        raw = request.match_info["application_code"]
        code = normalize_code(raw)
        if code is None:
            return _error(
                400, "invalid_code", message="Mã hồ sơ không hợp lệ (ví dụ H12.36-241125-0019)."
            )
        try:
            if self.portal is None:
                self.portal = PortalClient.from_env()
            application = await self.portal.get_application(code)
        except NotFound as error:
            return web.json_response({"found": False, "message": error_message(error, code)})
        except PortalError as error:
            logger.info("console status %s: %s", mask_code(code), type(error).__name__)
            return _error(503, "unavailable", message=error_message(error, code))
        overdue = None
        now = time.time()
        if application.status in UNFINISHED and application.due_at.timestamp() < now:
            overdue = int((now - application.due_at.timestamp()) // 86400)
        return web.json_response(
            {
                "found": True,
                "message": status_message(application),
                "application": {
                    "application_code": application.application_code,
                    "procedure_code": application.procedure_code,
                    "procedure_name": application.procedure_name,
                    "agency": application.agency,
                    "status": application.status,
                    "status_label": LABELS.get(application.status, application.status),
                    "received_at": application.received_at.isoformat(),
                    "due_at": application.due_at.isoformat(),
                    "updated_at": application.updated_at.isoformat(),
                    "note": application.note,
                    "overdue_days": overdue,
                },
            }
        )

    # --- handoff queue and feedback ------------------------------------------

    def _name_of(self, code: str | None) -> str | None:
        if not code:
            return None
        try:
            procedure = catalogue_search.searcher().by_code.get(code)
        except catalogue_search.SearchUnavailableError:
            return None
        return procedure.name if procedure else None

    def _ticket_json(self, row: dict) -> dict:
        return {**row, "procedure_name": self._name_of(row.get("procedure_code"))}

    async def tickets(self, request: web.Request) -> web.Response:
        status = request.query.get("status", "open")
        if status not in {"open", "resolved", "all"}:
            return _error(400, "bad_status")
        rows = await asyncio.to_thread(self.desk.tickets, status)
        return web.json_response({"tickets": [self._ticket_json(row) for row in rows]})

    def _ticket_or_404(self, request: web.Request) -> dict:
        try:
            ticket_id = int(request.match_info["id"])
        except ValueError:
            raise web.HTTPNotFound(
                text='{"error": "not_found"}', content_type="application/json"
            ) from None
        rows = self.desk.tickets(ticket_id=ticket_id)
        if not rows:
            raise web.HTTPNotFound(text='{"error": "not_found"}', content_type="application/json")
        return self._ticket_json(rows[0])

    async def ticket(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        return web.json_response({"ticket": ticket, "messages": self.desk.entries(ticket["id"])})

    async def claim(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        user = request[SESSION].user.username
        try:
            self.desk.claim(ticket["id"], user)
        except TicketConflictError as conflict:
            held = conflict.args[0]
            if held.status == "resolved":
                return _error(409, "resolved")
            return _error(409, "claimed", claimed_by=held.claimed_by)
        return web.json_response({"ticket": self._ticket_or_404(request)})

    async def note(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        try:
            text = str((await request.json()).get("text", "")).strip()
        except (ValueError, AttributeError):
            return _error(400, "bad_json")
        if not text or len(text) > MAX_NOTE:
            return _error(400, "bad_note", message=f"Ghi chú từ 1 đến {MAX_NOTE} ký tự.")
        self.desk.add_message(ticket["id"], f"note:{request[SESSION].user.username}", text)
        return web.json_response({"ok": True}, status=201)

    async def resolve(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        user = request[SESSION].user.username
        self.desk.resolve(ticket["id"], user)
        logger.info("console: ticket %d resolved by %s", ticket["id"], user)
        return web.json_response({"ticket": self._ticket_or_404(request)})

    async def feedback(self, _: web.Request) -> web.Response:
        rows = await asyncio.to_thread(self.desk.feedback_summary)
        return web.json_response(
            {"procedures": [{**row, "name": self._name_of(row["code"])} for row in rows]}
        )

    # --- teaching the question bank -------------------------------------------

    async def learn(self, _: web.Request) -> web.Response:
        to_learn = await asyncio.to_thread(self.desk.to_learn)
        links = await asyncio.to_thread(self.desk.links)
        for row in (*to_learn, *links):
            row["procedure_name"] = self._name_of(row.get("procedure_code"))
        return web.json_response({"to_learn": to_learn, "links": links})

    async def link(self, request: web.Request) -> web.Response:
        """Links a question the bot got wrong to its procedure: the bank has it at once
        (every searcher polls the desk), and the next citizen who asks alike is answered."""
        try:
            body = await request.json()
            question = str(body.get("question", "")).strip()
            code = str(body.get("procedure_code", "")).strip()
            origin = str(body.get("origin", "console")).strip()[:40]
        except (ValueError, AttributeError):
            return _error(400, "bad_json")
        if not question or len(question) > MAX_NOTE:
            return _error(400, "bad_question", message=f"Câu hỏi từ 1 đến {MAX_NOTE} ký tự.")
        if not re.fullmatch(r"(?:miss|vote|ticket):\d{1,12}|console", origin):
            return _error(400, "bad_origin")
        try:
            searcher = await asyncio.to_thread(catalogue_search.searcher)
        except catalogue_search.SearchUnavailableError as error:
            return _error(503, "search_unavailable", message=str(error))
        if code not in searcher.by_code:
            return _error(400, "unknown_procedure", message="Không có thủ tục mã này.")
        user = request[SESSION].user.username
        link = await asyncio.to_thread(self.desk.link_question, question, code, user, origin)
        logger.info("console: %s linked a question to %s (link %d)", user, code, link)
        return web.json_response({"id": link}, status=201)

    async def undo_link(self, request: web.Request) -> web.Response:
        try:
            link = int(request.match_info["id"])
        except ValueError:
            return _error(404, "not_found")
        user = request[SESSION].user.username
        if not await asyncio.to_thread(self.desk.undo_link, link, user):
            return _error(404, "not_found")
        logger.info("console: %s undid link %d", user, link)
        return web.json_response({"ok": True})

    # --- middleware -----------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Sessions, CSRF and security headers for every route."""
        if request.match_info.http_exception is not None:
            raise request.match_info.http_exception  # unknown path: 404, not a sign-in redirect
        if not request.path.startswith(PUBLIC):
            session = self.session_of(request)
            if session is None:
                if request.path.startswith("/api/"):
                    return _error(401, "unauthorized")
                raise web.HTTPSeeOther("/login")
            if request.method == "POST" and request.path != "/login":
                sent = request.headers.get("X-CSRF-Token", "")
                if not sent and request.content_type == "application/x-www-form-urlencoded":
                    sent = str((await request.post()).get("csrf", ""))
                if not secrets.compare_digest(sent, session.csrf):
                    return _error(403, "csrf")
            request[SESSION] = session
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def make_app(settings: Settings, accounts: Accounts | None = None) -> web.Application:
    console = Console(settings, accounts)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def asset(request: web.Request) -> web.StreamResponse:
        """Scripts, styles and images; the HTML templates only through their routes."""
        path = STATIC / request.match_info["name"]
        if path.suffix not in ASSET_TYPES or not path.is_file() or path.parent != STATIC:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": ASSET_TYPES[path.suffix]})

    async def preload(_: web.Application) -> None:
        """Loads the search index in the background: the first search then needs no wait."""
        catalogue_search.preload()

    async def close_portal(_: web.Application) -> None:
        if console.portal is not None:
            await console.portal.close()

    app = web.Application(middlewares=[console.guard], client_max_size=64 * 1024)
    app.router.add_get("/health", health)
    app.router.add_get("/login", console.login_form)
    app.router.add_post("/login", console.login)
    app.router.add_post("/logout", console.logout)
    app.router.add_get("/", console.app_page)
    app.router.add_get("/api/me", console.me)
    app.router.add_get("/api/facets", console.facets)
    app.router.add_get("/api/search", console.search)
    app.router.add_get("/api/procedures/{code}", console.procedure)
    app.router.add_get("/api/status/{application_code}", console.status)
    app.router.add_get("/api/tickets", console.tickets)
    app.router.add_get("/api/tickets/{id}", console.ticket)
    app.router.add_post("/api/tickets/{id}/claim", console.claim)
    app.router.add_post("/api/tickets/{id}/notes", console.note)
    app.router.add_post("/api/tickets/{id}/resolve", console.resolve)
    app.router.add_get("/api/feedback", console.feedback)
    app.router.add_get("/api/learn", console.learn)
    app.router.add_post("/api/learn/links", console.link)
    app.router.add_post("/api/learn/links/{id}/undo", console.undo_link)
    app.router.add_get("/static/{name}", asset)
    app.on_startup.append(preload)
    app.on_cleanup.append(close_portal)
    return app
