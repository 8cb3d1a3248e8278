"""State the Zalo channel shares between Rasa processes.

Zalo retries an event it thinks was not delivered, and a refresh token works
exactly once. With more than one Rasa replica behind a load balancer, the
retry can land on another process and two processes can see the token expire
at the same moment, so this state cannot live in one process's memory:

- seen events (msg_id), so a retried event is answered once;
- the access and refresh tokens, and a short lease that lets one process
  refresh while the others wait for its result;
- the payloads of the buttons last shown to each user, so "2" means the same
  thing whichever replica receives it.

`SQLiteStore` (one file, default run/zalo.db) serves one machine; `RedisStore`
serves a cluster. `open_store(url)` picks one from ZALO_STORE_URL.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["RedisStore", "SQLiteStore", "Store", "Tokens", "open_store"]

# How long an event id is remembered; older events are not processed at all.
SEEN_TTL_S = 24 * 3600
# Buttons older than this no longer turn "2" into a payload.
BUTTONS_TTL_S = 24 * 3600


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float | None = None  # epoch seconds; None when Zalo did not say


class Store(Protocol):
    async def claim(self, key: str) -> bool:
        """True the first time `key` is claimed (within SEEN_TTL_S), False after."""

    async def tokens(self) -> Tokens | None: ...

    async def save_tokens(self, tokens: Tokens) -> None: ...

    async def seed_tokens(self, tokens: Tokens) -> None:
        """Stores `tokens` only if none are stored (a restart keeps rotated ones)."""

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        """True when `holder` may refresh the token now; leases expire by themselves."""

    async def release_lease(self, holder: str) -> None: ...

    async def save_buttons(self, user: str, payloads: list[str]) -> None:
        """Remembers the payloads shown to `user`; an empty list forgets them."""

    async def buttons(self, user: str) -> list[str]: ...

    async def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at REAL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS buttons (
    user TEXT PRIMARY KEY,
    payloads TEXT NOT NULL,
    at REAL NOT NULL
);
"""


class SQLiteStore:
    """One SQLite file (WAL), safe for several processes on one machine.

    Each call opens a short connection in a worker thread, so a write that
    waits for another process's lock never blocks the event loop.
    """

    _PRUNE_EVERY = 500

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._claims = 0
        self._claim_db: sqlite3.Connection | None = None
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA busy_timeout=10000")
        # WAL + NORMAL: no fsync per insert (every event claims a row); a crash
        # of the process loses nothing, a power cut at most the last claims.
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _run(self, sql: str, params: tuple) -> tuple[int, list[tuple]]:
        db = self._connect()
        try:
            cursor = db.execute(sql, params)
            return cursor.rowcount, cursor.fetchall()
        finally:
            db.close()

    async def _call(self, sql: str, params: tuple = ()) -> tuple[int, list[tuple]]:
        """(rows changed, rows returned)."""
        return await asyncio.to_thread(self._run, sql, params)

    async def claim(self, key: str) -> bool:
        """Runs on the event loop itself, on one open connection.

        Every webhook call claims, and the acknowledgement must not queue
        behind a thread hop: an insert here takes well under a millisecond.
        """
        now = time.time()
        self._claims += 1
        if self._claim_db is None:
            self._claim_db = self._connect()
        if self._claims % self._PRUNE_EVERY == 0:
            self._claim_db.execute("DELETE FROM seen WHERE at < ?", (now - SEEN_TTL_S,))
        cursor = self._claim_db.execute(
            "INSERT OR IGNORE INTO seen (key, at) VALUES (?, ?)", (key, now)
        )
        return cursor.rowcount == 1

    async def tokens(self) -> Tokens | None:
        _, rows = await self._call(
            "SELECT access_token, refresh_token, expires_at FROM tokens WHERE id = 1"
        )
        return Tokens(*rows[0]) if rows else None

    async def save_tokens(self, tokens: Tokens) -> None:
        await self._call(
            "INSERT INTO tokens (id, access_token, refresh_token, expires_at, updated_at) "
            "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
            "expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            (tokens.access_token, tokens.refresh_token, tokens.expires_at, time.time()),
        )

    async def seed_tokens(self, tokens: Tokens) -> None:
        await self._call(
            "INSERT OR IGNORE INTO tokens (id, access_token, refresh_token, expires_at, "
            "updated_at) VALUES (1, ?, ?, ?, ?)",
            (tokens.access_token, tokens.refresh_token, tokens.expires_at, time.time()),
        )

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        now = time.time()
        changed, _ = await self._call(
            "INSERT INTO lease (id, holder, until) VALUES (1, ?, ?) ON CONFLICT (id) "
            "DO UPDATE SET holder = excluded.holder, until = excluded.until "
            "WHERE lease.until < ?",
            (holder, now + seconds, now),
        )
        return changed == 1

    async def release_lease(self, holder: str) -> None:
        await self._call("UPDATE lease SET until = 0 WHERE holder = ?", (holder,))

    async def save_buttons(self, user: str, payloads: list[str]) -> None:
        if payloads:
            await self._call(
                "INSERT OR REPLACE INTO buttons (user, payloads, at) VALUES (?, ?, ?)",
                (user, json.dumps(payloads, ensure_ascii=False), time.time()),
            )
        else:
            await self._call("DELETE FROM buttons WHERE user = ?", (user,))

    async def buttons(self, user: str) -> list[str]:
        _, rows = await self._call(
            "SELECT payloads FROM buttons WHERE user = ? AND at >= ?",
            (user, time.time() - BUTTONS_TTL_S),
        )
        return json.loads(rows[0][0]) if rows else []

    async def close(self) -> None:
        if self._claim_db is not None:
            self._claim_db.close()
            self._claim_db = None


