"""The question bank: how citizens ask, each question linked to its procedures.

The catalogue speaks the state's language ("đăng ký biến động quyền sử dụng đất"); citizens
say "sang tên sổ đỏ", or tell a story and never name the procedure. No generic model
bridges that: it takes examples of how citizens ask. The bank holds them, from two sources:

* `data/questions/*.jsonl`: questions the team wrote in its own words for the life events
  citizens ask about most, each with its provenance (`source`, `note`);
* each procedure's own name, so that a procedure nobody wrote questions for still has a
  voice when a question repeats its official name (formal questions often do);
* what staff teach at run time (the console links a question the bot got wrong to the right
  procedure; a 👍 strengthens a question–procedure pair), kept in the help desk's database
  and handed in as `Learned` entries: the bank takes them without a restart.

A query is matched to similar questions with the index's own two kinds of evidence, BM25 over
folded syllables and e5 cosine similarity, and each procedure gets the evidence of its best
matching question. `index.search` fuses that as a third channel: a question close to the
citizen's raises its procedures, it never overrides the ranking alone.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.language.text import folded_syllables
from index.lexical import BM25
from index.ranking import top_k

logger = logging.getLogger(__name__)

DEFAULT_QUESTIONS = Path(__file__).parent / "data" / "questions"
# Where a bank question comes from: the team's files, staff links, citizens' 👍 votes,
# and each procedure's own name (so that every procedure has a voice in the channel,
# not only the ones the team wrote questions for).
SOURCES = ("team", "staff", "vote", "catalogue")
FILE_SOURCES = ("team",)
STYLES = ("natural", "no_diacritics", "abbrev", "typo", "narrative", "formal")
# How often a search looks for new staff links at most (seconds).
REFRESH_EVERY = 1.0


@dataclass(frozen=True)
class BankQuestion:
    """One question and the procedures that answer it, the default one first.

    `weight` scales its evidence: team and staff questions count fully; a pair only
    citizens' 👍 votes support counts less until more votes agree.
    """

    text: str
    codes: tuple[str, ...]
    source: str
    key: str
    weight: float = 1.0


class LearnedSource(Protocol):
    """Where staff-taught questions live (the help desk): a cheap version stamp that
    changes whenever the entries do, and the entries themselves."""

    def bank_version(self) -> str: ...

    def bank_entries(self) -> list[BankQuestion]: ...


class BankError(ValueError):
    """A bank file line that is not a valid question (the message names file and line)."""


def read_questions(directory: Path = DEFAULT_QUESTIONS) -> list[BankQuestion]:
    """Reads every `*.jsonl` file of the team's bank, refusing malformed lines.

    The bank is versioned data that the project ships: a bad line is a bug to fix, not a
    record to skip, so it raises with its file and line.
    """
    questions = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
                text, codes = row["question"], row["codes"]
                source = row.get("source", "team")
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise BankError(f"{where}: not a bank question ({error})") from None
            if not isinstance(text, str) or not text.strip():
                raise BankError(f"{where}: empty question")
            if (
                not isinstance(codes, list)
                or not codes
                or not all(isinstance(c, str) and c for c in codes)
            ):
                raise BankError(f"{where}: codes must be a non-empty list of procedure codes")
            if source not in FILE_SOURCES:
                raise BankError(f"{where}: unknown source {source!r}")
            if unicodedata.normalize("NFC", text) != text:
                raise BankError(f"{where}: question is not NFC")
            questions.append(BankQuestion(text, tuple(codes), source, f"{path.stem}:{number}"))
    return questions


def _comparable(text: str) -> str:
    """Folded, lower-case words: how two questions are compared for copying."""
    return " ".join(folded_syllables(text))


def _trigrams(words: str) -> set[tuple[str, ...]]:
    w = words.split()
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


def near_duplicates(
    questions: Iterable[str], others: Iterable[str], ratio: float = 0.7, overlap: float = 0.5
) -> list[tuple[str, str]]:
    """Pairs (question, other) that nearly repeat each other once folded.

    Near means a character similarity (difflib's ratio) of at least `ratio`, or at least
    `overlap` of the shorter one's word trigrams shared. The bank's honesty guard: no
    bank question may be a near-copy of a held-out evaluation question. Pairs sharing
    under a fifth of their words are not compared character by character (they cannot
    reach such a ratio in practice, and comparing every pair would take minutes).
    """
    theirs = [(o, _comparable(o)) for o in others]
    by_word: dict[str, set[int]] = {}
    for i, (_, words) in enumerate(theirs):
        for word in set(words.split()):
            by_word.setdefault(word, set()).add(i)
    grams = [_trigrams(words) for _, words in theirs]
    found = []
    for question in questions:
        mine = _comparable(question)
        my_words, my_grams = set(mine.split()), _trigrams(mine)
        shared = Counter(i for word in my_words for i in by_word.get(word, ()))
        matcher = difflib.SequenceMatcher(None, "", mine)
        for i, count in shared.items():
            other, words = theirs[i]
            if count / len(my_words | set(words.split())) < 0.2:
                continue
            common = len(my_grams & grams[i]) / max(1, min(len(my_grams), len(grams[i])))
            if my_grams and grams[i] and common >= overlap:
                found.append((question, other))
                continue
            matcher.set_seq1(words)
            if matcher.quick_ratio() >= ratio and matcher.ratio() >= ratio:
                found.append((question, other))
    return found


@dataclass(frozen=True)
class Evidence:
    """What the bank says for one procedure: the summed evidence of its questions among
    the query's nearest, the nearest of them, and that question's cosine similarity."""

    value: float
    nearest: BankQuestion
    cosine: float


def bank_sha256(questions: Sequence[BankQuestion]) -> str:
    """A hash of what the team's bank says (not where), for manifests and caches."""
    digest = hashlib.sha256()
    for q in questions:
        digest.update(json.dumps([q.text, q.codes, q.weight], ensure_ascii=False).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class _State:
    """One version of the bank, replaced whole when staff links change: a search reads
    one state from start to end, however the bank changes meanwhile."""

    questions: list[BankQuestion]
    vectors: np.ndarray
    bm25: BM25
    own: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class LexicalShare:
    """For each question of one bank state, the part of its BM25 mass a query holds."""

    state: _State
    share: np.ndarray


class Bank:
    """Questions with their prepared text and vectors; matched against prepared queries.

    `prepare` turns a question into the text both channels see (the searcher's own:
    normalised, accents restored, aliases added), so a bank question and a citizen's
    query are compared as equals. `embed` turns prepared texts into query vectors.
    New staff links are taken in on a thread of their own: a citizen's search never
    waits for the bank to be rebuilt (it uses the previous state meanwhile).
    """

    def __init__(
        self,
        questions: Iterable[BankQuestion],
        prepare: Callable[[str], str],
        embed: Callable[[list[str]], np.ndarray],
        known_codes: set[str] | None = None,
        learned: LearnedSource | None = None,
    ) -> None:
        self._prepare = prepare
        self._embed = embed
        self._known = known_codes
        self._learned = learned
        self._learned_version: str | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None
        self._prepared: dict[str, str] = {}
        self._vector_cache: dict[str, np.ndarray] = {}
        self._team = self._usable(questions)
        self._state = self._build(self._team)
        self.refresh(wait=True)

    def _usable(self, questions: Iterable[BankQuestion]) -> list[BankQuestion]:
        """Questions whose codes this catalogue has (unknown codes dropped, logged)."""
        usable, dropped = [], 0
        for q in questions:
            codes = tuple(c for c in q.codes if self._known is None or c in self._known)
            if not codes:
                dropped += 1
                continue
            usable.append(q if codes == q.codes else BankQuestion(
                q.text, codes, q.source, q.key, q.weight))  # fmt: skip
        if dropped:
            logger.info("question bank: %d questions name no procedure of this catalogue", dropped)
        return usable

    def _build(self, questions: list[BankQuestion]) -> _State:
        """A state over `questions`; prepared texts and vectors are remembered by text,
        so a rebuild for one new staff link prepares and embeds only that link."""
        for q in questions:
            if q.text not in self._prepared:
                self._prepared[q.text] = self._prepare(q.text)
        prepared = [self._prepared[q.text] for q in questions]
        missing = [t for t in dict.fromkeys(prepared) if t not in self._vector_cache]
        if missing:
            self._vector_cache.update(zip(missing, self._embed(missing), strict=True))
        dim = next(iter(self._vector_cache.values())).shape[0] if self._vector_cache else 0
        vectors = (
            np.vstack([self._vector_cache[t] for t in prepared]).astype(np.float32)
            if prepared
            else np.zeros((0, dim), dtype=np.float32)
        )
        bm25 = BM25(prepared)
        weights = np.array([q.weight for q in questions], dtype=np.float32)
        # A question's BM25 score against itself: dividing by it puts every question's
        # lexical match on one scale, 1.0 = all its words (long questions score higher raw).
        return _State(questions, vectors, bm25, bm25.own_scores(), weights)

    def refresh(self, force: bool = False, wait: bool = False) -> bool:
        """Takes staff-taught questions in when their version changed (looked up at most
        once every REFRESH_EVERY seconds unless `force`). The rebuild runs on its own
        thread unless `wait`; True when a rebuild was started or done."""
        if self._learned is None:
            return False
        now = time.monotonic()
        if not force and not wait and now - self._checked_at < REFRESH_EVERY:
            return False
        with self._lock:
            self._checked_at = now
            if self._rebuilding is not None and self._rebuilding.is_alive():
                if not wait:
                    return False
                self._rebuilding.join()
            try:
                version = self._learned.bank_version()
            except Exception:
                logger.exception("question bank: staff links could not be read")
                return False
            if version == self._learned_version and not force:
                return False
            if wait:
                self._rebuild(version)
            else:
                self._rebuilding = threading.Thread(
                    target=self._rebuild, args=(version,), name="bank-rebuild", daemon=True
                )
                self._rebuilding.start()
            return True

    def _rebuild(self, version: str) -> None:
        try:
            learned = self._usable(self._learned.bank_entries())
            self._state = self._build(self._team + learned)
        except Exception:
            logger.exception("question bank: staff links could not be taken in")
            return
        self._learned_version = version
        logger.info("question bank: %d team + %d learned", len(self._team), len(learned))

    @property
    def questions(self) -> list[BankQuestion]:
        return self._state.questions

    @property
    def vectors(self) -> np.ndarray:
        return self._state.vectors

    def __len__(self) -> int:
        return len(self._state.questions)

    @property
    def team_size(self) -> int:
        return len(self._team)

    def lexical_share(self, query_terms: Mapping[str, float]) -> LexicalShare | None:
        """For each question, the part of its BM25 mass the query holds (1.0 = all of it).

        Separate from `evidence` so that the search computes it while the query encoder
        runs. It also looks for new staff links (at most once a second); None: no
        questions.
        """
        self.refresh()
        state = self._state
        if not state.questions:
            return None
        share = state.bm25.scores_for_terms(query_terms) / np.maximum(state.own, 1e-6)
        return LexicalShare(state, np.minimum(share, 1.0))

    def evidence(
        self,
        lexical: LexicalShare,
        query_vector: np.ndarray,
        lexical_weight: float,
        floor: float,
        secondary: float,
        neighbours: int,
    ) -> dict[str, Evidence]:
        """Each procedure's evidence from the query's nearest questions, and its nearest one.

        A question's evidence adds its lexical share (`lexical_share`) and how far its
        cosine similarity rises above `floor` (e5 puts unrelated Vietnamese questions
        near 0.8, paraphrases above 0.9), scaled by its weight. The `neighbours` nearest
        questions vote: a procedure sums the evidence of its questions among them (its
        first code fully, the others `secondary`), so several citizens' ways of asking
        that agree count more than one lucky match.
        """
        state = lexical.state
        cosines = state.vectors @ query_vector.reshape(-1)
        dense = np.clip((cosines - floor) / (1.0 - floor), 0.0, None)
        value = (lexical_weight * lexical.share + dense) * state.weights
        found: dict[str, Evidence] = {}
        for i in top_k(value, neighbours):
            if value[i] <= 0:
                break
            question = state.questions[i]
            for rank, code in enumerate(question.codes):
                share = float(value[i]) * (1.0 if rank == 0 else secondary)
                known = found.get(code)
                if known is None:
                    found[code] = Evidence(share, question, float(cosines[i]))
                else:
                    found[code] = Evidence(known.value + share, known.nearest, known.cosine)
        return found
