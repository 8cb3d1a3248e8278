"""Fixtures for the Zalo channel's parts: the stores (SQLite, and a real
redis-server when Debian's package is installed) and the fake Zalo API on a
loopback port inside the test's event loop."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp import web

from bot.channels.zalo.store import RedisStore, SQLiteStore, Store
from tools.fake_zalo import FakeZalo, make_app
from tools.harness import free_port

T = TypeVar("T")
APP_ID, APP_SECRET = "test-app", "test-app-secret"


def run(coroutine: Awaitable[T]) -> T:
    """Runs one test's coroutine to the end (the suite has no asyncio plugin)."""
    return asyncio.run(coroutine)  # type: ignore[arg-type]


@asynccontextmanager
async def fake_zalo(**faults: int) -> AsyncIterator[tuple[FakeZalo, str]]:
    """The fake OA API on a free port; yields its state and base URL."""
    fake = FakeZalo(APP_ID, APP_SECRET, "access-0", "refresh-0", faults=dict(faults))
    runner = web.AppRunner(make_app(fake))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on loopback (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """Makes stores that share one state, as two Rasa processes would."""
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / "zalo.db")
    url = request.getfixturevalue("redis_url")
    prefix = f"test-{tmp_path.name}:"
    return lambda: RedisStore(url, prefix=prefix)
