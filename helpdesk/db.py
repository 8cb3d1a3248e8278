"""The SQLite helper every help-desk store uses (the desk, the console's accounts).

Each call opens its own short connection, so concurrent requests never share a
cursor; WAL mode lets several processes (action server, console) read while one
writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def create(path: Path, schema: str) -> None:
    """Makes the file and its tables; WAL lets several processes (action
    server, console) read while one writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """One short-lived connection: commits, or rolls back on error, then closes."""
    db = sqlite3.connect(path, timeout=10)
    try:
        with db:
            yield db
    finally:
        db.close()
