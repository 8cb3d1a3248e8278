"""Who may use the console: sign-in, lock-out, session cookies and CSRF.

Kept apart from the resource handlers (handlers.py) so that they never touch a
cookie or a token: the `guard` middleware lets a request through only with a
live session (and, for a POST, that session's CSRF token), and the handlers
learn who is signed in from the request alone, through `staff(request)`.

Everything but /login, /static/* and /health needs a session; the API answers
401 without one, a page redirects to /login. Every POST needs the session's
CSRF token (the X-CSRF-Token header, or a `csrf` form field); the login form,
posted before there is a session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from console.accounts import Accounts, Session

__all__ = ["Auth", "Handler", "staff"]

logger = logging.getLogger(__name__)

# login.html and app.html: templates filled in here, never served as files.
PAGES = Path(__file__).resolve().parent / "static"
COOKIE = "console_session"
LOGIN_COOKIE = "console_login_csrf"
# Failed sign-ins per user name before a pause, and how long the pause lasts.
MAX_FAILURES, LOCKOUT_S = 5, 300
PUBLIC = ("/login", "/static/", "/health")

# The signed-in session, set by the guard middleware for the handlers.
SESSION = web.RequestKey("session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def staff(request: web.Request) -> str:
    """The signed-in staff member's user name: what claims, notes and links are
    recorded under. Only behind the guard, which has checked the session."""
    return request[SESSION].user.username


def _page(name: str, **values: str) -> str:
    """A template with its {{KEY}} slots filled, each value HTML-escaped: a user
    name or a returned user name is text, never markup."""
    text = (PAGES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return text


class Auth:
    """Sign-in pages, sessions and the guard, over one Accounts store.

    Failed sign-ins are counted per user name rather than per address, so
    guesses spread over many addresses still pause the account; in memory,
    as one process serves the console.
    """

    def __init__(self, accounts: Accounts, *, secure_cookie: bool, session_hours: float) -> None:
        self.accounts = accounts
        self.secure_cookie = secure_cookie
        self.session_hours = session_hours
        self._failures: dict[str, list[float]] = {}

    def _cookie(self, response: web.Response, name: str, value: str, max_age: float) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(max_age),
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookie,
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
        self._cookie(response, COOKIE, token, self.session_hours * 3600)
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
        """The app itself. Here rather than with the handlers because it hands the
        page its CSRF token, which the scripts send back with every POST."""
        session = request[SESSION]
        page = _page("app.html", CSRF=session.csrf, USER_NAME=session.user.name)
        return web.Response(text=page, content_type="text/html")

    async def me(self, request: web.Request) -> web.Response:
        """The signed-in user and the session's CSRF token, for a script that needs them."""
        session = request[SESSION]
        return web.json_response(
            {"username": session.user.username, "name": session.user.name, "csrf": session.csrf}
        )

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Sign-in and CSRF for every route but the public ones."""
        if request.match_info.http_exception is not None:
            raise request.match_info.http_exception  # unknown path: 404, not a sign-in redirect
        if not request.path.startswith(PUBLIC):
            session = self.session_of(request)
            if session is None:
                if request.path.startswith("/api/"):
                    return web.json_response({"error": "unauthorized"}, status=401)
                raise web.HTTPSeeOther("/login")
            if request.method == "POST" and request.path != "/login":
                sent = request.headers.get("X-CSRF-Token", "")
                if not sent and request.content_type == "application/x-www-form-urlencoded":
                    sent = str((await request.post()).get("csrf", ""))
                if not secrets.compare_digest(sent, session.csrf):
                    return web.json_response({"error": "csrf"}, status=403)
            request[SESSION] = session
        return await handler(request)
