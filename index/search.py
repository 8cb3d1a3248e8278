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
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from bot.text import normalize
from index.accents import AccentRestorer
from index.adapter import QueryAdapter
from index.aliases import Aliases
from index.catalogue import Procedure
from index.coverage import Coverage, Elsewhere
from index.embedders import Embedder
from index.lexical import BM25, terms
from index.qualifiers import Qualifiers

Mode = Literal["hybrid", "lexical", "dense"]
# How many neighbours to ask an approximate (IVF/HNSW) index for.
DENSE_CANDIDATES = 1000
# Query vectors kept: the model takes ~0.6 ms per token on 2 cores, and
# citizens (and the console's search-as-you-type) repeat the same questions.
QUERY_CACHE = 2048


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
    # Near-duplicate variants of the best hit ("khai sinh" / "khai sinh có yếu
    # tố nước ngoài"): the shorter name's words mostly inside the longer one's,
    # scored this close.
    # 1.0 asks on about a third of the dev questions; 2.0 asked on more than
    # half, too often for a chat.
    variant_overlap: float = 0.8
    variant_margin: float = 1.0
    max_variants: int = 4
    # A question naming a need the catalogue does not cover (index.coverage) is
    # answered "served elsewhere", unless it also names the best hit outright:
    # its words cover at least this share of that procedure's name ("bác sĩ
    # thú y mở phòng khám xin chứng chỉ hành nghề thú y").
    elsewhere_keep_coverage: float = 0.75

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


@dataclass(frozen=True)
class Result:
    """Ranked hits; `abstained` means no procedure is a confident match.

    `variants` are the best hit and its near-duplicates (the general variant
    first, as the ranking prefers names the query covers best); more than one
    means the bot should ask which one the citizen means.
    """

    query: str
    expanded: str
    hits: tuple[Hit, ...]
    abstained: bool
    variants: tuple[Hit, ...] = ()
    # Why it abstained, when the question names a need served elsewhere.
    elsewhere: Elsewhere | None = None

    @property
    def ambiguous(self) -> bool:
        return not self.abstained and len(self.variants) > 1


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


def _name_words(name: str) -> frozenset[str]:
    """Lower-case words of a name without bracketed qualifiers, for sibling tests."""
    return frozenset(_QUALIFIER.sub(" ", name).lower().split())


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)


