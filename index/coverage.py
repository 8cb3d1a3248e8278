"""What the catalogue covers, and which ministry serves a need it does not.

The dense channel always finds a nearest procedure, and for "xin giấy phép lao
động cho kỹ sư người Ấn Độ" that is some other permit with confident-looking
scores. A citizen is better served by "this belongs to Bộ Nội vụ and is not in
the catalogue" than by a wrong procedure. `data/coverage.tsv` maps needs, in
citizens' words, to the ministry and field that serve them; a phrase counts
only while no procedure's name or field in *this* catalogue contains it, so
the rule follows the catalogue as it grows (and a small catalogue such as the
seed simply has more needs served elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.language.text import fold, normalize, syllables
from index.catalogue import Procedure
from index.tsv import read_tsv

__all__ = ["Coverage", "Elsewhere"]

DEFAULT_COVERAGE = Path(__file__).parent / "data" / "coverage.tsv"


def _syllables(text: str) -> tuple[str, ...]:
    return tuple(syllables(text))


def _has_diacritics(text: str) -> bool:
    return fold(text) != text


# In the ministry column: the need is a foreign state's business (a visa to go abroad).
FOREIGN = "(nước ngoài)"


@dataclass(frozen=True)
class Elsewhere:
    """A need the catalogue does not serve: the ministry that does (None: not
    an administrative procedure at all), its field, and the words that said so.
    `foreign`: no Vietnamese body serves it, another country's embassy does."""

    ministry: str | None
    field: str
    phrase: str
    foreign: bool = False


class Coverage:
    """Finds needs outside the catalogue in a question, longest phrase first."""

    def __init__(self, rules: Iterable[tuple[str, str, str]], procedures: Iterable[Procedure]):
        covered = [
            " " + " ".join(_syllables(f"{p.name} . {p.field or ''}")) + " " for p in procedures
        ]
        self.ministries = sorted({p.ministry for p in procedures if p.ministry})
        self._accented: dict[tuple[str, ...], Elsewhere] = {}
        self._folded: dict[tuple[str, ...], Elsewhere] = {}
        for phrase, ministry, field in rules:
            key = _syllables(phrase)
            padded = " " + " ".join(key) + " "
            if not key or any(padded in text for text in covered):
                continue  # the catalogue holds procedures about this: search them
            foreign = ministry == FOREIGN
            serving = None if ministry in ("-", FOREIGN) else ministry
            need = Elsewhere(serving, field, phrase, foreign)
            self._accented.setdefault(key, need)
            self._folded.setdefault(tuple(fold(s) for s in key), need)
        self._longest = max((len(k) for k in self._accented), default=0)

    @classmethod
    def load(cls, procedures: Iterable[Procedure], path: Path | str = DEFAULT_COVERAGE):
        """Reads `phrase<TAB>ministry<TAB>field` lines; any other count of cells is a
        ValueError (a need without its ministry would say something false)."""
        rules = [(phrase, ministry, field) for phrase, ministry, field in read_tsv(path, "phrase")]
        return cls(rules, procedures)

    def elsewhere(self, question: str) -> Elsewhere | None:
        """The first uncovered need the question names, if any.

        Accented questions match accented phrases ("dược" is not "được");
        a question typed without any accent matches them folded.
        """
        folded = not _has_diacritics(normalize(question))
        table = self._folded if folded else self._accented
        syllables = _syllables(fold(question) if folded else question)
        for i in range(len(syllables)):
            for size in range(min(self._longest, len(syllables) - i), 0, -1):
                need = table.get(syllables[i : i + size])
                if need is not None:
                    return need
        return None
