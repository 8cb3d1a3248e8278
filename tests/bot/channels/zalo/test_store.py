"""The shared state, on SQLite and on a real Redis, as two processes see it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.channels.zalo import store as store_module
from bot.channels.zalo.store import Store, Tokens
from tests.bot.channels.zalo.conftest import run


def test_an_event_is_claimed_once_across_processes(store_factory: Callable[[], Store]) -> None:
    async def scenario() -> list[bool]:
        first, second = store_factory(), store_factory()
        claims = await asyncio.gather(
            *(s.claim("msg-1") for s in (first, second) for _ in range(10))
        )
        assert await first.claim("msg-2")
        await first.close()
        await second.close()
        return claims

    assert sorted(run(scenario())) == [False] * 19 + [True]


def test_tokens_are_seeded_once_and_rotated(store_factory: Callable[[], Store]) -> None:
    async def scenario() -> None:
        first, second = store_factory(), store_factory()
        assert await first.tokens() is None
        await first.seed_tokens(Tokens("a0", "r0"))
        await second.seed_tokens(Tokens("stale", "stale"))  # a restart with old settings
        assert await second.tokens() == Tokens("a0", "r0")
        await second.save_tokens(Tokens("a1", "r1", 1.5e9))
        assert await first.tokens() == Tokens("a1", "r1", 1.5e9)
        await first.close()
        await second.close()

    run(scenario())


def test_the_refresh_lease_has_one_holder_and_expires(store_factory: Callable[[], Store]) -> None:
    async def scenario() -> None:
        first, second = store_factory(), store_factory()
        assert await first.acquire_lease("p1", 5)
        assert not await second.acquire_lease("p2", 5)
        await second.release_lease("p2")  # not the holder: no effect
        assert not await second.acquire_lease("p2", 5)
        await first.release_lease("p1")
        assert await second.acquire_lease("p2", 0.2)
        await asyncio.sleep(0.4)
        assert await first.acquire_lease("p1", 5)  # p2 never released: its lease ran out
        await first.close()
        await second.close()

    run(scenario())


def test_buttons_are_kept_per_user_and_forgotten(
    store_factory: Callable[[], Store], monkeypatch
) -> None:
    async def scenario() -> None:
        first, second = store_factory(), store_factory()
        await first.save_buttons("u1", ["/a", '/b{"x": "é"}'])
        assert await second.buttons("u1") == ["/a", '/b{"x": "é"}']
        assert await second.buttons("u2") == []
        await second.save_buttons("u1", [])
        assert await first.buttons("u1") == []
        await first.close()
        await second.close()

    run(scenario())


def test_sqlite_forgets_old_buttons(tmp_path, monkeypatch) -> None:
    async def scenario() -> list[str]:
        store = store_module.SQLiteStore(tmp_path / "z.db")
        await store.save_buttons("u1", ["/a"])
        monkeypatch.setattr(time, "time", lambda: real() + store_module.BUTTONS_TTL_S + 1)
        return await store.buttons("u1")

    real = time.time
    assert run(scenario()) == []


def test_open_store_picks_by_url(tmp_path) -> None:
    assert isinstance(
        store_module.open_store(f"sqlite:///{tmp_path}/a.db"), store_module.SQLiteStore
    )
    assert isinstance(store_module.open_store(str(tmp_path / "b.db")), store_module.SQLiteStore)
    assert isinstance(store_module.open_store("redis://127.0.0.1:1/0"), store_module.RedisStore)
