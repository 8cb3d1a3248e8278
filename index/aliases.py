"""Everyday names and abbreviations citizens use, mapped to the catalogue's words.

`data/aliases.tsv` holds `alias<TAB>expansion` lines. An alias is matched on
whole syllables without accents ("so do" finds "sổ đỏ"), and its expansion is
appended to the query, so the citizen's own words still count.
"""

from __future__ import annotations

from pathlib import Path

from bot.language.text import folded_syllables, normalize
from index.tsv import read_tsv

DEFAULT_ALIASES = Path(__file__).parent / "data" / "aliases.tsv"


def _key(text: str) -> tuple[str, ...]:
    return tuple(folded_syllables(text))


class Aliases:
    """Longest-match alias expansion over folded syllables.

    `phrases` (aliases and expansions, accented) also teach the accent
    restorer how citizens write: "mất sổ đỏ", not "mặt sơ đồ".
    """

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = [(normalize(alias), normalize(expansion)) for alias, expansion in pairs]
        self.phrases = [normalize(text) for pair in pairs for text in pair]
        self._expansions: dict[tuple[str, ...], list[str]] = {}
        for alias, expansion in pairs:
            key = _key(alias)
            if key:
                self._expansions.setdefault(key, []).append(normalize(expansion))
        self._longest = max((len(k) for k in self._expansions), default=0)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_ALIASES) -> Aliases:
        """Reads the TSV; a header line `alias<TAB>expansion` and `#` comments are skipped,
        and so is an alias without an expansion. Any further cell continues the expansion."""
        pairs = []
        for alias, *expansion in read_tsv(path, "alias"):
            if any(expansion):
                pairs.append((alias, " ".join(expansion)))
        return cls(pairs)

    def matches(self, text: str) -> list[tuple[str, ...]]:
        """Aliases found in `text`, longest first at each position, no overlaps."""
        syllables = _key(text)
        found, i = [], 0
        while i < len(syllables):
            for size in range(min(self._longest, len(syllables) - i), 0, -1):
                key = syllables[i : i + size]
                if key in self._expansions:
                    found.append(key)
                    i += size
                    break
            else:
                i += 1
        return found

    def expansions(self, text: str) -> list[str]:
        """The catalogue's words for the aliases `text` contains, each once."""
        extra: list[str] = []
        for key in self.matches(text):
            extra.extend(e for e in self._expansions[key] if e not in extra)
        return extra

    def expand(self, text: str) -> str:
        """`text` followed by the expansions of the aliases it contains."""
        return " ".join([text, *self.expansions(text)])