def _field_terms(procedure: Procedure) -> dict[str, frozenset[str]]:
    """Terms of the fields a hit can be said to match, for highlighting."""
    fields = {
        "name": procedure.name,
        "field": procedure.field or "",
        "result": procedure.result or "",
        "documents": " ".join(d.name for d in procedure.documents),
    }
    return {name: frozenset(terms(text)) for name, text in fields.items()}


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
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.procedures = list(procedures)
        self.by_code = {p.code: p for p in self.procedures}
        self.embedder = embedder
        self.vectors = vectors
        self.restorer = restorer
        self.aliases = aliases
        self.settings = settings or Settings.for_model(embedder.name)
        self.bm25 = BM25([lexical_text(p) for p in self.procedures])
        self._fields = [_field_terms(p) for p in self.procedures]
        self._names = [name_terms(p) for p in self.procedures]
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.qualifiers = qualifiers or Qualifiers.load()
        self._qualified = [self.qualifiers.of_name(p.name) for p in self.procedures]
        self._words = [_name_words(p.name) for p in self.procedures]
        self.adapter = adapter
        self.coverage = Coverage.load(self.procedures)

    @property
    def adaptation(self) -> str:
        """Which domain adaptation the dense channel uses: shown by stats and eval."""
        return self.adapter.name if self.adapter else "none"

    def prepare(self, query: str) -> str:
        """The text both channels see: normalised, accents restored, aliases added."""
        text = self.restorer.restore(normalize(query))
        return self.aliases.expand(text)

    def _dense_scores(self, text: str) -> np.ndarray:
        """Cosine similarity to every procedure, its passages blended."""
        query = self._query_vector(text)
        weight = self.settings.details_weight
        name = self._passage_scores(self.vectors["name"], query)
        if "details" not in self.vectors or not weight:
            return name
        return (name + weight * self._passage_scores(self.vectors["details"], query)) / (1 + weight)

    def clear_cache(self) -> None:
        """Forgets cached query vectors (benchmarks time the model itself)."""
        self._query_vectors.clear()

    def _query_vector(self, text: str) -> np.ndarray:
        """The query's embedding, from a small LRU cache when seen recently."""
        vector = self._query_vectors.pop(text, None)
        if vector is None:
            vector = self.embedder.queries([text])
            if self.adapter is not None:
                vector = self.adapter.apply(vector)
        self._query_vectors[text] = vector
        if len(self._query_vectors) > QUERY_CACHE:
            self._query_vectors.popitem(last=False)
        return vector

    def _passage_scores(self, vectors: faiss.Index, query: np.ndarray) -> np.ndarray:
        """One passage's similarity for every procedure; beyond an approximate
        index's candidates, the lowest candidate score stands in."""
        size = len(self.procedures)
        wanted = size if isinstance(vectors, faiss.IndexFlat) else min(size, DENSE_CANDIDATES)
        scores, ids = vectors.search(query, wanted)
        found = ids[0] >= 0
        dense = np.full(size, scores[0][found].min() if found.any() else 0.0, dtype=np.float32)
        dense[ids[0][found]] = scores[0][found]
        return dense

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> Result:
        """Top-k procedures for `query`, or an abstention when none stands out."""
        expanded = self.prepare(query)
        if not expanded or not self.procedures:
            return Result(query, expanded, (), True)
        query_terms = set(terms(expanded))
        lexical = _zscore(self.bm25.scores_for_terms(query_terms))
        dense = self._dense_scores(expanded)
        if mode == "lexical":
            fused = lexical
        elif mode == "dense":
            fused = _zscore(dense)
        else:
            fused = lexical + self.settings.dense_weight * _zscore(dense)
            fused = fused / (1 + self.settings.dense_weight)
        if mode == "hybrid":
            fused = self._rerank_by_name(fused, query_terms, self.qualifiers.called_for(expanded))
        top = np.argsort(-fused)[:k]
        hits = tuple(
            Hit(
                self.procedures[i],
                float(fused[i]),
                float(lexical[i]),
                float(dense[i]),
                tuple(name for name, t in self._fields[i].items() if query_terms & t),
            )
            for i in top
        )
        # Abstention is calibrated on the fused score; the single-channel modes
        # exist as baselines and only rank.
        abstained = mode == "hybrid" and self._abstains(hits[0])
        elsewhere = None
        if mode == "hybrid":
            elsewhere = self.coverage.elsewhere(query)
            named = self._name_coverage(int(top[0]), query_terms)
            if elsewhere is not None and named >= self.settings.elsewhere_keep_coverage:
                elsewhere = None
        return Result(
            query, expanded, hits, abstained or elsewhere is not None, self._variants(hits),
            elsewhere,
        )  # fmt: skip

    def _variants(self, hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
        """The best hit and the hits just below it whose names nearly repeat it."""
        settings = self.settings
        best = hits[0]
        words = _name_words(best.procedure.name)
        variants = [best]
        for hit in hits[1:]:
            if best.score - hit.score > settings.variant_margin:
                break
            other = _name_words(hit.procedure.name)
            if len(words & other) / max(1, min(len(words), len(other))) >= settings.variant_overlap:
                variants.append(hit)
        return tuple(variants[: settings.max_variants])

    def _name_coverage(self, i: int, query_terms: set[str]) -> float:
        """Share of the name's IDF mass that the query contains, in [0, 1]."""
        idf = self.bm25.idf
        total = sum(idf(t) for t in self._names[i])
        return sum(idf(t) for t in self._names[i] & query_terms) / total if total else 0.0

    def _rerank_by_name(
        self, fused: np.ndarray, query_terms: set[str], called_for: frozenset[int]
    ) -> np.ndarray:
        settings = self.settings
        depth = min(settings.rerank_depth, len(fused))
        candidates = np.argpartition(-fused, depth - 1)[:depth]
        reranked = fused.copy()
        unwanted = {i: len(self._qualified[i] - called_for) for i in candidates}
        for i in candidates:
            reranked[i] += settings.name_weight * self._name_coverage(i, query_terms)
            if unwanted[i] and any(
                unwanted[j] < unwanted[i] and self._siblings(i, j) for j in candidates
            ):
                reranked[i] -= settings.qualifier_weight * unwanted[i]
        return reranked

    def _siblings(self, i: int, j: int) -> bool:
        """Whether two names nearly repeat each other (variants of one procedure)."""
        a, b = self._words[i], self._words[j]
        return len(a & b) / max(1, min(len(a), len(b))) >= self.settings.variant_overlap

    def _abstains(self, best: Hit) -> bool:
        settings = self.settings
        if settings.min_cosine is not None and best.dense < settings.min_cosine:
            return True
        return (
            len(self.procedures) >= settings.min_catalogue_for_z and best.score < settings.min_score
        )
