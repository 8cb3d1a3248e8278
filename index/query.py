"""A citizen's message prepared once for every channel of the search.

Preparing is normalising (NFC, one tone-mark placement), restoring accents to text typed
without any, and adding the catalogue's words for everyday names and abbreviations ("sổ đỏ"
adds "giấy chứng nhận quyền sử dụng đất"). The result is passed on whole: BM25 and the name
re-rank read its weighted terms, the dense channel its expanded text, the question bank both.

Words an alias adds count less than the citizen's own (`expansion_weight`): an alias of a
word mentioned in passing ("… tôi xin qua VNeID …") must not outweigh what the question is
about, while an everyday name the question is about still brings in the official words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from index.lexical import terms


@dataclass(frozen=True)
class Query:
    """The text both channels see, and its terms with their weights."""

    raw: str
    text: str
    expansions: tuple[str, ...]
    terms: Mapping[str, float]

    @property
    def expanded(self) -> str:
        """The citizen's words (accents restored) followed by the aliases' expansions."""
        return " ".join([self.text, *self.expansions])

    @property
    def words(self) -> frozenset[str]:
        """Every term, whatever its weight (which catalogue fields the query touches)."""
        return frozenset(self.terms)


def weighted_terms(
    text: str, expansions: tuple[str, ...], expansion_weight: float
) -> dict[str, float]:
    """Folded syllables and bigrams: 1.0 for the citizen's own, `expansion_weight` for the
    ones only an expansion brought (bigrams across the seam between the two are dropped)."""
    weights = dict.fromkeys(terms(text), 1.0)
    for expansion in expansions:
        for term in terms(expansion):
            weights.setdefault(term, expansion_weight)
    return weights
