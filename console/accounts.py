"""Staff accounts and their sessions, in one SQLite file (CONSOLE_DB).

Passwords are stored as scrypt hashes (a memory-hard KDF from the standard
library) with a random salt per user, so a stolen file does not give the
passwords away. A session is a random token in an HttpOnly cookie; only its
SHA-256 is stored, so the file does not hold usable sessions either. Sessions
end after CONSOLE_SESSION_HOURS, or CONSOLE_IDLE_MINUTES without use.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpdesk.db import connect, create

__all__ = ["Accounts", "Session", "User", "hash_password", "verify_password"]

# scrypt cost: 16 MiB and ~50 ms per check on this hardware, per OWASP's minimum.
_N, _R, _P = 2**14, 8, 1
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
MIN_PASSWORD = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash`, everything needed to check it later."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


# Checked when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = hash_password("not a password", b"0" * 16)


@dataclass(frozen=True)
class User:
    username: str
    name: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: float


class Accounts:
    """Users and sessions. `clock` is injectable so tests can let sessions expire."""

    def __init__(
        self,
        path: Path | str,
        session_hours: float = 8,
        idle_minutes: float = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.session_s = session_hours * 3600
        self.idle_s = idle_minutes * 60
        self.clock = clock
        create(self.path, _SCHEMA)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def add_user(self, username: str, name: str, password: str) -> User:
        """Creates an account; ValueError for a bad or taken name or a short password."""
        if not USERNAME.match(username):
            raise ValueError(
                "username: 3–32 characters a-z 0-9 . _ -, starting with a letter or digit"
            )
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"password: at least {MIN_PASSWORD} characters")
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO users (username, name, password_hash, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (username, name.strip() or username, hash_password(password), self.clock()),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"user {username!r} exists already") from None
        return User(username, name.strip() or username)

    def set_password(self, username: str, password: str) -> None:
        """New password; the user's sessions end."""
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"password: at least {MIN_PASSWORD} characters")
        with self._connect() as db:
            if not db.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?",
                (hash_password(password), username),
            ).rowcount:
                raise ValueError(f"no user {username!r}")
            db.execute("DELETE FROM sessions WHERE username = ?", (username,))

    def set_disabled(self, username: str, disabled: bool) -> None:
        """A disabled user cannot sign in, and their sessions end."""
        with self._connect() as db:
            if not db.execute(
                "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username)
            ).rowcount:
                raise ValueError(f"no user {username!r}")
            db.execute("DELETE FROM sessions WHERE username = ?", (username,))

    def users(self) -> list[tuple[str, str, bool]]:
        with self._connect() as db:
            rows = db.execute("SELECT username, name, disabled FROM users ORDER BY username")
            return [(u, n, bool(d)) for u, n, d in rows.fetchall()]

    def authenticate(self, username: str, password: str) -> User | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT name, password_hash, disabled FROM users WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            verify_password(password, _DUMMY)
            return None
        name, stored, disabled = row
        if not verify_password(password, stored) or disabled:
            return None
        return User(username, name)

    def start_session(self, user: User) -> tuple[str, Session]:
        """A new session: the cookie's token (shown once) and the session."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        with self._connect() as db:
            db.execute(
                "DELETE FROM sessions WHERE expires_at < ? OR last_seen < ?",
                (now, now - self.idle_s),
            )
            db.execute(
                "INSERT INTO sessions"
                " (token_hash, username, csrf, created_at, last_seen, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_digest(token), user.username, csrf, now, now, now + self.session_s),
            )
        return token, Session(user, csrf, now + self.session_s)

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie's token; touching it keeps it from idling out."""
        if not token:
            return None
        now = self.clock()
        with self._connect() as db:
            row = db.execute(
                "SELECT s.username, u.name, s.csrf, s.last_seen, s.expires_at, u.disabled"
                " FROM sessions s JOIN users u USING (username) WHERE s.token_hash = ?",
                (_digest(token),),
            ).fetchone()
            if row is None:
                return None
            username, name, csrf, last_seen, expires_at, disabled = row
            if disabled or now >= expires_at or now - last_seen >= self.idle_s:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))
                return None
            if now - last_seen > 30:  # one write per half minute is enough
                db.execute(
                    "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, _digest(token))
                )
        return Session(User(username, name), csrf, expires_at)

    def end_session(self, token: str | None) -> None:
        if token:
            with self._connect() as db:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
