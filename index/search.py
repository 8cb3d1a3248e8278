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
    min_cosine: float | None = None
    min_score: float = 4.0
    min_catalogue_for_z: int = 200

    @classmethod
    def for_model(cls, model_name: str) -> Settings:
        """Defaults for a model; the cosine floor is only known for e5."""
        return cls(min_cosine=0.86 if "e5" in model_name else None)


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
    """Ranked hits; `abstained` means no procedure is a confident match."""

    query: str
    expanded: str
    hits: tuple[Hit, ...]
    abstained: bool


def passage_text(procedure: Procedure) -> str:
    """What the dense channel embeds for a procedure: its name and field."""
    return f"{procedure.name}. {procedure.field or ''}".strip(" .")


def lexical_text(procedure: Procedure) -> str:
    """What BM25 indexes: the name twice (it matters most), field and result."""
    return " ".join(
        [procedure.name, procedure.name, procedure.field or "", (procedure.result or "")[:300]]
    )


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
        lexical = _zscore(self.bm25.scores(expanded))
        dense = self._dense_scores(expanded)
        if mode == "lexical":
            fused = lexical
        elif mode == "dense":
            fused = _zscore(dense)
        else:
            fused = lexical + self.settings.dense_weight * _zscore(dense)
            fused = fused / (1 + self.settings.dense_weight)
        top = np.argsort(-fused)[:k]
        query_terms = set(terms(expanded))
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
        return Result(query, expanded, hits, self._abstains(hits[0]))

    def _abstains(self, best: Hit) -> bool:
        settings = self.settings
        if settings.min_cosine is not None and best.dense < settings.min_cosine:
            return True
        return (
            len(self.procedures) >= settings.min_catalogue_for_z and best.score < settings.min_score
        )
