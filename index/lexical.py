"""BM25 over accent-folded syllables and syllable bigrams.

Folding makes "lam lai can cuoc" and "làm lại căn cước" the same query.
Adjacent-syllable bigrams stand in for Vietnamese words ("can cuoc",
"khai sinh"): they match whatever segmentation the query would get, which
matters for unaccented text where a word segmenter guesses badly.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from bot.language.text import folded_syllables


def terms(text: str) -> list[str]:
    """Folded syllables of `text` followed by its syllable bigrams."""
    syllables = folded_syllables(text)
    return syllables + [f"{a}_{b}" for a, b in itertools.pairwise(syllables)]


class BM25:
    """Okapi BM25 with an inverted index; scores every document of a query at once."""

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.size = len(documents)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = np.zeros(self.size, dtype=np.float32)
        for doc_id, text in enumerate(documents):
            counts = Counter(terms(text))
            lengths[doc_id] = sum(counts.values())
            for term, tf in counts.items():
                postings[term].append((doc_id, tf))
        average = float(lengths.mean()) if self.size else 1.0
        norm = k1 * (1 - b + b * lengths / max(average, 1e-9))
        # Each posting keeps its whole contribution, idf · tf·(k1+1)/(tf+norm): a query
        # then costs one multiply-add per posting.
        self._postings = {}
        for term, plist in postings.items():
            doc_ids = np.array([d for d, _ in plist], dtype=np.int32)
            tfs = np.array([tf for _, tf in plist], dtype=np.float32)
            idf = math.log(1 + (self.size - len(plist) + 0.5) / (len(plist) + 0.5))
            contributions = idf * tfs * (k1 + 1) / (tfs + norm[doc_ids])
            self._postings[term] = (doc_ids, contributions.astype(np.float32), idf)

    def own_scores(self) -> np.ndarray:
        """Each document's score for itself as a query (each of its terms once)."""
        result = np.zeros(self.size, dtype=np.float32)
        for doc_ids, contributions, _ in self._postings.values():
            result[doc_ids] += contributions
        return result

    def idf(self, term: str) -> float:
        """Inverse document frequency; 0 for a term no document has."""
        entry = self._postings.get(term)
        return entry[2] if entry else 0.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (zeros where nothing matches)."""
        return self.scores_for_terms(set(terms(query)))

    def scores_for_terms(self, query_terms: Mapping[str, float] | set[str]) -> np.ndarray:
        """As `scores`, for a query already split into terms (callers reuse them).

        A mapping weighs each term: words a citizen typed count fully, words an alias
        added on their behalf count less (`index.query`).
        """
        weights = (
            query_terms if isinstance(query_terms, Mapping) else dict.fromkeys(query_terms, 1.0)
        )
        result = np.zeros(self.size, dtype=np.float32)
        for term, weight in weights.items():
            entry = self._postings.get(term)
            if entry is None:
                continue
            doc_ids, contributions, _ = entry
            result[doc_ids] += weight * contributions
        return result


class TermShare:
    """For each document, the share of its IDF mass that a query holds (1.0: all of it).

    What the name re-rank asks of every candidate: how much of "Xóa đăng ký tạm trú" did
    the citizen say? Kept as postings, so a query costs one multiply-add per posting.
    """

    def __init__(self, documents: Sequence[Iterable[str]], idf: Callable[[str], float]) -> None:
        self.size = len(documents)
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, document in enumerate(documents):
            weights = {term: idf(term) for term in set(document)}
            mass = sum(weights.values())
            for term, weight in weights.items():
                if mass > 0 and weight > 0:
                    postings[term].append((doc_id, weight / mass))
        self._postings = {
            term: (
                np.array([d for d, _ in plist], dtype=np.int32),
                np.array([s for _, s in plist], dtype=np.float32),
            )
            for term, plist in postings.items()
        }

    def scores(self, query_terms: Mapping[str, float]) -> np.ndarray:
        """Every document's share, each query term counted at its weight."""
        result = np.zeros(self.size, dtype=np.float32)
        for term, weight in query_terms.items():
            entry = self._postings.get(term)
            if entry is not None:
                result[entry[0]] += weight * entry[1]
        return result
