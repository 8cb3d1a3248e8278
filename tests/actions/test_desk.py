"""Help-desk records in SQLite: tickets, votes, complaints."""

from pathlib import Path

import pytest

from actions.desk import Desk


def test_one_open_ticket_per_sender_until_resolved(desk_db: Path) -> None:
    desk = Desk()
    first = desk.open_ticket("u1", "request_human", [("citizen", "gặp người"), ("bot", "Dạ")])
    assert desk.open_ticket("u1", "request_human", []) == first
    desk.add_message(first, "citizen", "còn đó không")
    assert desk.messages(first) == [
        ("citizen", "gặp người"),
        ("bot", "Dạ"),
        ("citizen", "còn đó không"),
    ]
    desk.resolve(first, by="staff-1")
    assert desk.open_ticket_for("u1") is None
    assert desk.open_ticket("u1", "not_understood", []) != first


def test_records_survive_a_new_connection(desk_db: Path) -> None:
    Desk().open_ticket("u2", "request_human", [], procedure_code="T.000001")
    ticket = Desk(desk_db).open_ticket_for("u2")
    assert ticket is not None and ticket.procedure_code == "T.000001"


def test_votes_are_counted_and_checked(desk_db: Path) -> None:
    desk = Desk()
    desk.record_vote("u1", "T.000001", "up")
    desk.record_vote("u2", "T.000001", "down")
    desk.record_vote("u3", "T.000001", "down")
    assert desk.votes("T.000001") == {"up": 1, "down": 2}
    with pytest.raises(ValueError):
        desk.record_vote("u1", "T.000001", "maybe")


def test_complaint_consent(desk_db: Path) -> None:
    desk = Desk()
    complaint = desk.record_complaint("u1", "xã hẹn mãi", "T.000003")
    assert desk.complaint(complaint)["consent"] is None
    desk.set_consent(complaint, True)
    assert desk.complaint(complaint)["consent"] == 1


def test_huge_text_is_cut(desk_db: Path) -> None:
    desk = Desk()
    ticket = desk.open_ticket("u1", "request_human", [("citizen", "a" * 100_000)])
    assert len(desk.messages(ticket)[0][1]) <= 4000
