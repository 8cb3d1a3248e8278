"""The help desk's records: handoff tickets, feedback votes, complaints, and what
staff teach the question bank.

SQLite by default (DESK_DB, default run/desk.db): one file that the action
server writes and the hotline console reads, durable across restarts. Each
call opens its own short connection, so concurrent action-server requests
and the console never share a cursor; WAL mode lets readers and the writer
work side by side.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.language.text import mask_personal, normalize
from helpdesk.db import connect, create
from index.bank import BankQuestion

DEFAULT_DB = Path(__file__).resolve().parent.parent / "run" / "desk.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    procedure_code TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    claimed_by TEXT,
    opened_at REAL NOT NULL,
    closed_at REAL,
    closed_by TEXT
);
CREATE INDEX IF NOT EXISTS tickets_sender ON tickets (sender, status);
CREATE TABLE IF NOT EXISTS ticket_messages (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    at REAL NOT NULL
);
-- Questions the bot could not answer (not found, "không phải" to its options, a need
-- served elsewhere), masked: staff link them to the right procedure in the console.
CREATE TABLE IF NOT EXISTS misses (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    question TEXT NOT NULL,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    link_id INTEGER
);
-- The question bank's learned pairs (index.bank): a staff link, or a pair citizens'
-- 👍 votes support. An undo keeps the row, so who did what stays on record.
CREATE TABLE IF NOT EXISTS bank_links (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('staff', 'vote')),
    origin TEXT,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    votes INTEGER NOT NULL DEFAULT 0,
    undone_by TEXT,
    undone_at REAL
);
CREATE INDEX IF NOT EXISTS bank_links_pair ON bank_links (procedure_code, question);
-- Bumped on every change of bank_links: searchers poll it (one row, one read).
CREATE TABLE IF NOT EXISTS bank_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT OR IGNORE INTO bank_version (id, version) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS complaints (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    procedure_code TEXT,
    consent INTEGER,
    at REAL NOT NULL
);
"""
# A transcript line longer than this is cut: a ticket is for reading.
MAX_TEXT = 4000
# A question kept for learning is cut here: the bank matches questions, not essays.
MAX_QUESTION = 500
# Columns added after a desk file was first made: (table, column, declaration).
_ADDED_COLUMNS = (("feedback", "question", "TEXT"),)
# A pair only citizens' votes support counts this much in the bank, a quarter more
# per further vote, and fully (like a staff link) from the third vote on.
VOTE_WEIGHT, VOTE_STEP = 0.5, 0.25


def _kept(question: str) -> str:
    """A question as the desk keeps it: personal data masked, cut to MAX_QUESTION."""
    return mask_personal(normalize(question))[:MAX_QUESTION]


def _weight(source: str, votes: int) -> float:
    if source == "staff":
        return 1.0
    return min(1.0, VOTE_WEIGHT + VOTE_STEP * max(0, votes - 1))


def _bump(db: sqlite3.Connection) -> None:
    db.execute("UPDATE bank_version SET version = version + 1 WHERE id = 1")


@dataclass(frozen=True)
class Ticket:
    id: int
    sender: str
    procedure_code: str | None
    reason: str
    status: str
    opened_at: float
    claimed_by: str | None = None
    closed_at: float | None = None
    closed_by: str | None = None


_TICKET_COLUMNS = (
    "id, sender, procedure_code, reason, status, opened_at, claimed_by, closed_at, closed_by"
)


class TicketConflictError(Exception):
    """Another staff member holds the ticket, or it is closed already."""


def desk_path() -> Path:
    """The database file, from DESK_DB (read on each use, so tests can point it)."""
    return Path(os.environ.get("DESK_DB", "").strip() or DEFAULT_DB)


