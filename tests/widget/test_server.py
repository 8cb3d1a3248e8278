"""The widget's page server (`python -m widget`): what it serves, the headers
that keep the page off the internet, and its start-up errors. The browser
side is tested in tests/e2e/test_widget.py."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from aiohttp.test_utils import TestClient, TestServer

import widget.server
from tests.conftest import ROOT
from tests.portal.conftest import synchronously
from widget.server import STATIC, WidgetConfigError, make_app

RASA = "http://localhost:5005"


async def fetch(app_url: str, path: str) -> tuple[int, dict[str, str], str]:
    async with TestClient(TestServer(make_app(app_url))) as client:
        response = await client.get(path)
        return response.status, dict(response.headers), await response.text()


@synchronously
async def test_page_carries_the_rasa_url_and_a_strict_policy() -> None:
    status, headers, page = await fetch(RASA + "/", "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'data-rasa-url="{RASA}"' in page  # trailing slash dropped
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert f"connect-src 'self' {RASA} ws://localhost:5005;" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


@synchronously
async def test_assets_health_and_nothing_else() -> None:
    for path, kind in [
        ("/static/chat.js", "text/javascript"),
        ("/static/chat.css", "text/css"),
        ("/static/portal.css", "text/css"),
        ("/static/logo.svg", "image/svg+xml"),
        ("/vendor/socket.io.min.js", "text/javascript"),
    ]:
        status, headers, body = await fetch(RASA, path)
        assert status == 200 and headers["Content-Type"].startswith(kind), path
        assert "Content-Security-Policy" in headers and body, path
    assert (await fetch(RASA, "/health"))[0] == 200
    assert (await fetch(RASA, "/static/../widget/server.py"))[0] == 404
    assert (await fetch(RASA, "/node_modules/socket.io-client/package.json"))[0] == 404


@synchronously
async def test_https_rasa_gets_a_wss_socket_and_markup_in_the_url_is_escaped() -> None:
    _, headers, page = await fetch('https://bot.example.vn/"><script>', "/")
    assert "wss://bot.example.vn" in headers["Content-Security-Policy"]
    assert "<script>" not in page.split('data-rasa-url="', 1)[1].split('"', 1)[0]


def test_bad_rasa_url_and_missing_npm_install_are_told(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(WidgetConfigError, match="http"):
        make_app("localhost:5005")
    monkeypatch.setattr(widget.server, "SOCKET_IO", ROOT / "node_modules" / "missing.js")
    with pytest.raises(WidgetConfigError, match="npm ci"):
        make_app(RASA)
    done = subprocess.run(
        [sys.executable, "-m", "widget", "--rasa-url", "ftp://x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--rasa-url must be an http(s) URL" in done.stderr


def test_static_files_load_nothing_remote_and_never_parse_text_as_html() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        hosts = set(re.findall(r"https?://([\w.-]+)", text)) - {"www.w3.org"}  # SVG namespace
        assert hosts <= {"localhost"}, (path.name, hosts)
    script = (STATIC / "chat.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script)
