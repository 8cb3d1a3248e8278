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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from bot.text import normalize
from index.accents import AccentRestorer
from index.aliases import Aliases
from index.catalogue import Procedure
from index.embedders import Embedder
from index.lexical import BM25, terms

Mode = Literal["hybrid", "lexical", "dense"]
# How many neighbours to ask an approximate (IVF/HNSW) index for.
DENSE_CANDIDATES = 1000


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
    # Re-rank the best `rerank_depth` by how much of the procedure's name the
    # query covers (rare words count more): "Xóa đăng ký tạm trú" loses to
    # "Đăng ký tạm trú" when the citizen never said "xóa".
    name_weight: float = 2.0
    rerank_depth: int = 50
    min_cosine: float | None = None
    min_score: float = 4.5
    min_catalogue_for_z: int = 200
    # Near-duplicate variants of the best hit ("khai sinh" / "khai sinh có yếu
    # tố nước ngoài"): the shorter name's words mostly inside the longer one's,
    # scored this close.
    variant_overlap: float = 0.8
    variant_margin: float = 2.0
    max_variants: int = 4

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

    @property
    def ambiguous(self) -> bool:
        return not self.abstained and len(self.variants) > 1


def passage_text(procedure: Procedure) -> str:
    """What the dense channel embeds for a procedure: its name and field."""
    return f"{procedure.name}. {procedure.field or ''}".strip(" .")


def lexical_text(procedure: Procedure) -> str:
    """What BM25 indexes: the name twice (it matters most), field and result."""
    return " ".join(
        [procedure.name, procedure.name, procedure.field or "", (procedure.result or "")[:300]]
    )


_QUALIFIER = re.compile(r"\([^)]*\)")


def name_terms(procedure: Procedure) -> frozenset[str]:
    """Terms of the name without bracketed qualifiers such as "(cấp tỉnh)"."""
    return frozenset(terms(_QUALIFIER.sub(" ", procedure.name)))


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
        vectors: faiss.Index,
        restorer: AccentRestorer,
        aliases: Aliases,
        settings: Settings | None = None,
    ) -> None:
        self.procedures = list(procedures)
        self.embedder = embedder
        self.vectors = vectors
        self.restorer = restorer
        self.aliases = aliases
        self.settings = settings or Settings.for_model(embedder.name)
        self.bm25 = BM25([lexical_text(p) for p in self.procedures])
        self._fields = [_field_terms(p) for p in self.procedures]
        self._names = [name_terms(p) for p in self.procedures]

    def prepare(self, query: str) -> str:
        """The text both channels see: normalised, accents restored, aliases added."""
        text = self.restorer.restore(normalize(query))
        return self.aliases.expand(text)

    def _dense_scores(self, text: str) -> np.ndarray:
        """Cosine similarity to every procedure; beyond an approximate index's
        candidates, the lowest candidate score stands in."""
        size = len(self.procedures)
        wanted = size if isinstance(self.vectors, faiss.IndexFlat) else min(size, DENSE_CANDIDATES)
        scores, ids = self.vectors.search(self.embedder.queries([text]), wanted)
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
            fused = self._rerank_by_name(fused, query_terms)
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
        return Result(query, expanded, hits, abstained, self._variants(hits))

    def _variants(self, hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
        """The best hit and the hits just below it whose names nearly repeat it."""
        settings = self.settings
        best = hits[0]
        words = set(_QUALIFIER.sub(" ", best.procedure.name).lower().split())
        variants = [best]
        for hit in hits[1:]:
            if best.score - hit.score > settings.variant_margin:
                break
            other = set(_QUALIFIER.sub(" ", hit.procedure.name).lower().split())
            if len(words & other) / max(1, min(len(words), len(other))) >= settings.variant_overlap:
                variants.append(hit)
        return tuple(variants[: settings.max_variants])

    def _name_coverage(self, i: int, query_terms: set[str]) -> float:
        """Share of the name's IDF mass that the query contains, in [0, 1]."""
        idf = self.bm25.idf
        total = sum(idf(t) for t in self._names[i])
        return sum(idf(t) for t in self._names[i] & query_terms) / total if total else 0.0

    def _rerank_by_name(self, fused: np.ndarray, query_terms: set[str]) -> np.ndarray:
        depth = min(self.settings.rerank_depth, len(fused))
        candidates = np.argpartition(-fused, depth - 1)[:depth]
        reranked = fused.copy()
        for i in candidates:
            reranked[i] += self.settings.name_weight * self._name_coverage(i, query_terms)
        return reranked

    def _abstains(self, best: Hit) -> bool:
        settings = self.settings
        if settings.min_cosine is not None and best.dense < settings.min_cosine:
            return True
        return (
            len(self.procedures) >= settings.min_catalogue_for_z and best.score < settings.min_score
        )