class Desk:
    """Tickets, votes, complaints and the bank's learned pairs in one SQLite file.

    It is also the question bank's `LearnedSource` (index.bank): `bank_version` and
    `bank_entries` let every searcher take in what staff teach without a restart.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or desk_path()
        create(self.path, _SCHEMA)
        with self._connect() as db:
            for table, column, declaration in _ADDED_COLUMNS:
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def open_ticket(
        self,
        sender: str,
        reason: str,
        transcript: list[tuple[str, str]],
        procedure_code: str | None = None,
    ) -> int:
        """Opens a ticket with the conversation so far; one open ticket per sender."""
        existing = self.open_ticket_for(sender)
        if existing:
            return existing.id
        now = time.time()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO tickets (sender, procedure_code, reason, opened_at)"
                " VALUES (?, ?, ?, ?)",
                (sender, procedure_code, reason, now),
            )
            ticket_id = int(cursor.lastrowid)
            db.executemany(
                "INSERT INTO ticket_messages (ticket_id, author, text, at) VALUES (?, ?, ?, ?)",
                [(ticket_id, author, text[:MAX_TEXT], now) for author, text in transcript],
            )
        return ticket_id

    def open_ticket_for(self, sender: str) -> Ticket | None:
        return self._one_ticket(
            "sender = ? AND status != 'resolved' ORDER BY id DESC LIMIT 1", sender
        )

    def ticket(self, ticket_id: int) -> Ticket | None:
        return self._one_ticket("id = ?", ticket_id)

    def _one_ticket(self, where: str, value: object) -> Ticket | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {where}", (value,)
            ).fetchone()
        return Ticket(*row) if row else None

    def tickets(
        self, status: str = "open", limit: int = 200, ticket_id: int | None = None
    ) -> list[dict]:
        """The queue for staff, newest first: each ticket with its latest line and size."""
        where = {"open": "status != 'resolved'", "resolved": "status = 'resolved'"}.get(status, "1")
        if ticket_id is not None:
            where = f"id = {int(ticket_id)}"
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                f"SELECT {_TICKET_COLUMNS},"
                " (SELECT text FROM ticket_messages m WHERE m.ticket_id = t.id"
                "  ORDER BY rowid DESC LIMIT 1) AS last_text,"
                " (SELECT COUNT(*) FROM ticket_messages m WHERE m.ticket_id = t.id) AS messages"
                f" FROM tickets t WHERE {where} ORDER BY opened_at DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]

    def claim(self, ticket_id: int, by: str) -> Ticket:
        """Marks `by` as handling the ticket; raises TicketConflictError if someone else does."""
        with self._connect() as db:
            changed = db.execute(
                "UPDATE tickets SET claimed_by = ? WHERE id = ? AND status != 'resolved'"
                " AND (claimed_by IS NULL OR claimed_by = ?)",
                (by, ticket_id, by),
            ).rowcount
        ticket = self.ticket(ticket_id)
        if ticket is None:
            raise KeyError(ticket_id)
        if not changed:
            raise TicketConflictError(ticket)
        return ticket

    def add_message(self, ticket_id: int, author: str, text: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO ticket_messages (ticket_id, author, text, at) VALUES (?, ?, ?, ?)",
                (ticket_id, author, text[:MAX_TEXT], time.time()),
            )

    def entries(self, ticket_id: int) -> list[dict]:
        """The transcript with times: the bot's copy, later messages and staff notes."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT author, text, at FROM ticket_messages WHERE ticket_id = ? ORDER BY rowid",
                (ticket_id,),
            ).fetchall()
        return [{"author": author, "text": text, "at": at} for author, text, at in rows]

    def messages(self, ticket_id: int) -> list[tuple[str, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT author, text FROM ticket_messages WHERE ticket_id = ? ORDER BY rowid",
                (ticket_id,),
            ).fetchall()
        return [(author, text) for author, text in rows]

    def resolve(self, ticket_id: int, by: str) -> None:
        """Closes a ticket; the bot answers that conversation again."""
        with self._connect() as db:
            db.execute(
                "UPDATE tickets SET status = 'resolved', closed_at = ?, closed_by = ?"
                " WHERE id = ? AND status != 'resolved'",
                (time.time(), by, ticket_id),
            )

    def record_vote(
        self, sender: str, procedure_code: str, vote: str, question: str | None = None
    ) -> None:
        """Stores a 👍/👎 with the question that found the procedure (masked).

        A 👍 also strengthens that question–procedure pair in the question bank.
        """
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        asked = _kept(question) if question else None
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (sender, procedure_code, vote, at, question)"
                " VALUES (?, ?, ?, ?, ?)",
                (sender, procedure_code, vote, time.time(), asked),
            )
            if vote == "up" and asked:
                self._strengthen(db, asked, procedure_code)

    def _strengthen(self, db: sqlite3.Connection, question: str, code: str) -> None:
        live = db.execute(
            "SELECT id FROM bank_links WHERE procedure_code = ? AND question = ?"
            " AND undone_at IS NULL ORDER BY source = 'staff' DESC, id LIMIT 1",
            (code, question),
        ).fetchone()
        if live:
            db.execute("UPDATE bank_links SET votes = votes + 1 WHERE id = ?", live)
        else:
            db.execute(
                "INSERT INTO bank_links (question, procedure_code, source, origin, created_by,"
                " created_at, votes) VALUES (?, ?, 'vote', 'vote', 'citizen', ?, 1)",
                (question, code, time.time()),
            )
        _bump(db)

    def record_miss(self, sender: str, question: str, kind: str) -> int:
        """Keeps a question the bot could not answer, masked, for staff to link."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO misses (sender, question, kind, at) VALUES (?, ?, ?, ?)",
                (sender, _kept(question), kind, time.time()),
            )
        return int(cursor.lastrowid)

    def to_learn(self, limit: int = 100) -> list[dict]:
        """What staff may link, newest first: misses and 👎 votes not linked yet."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT 'miss:' || id AS origin, question, kind, NULL AS procedure_code, at"
                " FROM misses WHERE link_id IS NULL"
                " UNION ALL SELECT 'vote:' || id, question, 'vote_down', procedure_code, at"
                " FROM feedback WHERE vote = 'down' AND question IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM bank_links l"
                "  WHERE l.origin = 'vote:' || feedback.id AND l.undone_at IS NULL)"
                " ORDER BY at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]

    def link_question(self, question: str, procedure_code: str, by: str, origin: str) -> int:
        """A staff member links a question to its procedure: in the bank at once."""
        asked = _kept(question)
        if not asked.strip():
            raise ValueError("an empty question cannot be linked")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO bank_links (question, procedure_code, source, origin, created_by,"
                " created_at) VALUES (?, ?, 'staff', ?, ?, ?)",
                (asked, procedure_code, origin, by, time.time()),
            )
            link = int(cursor.lastrowid)
            if origin.startswith("miss:") and origin[5:].isdigit():
                db.execute("UPDATE misses SET link_id = ? WHERE id = ?", (link, int(origin[5:])))
            _bump(db)
        return link

    def undo_link(self, link_id: int, by: str) -> bool:
        """Takes a link out of the bank (kept on record); False if there was none live."""
        with self._connect() as db:
            changed = db.execute(
                "UPDATE bank_links SET undone_by = ?, undone_at = ?"
                " WHERE id = ? AND undone_at IS NULL",
                (by, time.time(), link_id),
            ).rowcount
            if changed:
                db.execute("UPDATE misses SET link_id = NULL WHERE link_id = ?", (link_id,))
                _bump(db)
        return bool(changed)

    def links(self, limit: int = 100) -> list[dict]:
        """The learned pairs, newest first, undone ones included (who, when)."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT id, question, procedure_code, source, origin, created_by, created_at,"
                " votes, undone_by, undone_at FROM bank_links ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]

    def bank_version(self) -> str:
        with self._connect() as db:
            (version,) = db.execute("SELECT version FROM bank_version WHERE id = 1").fetchone()
        return str(version)

    def bank_entries(self) -> list[BankQuestion]:
        """The live learned pairs as bank questions (index.bank.LearnedSource)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, question, procedure_code, source, votes FROM bank_links"
                " WHERE undone_at IS NULL ORDER BY id"
            ).fetchall()
        return [
            BankQuestion(question, (code,), source, f"{source}:{link}", _weight(source, votes))
            for link, question, code, source, votes in rows
        ]

    def votes(self, procedure_code: str) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT vote, COUNT(*) FROM feedback WHERE procedure_code = ? GROUP BY vote",
                (procedure_code,),
            ).fetchall()
        return {"up": 0, "down": 0, **dict(rows)}

    def complaints(self, procedure_code: str) -> list[dict]:
        """Complaints filed while this procedure was in discussion, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, text, at, consent FROM complaints WHERE procedure_code = ?"
                " ORDER BY at DESC, id DESC",
                (procedure_code,),
            ).fetchall()
        return [
            {"id": i, "text": text, "at": at, "consent": None if c is None else bool(c)}
            for i, text, at, c in rows
        ]

    def feedback_summary(self) -> list[dict]:
        """Votes and complaints per procedure, the most often marked wrong first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT code, SUM(up), SUM(down), SUM(complaints) FROM ("
                " SELECT procedure_code AS code, vote = 'up' AS up, vote = 'down' AS down,"
                "  0 AS complaints FROM feedback"
                " UNION ALL SELECT procedure_code, 0, 0, 1 FROM complaints"
                "  WHERE procedure_code IS NOT NULL)"
                " GROUP BY code ORDER BY SUM(down) DESC, SUM(complaints) DESC, code"
            ).fetchall()
        return [
            {"code": code, "up": up, "down": down, "complaints": complaints}
            for code, up, down, complaints in rows
        ]

    def record_complaint(self, sender: str, text: str, procedure_code: str | None) -> int:
        """Stores a complaint; consent to be contacted is asked next (None until then)."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO complaints (sender, text, procedure_code, at) VALUES (?, ?, ?, ?)",
                (sender, text[:MAX_TEXT], procedure_code, time.time()),
            )
        return int(cursor.lastrowid)

    def set_consent(self, complaint_id: int, consent: bool) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE complaints SET consent = ? WHERE id = ?", (int(consent), complaint_id)
            )

    def complaint(self, complaint_id: int) -> dict | None:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM complaints WHERE id = ?", (complaint_id,)).fetchone()
        return dict(row) if row else None
