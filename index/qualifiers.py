"""Variant qualifiers: prefer the general procedure over its special siblings.

The catalogue holds families of near-identical names: "Đổi giấy phép lái xe"
and "Đổi giấy phép lái xe ... của người nước ngoài", "Cấp" and "Cấp lại",
the same procedure "(cấp tỉnh)" and "(cấp trung ương)". A citizen who does not
mention what makes a variant special means the general one. `data/
qualifiers.tsv` lists those marking words with the question words that call
for them; the search subtracts a penalty per qualifier a name carries and the
question does not call for.
"""

from __future__ import annotations

from pathlib import Path

from bot.language.text import fold, syllables
from index.tsv import read_tsv

DEFAULT_QUALIFIERS = Path(__file__).parent / "data" / "qualifiers.tsv"


def _padded(text: str) -> str:
    """Lower-case syllables joined by single spaces, padded for whole-syllable search."""
    return " " + " ".join(syllables(text)) + " "


class Qualifiers:
    """Which qualifiers a name carries and which a question calls for.

    Questions are matched without accents: many are typed without them, and
    the accent restorer can guess wrong ("đồi" reads as "đổi": a rare cost).
    """

    def __init__(self, rules: list[tuple[str, list[str]]]) -> None:
        self._names = [_padded(qualifier) for qualifier, _ in rules]
        self._folded = [[fold(_padded(t)) for t in [q, *triggers]] for q, triggers in rules]

    @classmethod
    def load(cls, path: Path | str = DEFAULT_QUALIFIERS) -> Qualifiers:
        """Reads `qualifier<TAB>trigger, trigger, ...` lines; `#` comments skipped. A
        qualifier without triggers is never called for; any further cell continues them."""
        rules = []
        for qualifier, *cells in read_tsv(path, "qualifier"):
            triggers = " ".join(cells).split(",")
            rules.append((qualifier, [t.strip() for t in triggers if t.strip()]))
        return cls(rules)

    def of_name(self, name: str) -> frozenset[int]:
        """Indices of the qualifiers `name` carries."""
        padded = _padded(name)
        return frozenset(i for i, q in enumerate(self._names) if q in padded)

    def called_for(self, query: str) -> frozenset[int]:
        """Indices of the qualifiers the question asks for."""
        folded = fold(_padded(query))
        return frozenset(
            i for i, triggers in enumerate(self._folded) if any(t in folded for t in triggers)
        )
