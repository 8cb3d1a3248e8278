"""Help-desk records in SQLite: tickets, votes, complaints."""

from pathlib import Path

import pytest

from helpdesk.desk import Desk


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


def test_staff_links_enter_the_bank_with_who_when_and_an_undo(desk_db: Path) -> None:
    desk = Desk()
    version = desk.bank_version()
    miss = desk.record_miss(
        "u3", "mới lấy vợ muốn đưa vợ về ở nhà mình, gọi 0912 345 678", "not_found"
    )
    [waiting] = desk.to_learn()
    assert waiting["origin"] == f"miss:{miss}" and "0912" not in waiting["question"]
    link = desk.link_question(waiting["question"], "T.000005", "lan", waiting["origin"])
    assert desk.bank_version() != version
    assert desk.to_learn() == []  # linked: no longer waiting
    [entry] = desk.bank_entries()
    assert entry.codes == ("T.000005",) and entry.source == "staff" and entry.weight == 1.0
    [row] = desk.links()
    assert (row["created_by"], row["procedure_code"], row["undone_at"]) == ("lan", "T.000005", None)
    assert desk.undo_link(link, "minh") and not desk.undo_link(link, "minh")
    assert desk.bank_entries() == []
    assert desk.links()[0]["undone_by"] == "minh"
    assert [w["origin"] for w in desk.to_learn()] == [f"miss:{miss}"]  # back in the queue
    with pytest.raises(ValueError):
        desk.link_question("   ", "T.000005", "lan", "console")


def test_up_votes_strengthen_a_pair(desk_db: Path) -> None:
    desk = Desk()
    for _ in range(3):
        desk.record_vote("u4", "T.000003", "up", "hai đứa muốn về chung một nhà")
    [entry] = desk.bank_entries()
    assert entry.source == "vote" and entry.weight == 1.0  # 0.5, 0.75, then full
    desk.link_question("hai đứa muốn về chung một nhà", "T.000003", "lan", "console")
    desk.record_vote("u5", "T.000003", "up", "hai đứa muốn về chung một nhà")
    staff = [e for e in desk.bank_entries() if e.source == "staff"]
    assert staff and desk.links()[0]["votes"] == 1  # the staff pair got the vote


def test_an_old_desk_file_gains_the_new_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY, sender TEXT NOT NULL,"
            " procedure_code TEXT NOT NULL, vote TEXT NOT NULL, at REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO feedback (sender, procedure_code, vote, at) VALUES ('u', 'T', 'down', 1)"
        )
    desk = Desk(path)
    desk.record_vote("u", "T.000001", "down", "câu hỏi")
    assert [row["kind"] for row in desk.to_learn()] == ["vote_down"]
