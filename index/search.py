"""Hybrid search: BM25 and dense similarity, fused, with an explicit abstention.

The query is prepared once for both channels: normalised, everyday names and
abbreviations expanded from the alias dictionary ("sổ đỏ" adds "giấy chứng
nhận quyền sử dụng đất"), and, when typed without any diacritic, accents
restored from the catalogue's own text so that the dense model sees real
Vietnamese. Each channel's scores over the whole catalogue are z-scored and
blended: BM25 and cosine similarity live on different scales, and z-scores
keep one channel's outliers from drowning the other.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, Protocol

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from bot.language.text import normalize
from index.accents import AccentRestorer
from index.aliases import Aliases
from index.bank import Bank, BankQuestion, Evidence, LearnedSource, LexicalShare
from index.catalogue import Procedure
from index.coverage import Coverage, Elsewhere
from index.embedders import Embedder
from index.fields import field_keys
from index.lexical import BM25, TermShare, terms
from index.qualifiers import Qualifiers
from index.query import Query, weighted_terms
from index.ranking import top_k

Mode = Literal["hybrid", "lexical", "dense"]
# How many neighbours to ask an approximate (IVF/HNSW) index for.
DENSE_CANDIDATES = 1000
# Query vectors kept: the model takes ~0.6 ms per token on 2 cores, and
# citizens (and the console's search-as-you-type) repeat the same questions.
QUERY_CACHE = 2048
# Sibling tests remembered (pairs of procedures met in re-ranks; a few MB at most).
SIBLING_PAIRS = 200_000


@dataclass(frozen=True)
class Settings:
    """Fusion and abstention parameters (tuned on shared/eval dev questions).

    Abstain when the best hit's cosine similarity is below `min_cosine` (a
    property of the model: e5 scores cluster high, so its value is e5's), or,
    in a catalogue large enough for z-scores to mean something, when the best
    fused score is fewer than `min_score` standard deviations above the mean:
    nothing stands out from the crowd.
    """

    dense_weight: float = 1.0
    # What a word an alias added counts in BM25 and the name re-rank, against 1.0 for the
    # citizen's own words (index.query).
    expansion_weight: float = 0.3
    # The details passage's share of a procedure's cosine similarity.
    details_weight: float = 0.6
    # Re-rank the best `rerank_depth` by how much of the procedure's name the
    # query covers (rare words count more): "Xóa đăng ký tạm trú" loses to
    # "Đăng ký tạm trú" when the citizen never said "xóa".
    name_weight: float = 2.0
    # Within the same re-rank, each variant qualifier the name carries and the
    # question does not call for ("cấp lại", "có yếu tố nước ngoài", "cấp
    # trung ương") costs this much: the general variant comes first.
    qualifier_weight: float = 1.0
    rerank_depth: int = 50
    min_cosine: float | None = None
    min_score: float = 4.5
    min_catalogue_for_z: int = 200
    # Names that nearly repeat each other are variants of one procedure ("khai sinh" /
    # "khai sinh có yếu tố nước ngoài"): the shorter name's words mostly inside the
    # longer one's. The qualifier penalty above applies among them, and the bot offers no
    # second procedure of the same family (actions.guidance).
    variant_overlap: float = 0.8
    # Ask instead of guessing: the procedures scored within `choice_margin` of the best
    # (one per family of level copies) are offered, at most `max_choices`. On the dev
    # questions 1.0 asks about one time in ten and lifts two-turn success from 0.91 to
    # 0.94; 2.0 asks half again as often for nothing more.
    choice_margin: float = 1.0
    max_choices: int = 4
    # A question naming a need the catalogue does not cover (index.coverage) is
    # answered "served elsewhere", unless it also names the best hit outright:
    # its words cover at least this share of that procedure's name ("bác sĩ
    # thú y mở phòng khám xin chứng chỉ hành nghề thú y").
    elsewhere_keep_coverage: float = 0.75
    # The question bank's channel (index.bank): among the query's `bank_neighbours`
    # nearest bank questions, a procedure gains `bank_weight` times the evidence of its
    # own, added before the name re-rank. A question's lexical share counts
    # `bank_lexical` against the rise of its cosine above `bank_floor`; its other codes
    # get `bank_secondary` of it.
    bank_weight: float = 5.0
    bank_lexical: float = 1.0
    bank_floor: float = 0.88
    bank_secondary: float = 0.7
    bank_neighbours: int = 8
    # Bank evidence this strong means citizens ask for the procedure in these words: it is
    # answered although its catalogue text is far from them (the cosine floor), or the
    # question mentions in passing a need served elsewhere ("mất điện thoại", "học bạ").
    bank_confident: float = 1.5
    # A bank question this close (cosine, question to question) is a paraphrase: its
    # procedure is answered although the catalogue's own text is far from the query.
    # One staff link is enough for the next citizen who asks alike.
    bank_paraphrase: float = 0.92

    @classmethod
    def for_model(cls, model_name: str) -> Settings:
        """Defaults for a model; the cosine floor is only known for e5."""
        return cls(min_cosine=0.85 if "e5" in model_name else None)


@dataclass(frozen=True)
class Hit:
    """A ranked procedure, its scores and the catalogue fields the query hit."""

    procedure: Procedure
    score: float
    lexical: float
    dense: float
    matched: tuple[str, ...]
    # Evidence from the question bank, the nearest bank question it came from, and
    # that question's cosine similarity to the query.
    bank: float = 0.0
    asked_like: BankQuestion | None = None
    asked_cosine: float = 0.0


@dataclass(frozen=True)
class Result:
    """Ranked hits; `abstained` means no procedure is a confident match.

    `choices` are the best hit and the other procedures scored nearly as well, one
    per family of level copies; more than one means the bot should ask which one the
    citizen means rather than guess.
    """

    query: str
    expanded: str
    hits: tuple[Hit, ...]
    abstained: bool
    choices: tuple[Hit, ...] = ()
    # Why it abstained, when the question names a need served elsewhere.
    elsewhere: Elsewhere | None = None

    @property
    def ambiguous(self) -> bool:
        return not self.abstained and len(self.choices) > 1


# Characters of the details passage; longer ones cost build time for little gain.
DETAILS_CHARS = 360


def passage_texts(procedure: Procedure) -> dict[str, str]:
    """What the dense channel embeds for a procedure, one vector per passage.

    "name": the name and field, what a question most often paraphrases.
    "details": the name again (so the passage stays about this procedure),
    who applies and the papers, which is how citizens describe their case
    ("mang sổ hộ khẩu", "doanh nghiệp nhỏ"). Fees and times are numbers the
    model cannot match a need with, so they are not embedded.
    """
    details = ". ".join(
        part
        for part in (
            procedure.name,
            f"Đối tượng: {procedure.applicants}" if procedure.applicants else "",
            "Hồ sơ: " + "; ".join(d.name for d in procedure.documents)
            if procedure.documents
            else "",
        )
        if part
    )
    return {
        "name": f"{procedure.name}. {procedure.field or ''}".strip(" ."),
        "details": details[:DETAILS_CHARS],
    }


PASSAGES = ("name", "details")


def lexical_text(procedure: Procedure) -> str:
    """What BM25 indexes: the name twice (it matters most), field and result."""
    return " ".join(
        [procedure.name, procedure.name, procedure.field or "", (procedure.result or "")[:300]]
    )


_QUALIFIER = re.compile(r"\([^)]*\)")


def name_terms(procedure: Procedure) -> frozenset[str]:
    """Terms of the name without bracketed qualifiers such as "(cấp tỉnh)"."""
    return frozenset(terms(_QUALIFIER.sub(" ", procedure.name)))


# Levels in the order a citizen meets them: the commune first.
LEVELS = {"Cấp xã": 0, "Cấp tỉnh": 1, "Cấp bộ": 2}
_LEVEL_MARK = re.compile(r"\([^()]*\bcấp\b[^()]*\)", re.IGNORECASE)
# Words in a question that name a level (folded): "công an tỉnh", "cục ... trung ương".
_ASKED_LEVELS = {0: ("xa", "phuong", "huyen"), 1: ("tinh", "thanh pho", "so"),
                 2: ("trung uong", "bo", "cuc")}  # fmt: skip


def family_name(name: str) -> str:
    """A name without its level mark ("(thực hiện tại cấp tỉnh)") and "thủ tục":
    level copies of one procedure share it."""
    words = _LEVEL_MARK.sub(" ", name).lower().split()
    return " ".join(w for w in words if w not in ("thủ", "tục"))


def asked_levels(query_terms: Mapping[str, float]) -> frozenset[int]:
    """Levels the citizen's own words name (aliases' words do not count)."""
    said = {t.replace("_", " ") for t, w in query_terms.items() if w >= 1.0}
    return frozenset(level for level, words in _ASKED_LEVELS.items() if said & set(words))


def _name_words(name: str) -> frozenset[str]:
    """Lower-case words of a name without bracketed qualifiers, for sibling tests."""
    return frozenset(_QUALIFIER.sub(" ", name).lower().split())


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)


# The fields a hit can be said to match (`Hit.matched`), in the order they are listed.
MATCHED_FIELDS = ("name", "field", "result", "documents")


def nearly_repeat(a: Set[str], b: Set[str], share: float) -> bool:
    """Whether two names' words nearly repeat each other: at least `share` of the shorter
    name's words are in the longer one ("khai sinh" / "khai sinh có yếu tố nước ngoài").
    The re-rank's sibling test, and the bot's test that two answers are one procedure."""
    return len(a & b) / max(1, min(len(a), len(b))) >= share


class QueryHook(Protocol):
    """Turns a query's vector before the dense search. The one place where domain
    adaptation (index.adaptation's query adapter, an option) meets the search."""

    name: str

    def apply(self, vector: np.ndarray) -> np.ndarray: ...


class Searcher:
    """Searches one catalogue with one embedder; built by `index.store`."""

    def __init__(
        self,
        procedures: Sequence[Procedure],
        embedder: Embedder,
        vectors: dict[str, faiss.Index],
        restorer: AccentRestorer,
        aliases: Aliases,
        settings: Settings | None = None,
        qualifiers: Qualifiers | None = None,
        query_hook: QueryHook | None = None,
        as_of: str | None = None,
    ) -> None:
        self.procedures = list(procedures)
        self.by_code = {p.code: p for p in self.procedures}
        self.embedder = embedder
        self.vectors = vectors
        self.restorer = restorer
        self.aliases = aliases
        self.settings = settings or Settings.for_model(embedder.name)
        self.bm25 = BM25([lexical_text(p) for p in self.procedures])
        # The bank and the dense channel multiply small matrices: BLAS threads would only
        # spin against the query encoder's own threads on a 2-core machine (4x slower).
        threadpool_limits(1, user_api="blas")
        self._fields = [{f: field_keys(p, f) for f in MATCHED_FIELDS} for p in self.procedures]
        self._name_share = TermShare([name_terms(p) for p in self.procedures], self.bm25.idf)
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")
        self._cache_lock = threading.Lock()
        self._flat: dict[int, np.ndarray] = {}
        self._sibling_pairs: dict[tuple[int, int], bool] = {}
        self.qualifiers = qualifiers or Qualifiers.load()
        self._qualified = [self.qualifiers.of_name(p.name) for p in self.procedures]
        self._words = [_name_words(p.name) for p in self.procedures]
        self.query_hook = query_hook
        self.as_of = as_of  # the catalogue's date, for "cập nhật ngày …" in answers
        self.coverage = Coverage.load(self.procedures)
        self._positions = {p.code: i for i, p in enumerate(self.procedures)}
        # Level copies of one procedure share a family: the name without its level.
        self._family = [family_name(p.name) for p in self.procedures]
        self.bank: Bank | None = None

    def attach_bank(
        self,
        questions: Sequence[BankQuestion],
        embed: Callable[[list[str]], np.ndarray] | None = None,
        learned: LearnedSource | None = None,
    ) -> Bank:
        """Searches `questions` (and every procedure's name) beside the catalogue,
        prepared as queries are.

        `embed` turns prepared texts into vectors (default: the embedder, uncached);
        `learned` adds what staff teach, taken in without a restart.
        """
        names = [BankQuestion(p.name, (p.code,), "catalogue", f"name:{p.code}")
                 for p in self.procedures]  # fmt: skip
        self.bank = Bank(
            [*questions, *names],
            lambda text: self.prepare(text).expanded,
            embed or self.embedder.queries,
            known_codes=set(self.by_code),
            learned=learned,
        )
        return self.bank

    @property
    def adaptation(self) -> str:
        """Which domain adaptation the dense channel uses: shown by stats and eval."""
        return self.query_hook.name if self.query_hook else "none"

    def prepare(self, query: str) -> Query:
        """The query every channel sees: normalised, accents restored, aliases added."""
        text = self.restorer.restore(normalize(query))
        expansions = tuple(self.aliases.expansions(text))
        weights = weighted_terms(text, expansions, self.settings.expansion_weight)
        return Query(query, text, expansions, weights)

    def _dense_scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of a query vector to every procedure, its passages blended."""
        weight = self.settings.details_weight
        name = self._passage_scores(self.vectors["name"], query)
        if "details" not in self.vectors or not weight:
            return name
        return (name + weight * self._passage_scores(self.vectors["details"], query)) / (1 + weight)

    def clear_cache(self) -> None:
        """Forgets cached query vectors (benchmarks time the model itself)."""
        self._query_vectors.clear()

    def _embed(self, text: str) -> np.ndarray:
        vector = self.embedder.queries([text])
        return self.query_hook.apply(vector) if self.query_hook is not None else vector

    def _query_vector(self, text: str) -> Future[np.ndarray]:
        """The query's embedding: from a small LRU cache when seen recently, else
        computed on the encoder's own thread while the caller scores the lexical
        channels (the encoder releases the GIL; on 2 cores the two overlap)."""
        with self._cache_lock:
            cached = self._query_vectors.get(text)
        if cached is not None:
            done: Future[np.ndarray] = Future()
            done.set_result(cached)
            return done
        return self._encoder.submit(self._embed, text)

    def _remember(self, text: str, vector: np.ndarray) -> None:
        """Keeps the vector, most recent last (the console searches from threads)."""
        with self._cache_lock:
            self._query_vectors.pop(text, None)
            self._query_vectors[text] = vector
            if len(self._query_vectors) > QUERY_CACHE:
                self._query_vectors.popitem(last=False)

    def _passage_scores(self, vectors: faiss.Index, query: np.ndarray) -> np.ndarray:
        """One passage's similarity for every procedure; beyond an approximate
        index's candidates, the lowest candidate score stands in."""
        size = len(self.procedures)
        if isinstance(vectors, faiss.IndexFlat):
            # Every score is wanted: a product with the stored vectors, in procedure
            # order, costs a fifth of faiss's search (which also sorts them all).
            matrix = self._flat.get(id(vectors))
            if matrix is None:
                matrix = self._flat[id(vectors)] = vectors.reconstruct_n(0, vectors.ntotal)
            return matrix @ query.reshape(-1)
        wanted = min(size, DENSE_CANDIDATES)
        scores, ids = vectors.search(query, wanted)
        found = ids[0] >= 0
        dense = np.full(size, scores[0][found].min() if found.any() else 0.0, dtype=np.float32)
        dense[ids[0][found]] = scores[0][found]
        return dense

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> Result:
        """Top-k procedures for `query`, or an abstention when none stands out."""
        prepared = self.prepare(query)
        expanded = prepared.expanded
        if not expanded or not self.procedures:
            return Result(query, expanded, (), True)
        pending = self._query_vector(expanded)
        query_terms = prepared.terms
        lexical = _zscore(self.bm25.scores_for_terms(query_terms))
        hybrid = mode == "hybrid"
        if hybrid:  # while the encoder runs: everything that needs no vector
            named = self._name_share.scores(query_terms)
            called_for = self.qualifiers.called_for(expanded)
            bank_lexical = self.bank.lexical_share(query_terms) if self.bank else None
            elsewhere = self.coverage.elsewhere(query)
        vector = pending.result()
        self._remember(expanded, vector)
        dense = self._dense_scores(vector)
        if mode == "lexical":
            fused = lexical
        elif mode == "dense":
            fused = _zscore(dense)
        else:
            fused = lexical + self.settings.dense_weight * _zscore(dense)
            fused = fused / (1 + self.settings.dense_weight)
        asked_like: dict[int, Evidence] = {}
        if hybrid:
            asked_like = self._bank_evidence(bank_lexical, vector)
            for i, evidence in asked_like.items():
                fused[i] += self.settings.bank_weight * evidence.value
            fused = self._rerank_by_name(fused, named, called_for)
        hits = []
        for i in top_k(fused, k):
            bank = asked_like.get(i)
            hits.append(
                Hit(
                    self.procedures[i],
                    float(fused[i]),
                    float(lexical[i]),
                    float(dense[i]),
                    tuple(f for f, keys in self._fields[i].items() if prepared.words & keys),
                    bank=bank.value if bank else 0.0,
                    asked_like=bank.nearest if bank else None,
                    asked_cosine=bank.cosine if bank else 0.0,
                )
            )
        hits = self._prefer_level(hits, asked_levels(query_terms)) if hybrid else tuple(hits)
        # Abstention is calibrated on the fused score; the single-channel modes
        # exist as baselines and only rank.
        abstained = hybrid and self._abstains(hits[0])
        best = self._positions[hits[0].procedure.code]
        if not hybrid or (
            named[best] >= self.settings.elsewhere_keep_coverage
            or hits[0].bank >= self.settings.bank_confident
        ):
            elsewhere = None
        return Result(
            query, expanded, hits, abstained or elsewhere is not None, self._choices(hits),
            elsewhere,
        )  # fmt: skip

    def _bank_evidence(
        self, lexical: LexicalShare | None, vector: np.ndarray
    ) -> dict[int, Evidence]:
        """Per procedure position: the bank's evidence and the question it came from."""
        if self.bank is None or lexical is None:
            return {}
        settings = self.settings
        found = self.bank.evidence(
            lexical,
            vector,
            settings.bank_lexical,
            settings.bank_floor,
            settings.bank_secondary,
            settings.bank_neighbours,
        )
        return {self._positions[code]: value for code, value in found.items()}

    def _choices(self, hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
        """The best hit and the procedures scored within the choice margin, one per
        family of level copies (the hits are already in level-prior order)."""
        best, families, choices = hits[0], set(), []
        for hit in hits:
            if best.score - hit.score > self.settings.choice_margin:
                break
            family = self._family[self._positions[hit.procedure.code]]
            if family not in families:
                families.add(family)
                choices.append(hit)
        return tuple(choices[: self.settings.max_choices])

    def _prefer_level(self, hits: list[Hit], asked_levels: frozenset[int]) -> tuple[Hit, ...]:
        """Level copies of one procedure scored close together are ties a citizen does
        not care about: the commune copy comes first, then the province's, then the
        ministry's, unless the question names a level ("công an tỉnh", "trung ương")."""
        ordered: list[Hit] = []
        placed: set[str] = set()
        for hit in hits:
            if hit.procedure.code in placed:
                continue
            family = self._family[self._positions[hit.procedure.code]]
            copies = [
                h
                for h in hits
                if h.procedure.code not in placed
                and self._family[self._positions[h.procedure.code]] == family
                and hit.score - h.score <= self.settings.choice_margin
            ]
            copies.sort(key=lambda h: self._level_order(h.procedure, asked_levels))
            ordered += copies
            placed.update(h.procedure.code for h in copies)
        return tuple(ordered)

    @staticmethod
    def _level_order(procedure: Procedure, asked: frozenset[int]) -> tuple[bool, int]:
        ranks = [LEVELS.get(level, len(LEVELS)) for level in procedure.levels] or [len(LEVELS)]
        return (not (asked & set(ranks)), min(ranks))

    def _rerank_by_name(
        self, fused: np.ndarray, named: np.ndarray, called_for: frozenset[int]
    ) -> np.ndarray:
        """Adds how much of each candidate's name the query holds (`named`, from
        TermShare: rare words count more), and takes a penalty for each variant
        qualifier a name carries that the question does not call for."""
        settings = self.settings
        depth = min(settings.rerank_depth, len(fused))
        candidates = np.argpartition(-fused, depth - 1)[:depth]
        reranked = fused.copy()
        unwanted = {i: len(self._qualified[i] - called_for) for i in candidates}
        for i in candidates:
            reranked[i] += settings.name_weight * named[i]
            if unwanted[i] and any(
                unwanted[j] < unwanted[i] and self._siblings(i, j) for j in candidates
            ):
                reranked[i] -= settings.qualifier_weight * unwanted[i]
        return reranked

    def _siblings(self, i: int, j: int) -> bool:
        """Whether two names nearly repeat each other (variants of one procedure).

        Remembered per pair: the same families come up again and again in the re-rank.
        """
        pair = (i, j) if i < j else (j, i)
        known = self._sibling_pairs.get(pair)
        if known is None:
            known = nearly_repeat(self._words[i], self._words[j], self.settings.variant_overlap)
            if len(self._sibling_pairs) < SIBLING_PAIRS:
                self._sibling_pairs[pair] = known
        return known

    def _abstains(self, best: Hit) -> bool:
        settings = self.settings
        if (
            settings.min_cosine is not None
            and best.dense < settings.min_cosine
            and best.bank < settings.bank_confident
            and best.asked_cosine < settings.bank_paraphrase
        ):
            return True
        return (
            len(self.procedures) >= settings.min_catalogue_for_z and best.score < settings.min_score
        )