# Deletes the lease only if this holder still owns it (it may have expired and
# been taken by another process meanwhile).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisStore:
    """The same state in Redis, for Rasa replicas on several machines."""

    def __init__(self, url: str, prefix: str = "zalo:") -> None:
        import redis.asyncio  # the Rasa server's own dependency (its lock store uses it)

        self._redis = redis.asyncio.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def claim(self, key: str) -> bool:
        return bool(await self._redis.set(f"{self._prefix}seen:{key}", 1, nx=True, ex=SEEN_TTL_S))

    async def tokens(self) -> Tokens | None:
        value = await self._redis.get(f"{self._prefix}tokens")
        return Tokens(**json.loads(value)) if value else None

    async def save_tokens(self, tokens: Tokens) -> None:
        await self._redis.set(f"{self._prefix}tokens", json.dumps(asdict(tokens)))

    async def seed_tokens(self, tokens: Tokens) -> None:
        await self._redis.set(f"{self._prefix}tokens", json.dumps(asdict(tokens)), nx=True)

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        key = f"{self._prefix}refresh_lease"
        return bool(await self._redis.set(key, holder, nx=True, px=int(seconds * 1000)))

    async def release_lease(self, holder: str) -> None:
        await self._redis.eval(_RELEASE, 1, f"{self._prefix}refresh_lease", holder)

    async def save_buttons(self, user: str, payloads: list[str]) -> None:
        key = f"{self._prefix}buttons:{user}"
        if payloads:
            await self._redis.set(key, json.dumps(payloads, ensure_ascii=False), ex=BUTTONS_TTL_S)
        else:
            await self._redis.delete(key)

    async def buttons(self, user: str) -> list[str]:
        value = await self._redis.get(f"{self._prefix}buttons:{user}")
        return json.loads(value) if value else []

    async def close(self) -> None:
        await self._redis.close()


def open_store(url: str) -> Store:
    """`redis://…` (or `rediss://…`) → RedisStore; `sqlite:///path` or a path → SQLiteStore."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    return SQLiteStore(url.removeprefix("sqlite:///"))
