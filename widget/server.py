"""HTTP server of the demo portal page: the page, the widget's files, the
socket.io client from node_modules, and /health.

Everything the page needs comes from this server or from the Rasa server, and
the Content-Security-Policy says so: a browser refuses any other script, style,
image or connection, so neither a stray CDN link nor injected markup can reach
the internet or run code.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "static"
# The browser build of socket.io-client, installed by `npm ci` (package.json).
SOCKET_IO = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
FILES = {
    "/static/chat.js": (STATIC / "chat.js", "text/javascript"),
    "/static/chat.css": (STATIC / "chat.css", "text/css"),
    "/static/portal.css": (STATIC / "portal.css", "text/css"),
    "/static/logo.svg": (STATIC / "logo.svg", "image/svg+xml"),
    "/vendor/socket.io.min.js": (SOCKET_IO, "text/javascript"),
    # Browsers ask for it on pages that name no icon (/health): no 404 in their logs.
    "/favicon.ico": (STATIC / "logo.svg", "image/svg+xml"),
}


class WidgetConfigError(Exception):
    """The server cannot serve a working page (bad Rasa URL, npm not run)."""


def content_security_policy(rasa_url: str) -> str:
    """Same-origin everything, plus the Rasa server for the socket (http for
    socket.io's polling fallback, ws for the websocket)."""
    parts = urlsplit(rasa_url)
    ws = "wss" if parts.scheme == "https" else "ws"
    origin = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' {origin} {ws}://{parts.netloc}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        ]
    )


def make_app(rasa_url: str) -> web.Application:
    """The app for a Rasa server at `rasa_url` (as the visitor's browser
    reaches it); raises WidgetConfigError when it could not work."""
    parts = urlsplit(rasa_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise WidgetConfigError(f"--rasa-url must be an http(s) URL, not {rasa_url!r}")
    if not SOCKET_IO.is_file():
        raise WidgetConfigError(
            f"{SOCKET_IO.relative_to(ROOT)} is missing: run `make install` "
            "(or `npm ci` in the project root) first"
        )
    rasa_url = rasa_url.rstrip("/")
    # The page is rendered once: the Rasa URL goes into a data attribute the
    # widget reads, so no inline script is needed and the CSP can forbid them.
    page = (
        (STATIC / "index.html")
        .read_text(encoding="utf-8")
        .replace("{{RASA_URL}}", html.escape(rasa_url, quote=True))
    )
    headers = {
        "Content-Security-Policy": content_security_policy(rasa_url),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # A demo that is edited while it runs: always revalidate.
        "Cache-Control": "no-cache",
    }

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", headers=headers)

    async def asset(request: web.Request) -> web.Response:
        path, content_type = FILES[request.path]
        return web.Response(
            body=path.read_bytes(), content_type=content_type, charset="utf-8", headers=headers
        )

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    for route in FILES:
        app.router.add_get(route, asset)
    return app
