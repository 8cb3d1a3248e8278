"""Restore diacritics to text typed without them, from the catalogue's own text.

"lam lai can cuoc o dau" embeds poorly: the dense model never saw Vietnamese
without accents. A syllable bigram model of the catalogue picks, for each
folded syllable, the accented form that best fits its neighbours (Viterbi).
Syllables the catalogue never wrote stay as typed. The catalogue is formal
text, so the bot's own accented training sentences are added: they teach how
citizens ask ("ở đâu", "cần gì"), which the catalogue never writes.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from bot.language.text import LETTERS, fold, normalize

_START = "<s>"
NLU_DATA = Path(__file__).resolve().parent.parent / "nlu_data" / "nlu"
_EXAMPLE = re.compile(r"^\s+- (.+)$", re.MULTILINE)
_ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def conversational_texts(directory: Path = NLU_DATA) -> list[str]:
    """Accented example sentences of the NLU data (entity markup removed).

    Unaccented examples are left out: they would teach the model that "o dau"
    is a spelling of itself.
    """
    texts = []
    for path in sorted(directory.glob("*.yml")):
        for example in _EXAMPLE.findall(path.read_text(encoding="utf-8")):
            plain = _ENTITY.sub(lambda m: m.group(1) or m.group(2) or "", example)
            if not plain.isascii():
                texts.append(plain)
    return texts


class AccentRestorer:
    """Bigram model over lower-case syllables, keyed by their folded form."""

    def __init__(self, texts: Iterable[str], smoothing: float = 0.1) -> None:
        self._unigrams: Counter[str] = Counter()
        self._bigrams: Counter[tuple[str, str]] = Counter()
        for text in texts:
            previous = _START
            for syllable in LETTERS.findall(normalize(text).lower()):
                self._unigrams[syllable] += 1
                self._bigrams[(previous, syllable)] += 1
                previous = syllable
        self._candidates: dict[str, list[str]] = defaultdict(list)
        for syllable, _ in self._unigrams.most_common():
            self._candidates[fold(syllable)].append(syllable)
        self._total = sum(self._unigrams.values())
        self._smoothing = smoothing

    def _log_p(self, previous: str, syllable: str) -> float:
        unigram = (self._unigrams[syllable] + 1) / (self._total + len(self._unigrams))
        context = self._unigrams[previous] if previous != _START else self._total
        bigram = self._bigrams[(previous, syllable)] / context if context else 0.0
        return math.log((1 - self._smoothing) * bigram + self._smoothing * unigram)

    def restore(self, text: str) -> str:
        """`text` with accents restored where it has none; accented text is returned as is."""
        if not text.isascii():
            return text
        matches = list(LETTERS.finditer(text))
        if not matches:
            return text
        options = [
            self._candidates.get(m.group().lower(), [m.group().lower()])[:6] for m in matches
        ]
        # Viterbi over the lattice of candidate syllables
        best: dict[str, tuple[float, list[str]]] = {_START: (0.0, [])}
        for candidates in options:
            best = {
                candidate: max(
                    (score + self._log_p(previous, candidate), [*path, candidate])
                    for previous, (score, path) in best.items()
                )
                for candidate in candidates
            }
        _, path = max(best.values())
        out, end = [], 0
        for match, restored in zip(matches, path, strict=True):
            typed = match.group()
            out.append(text[end : match.start()])
            out.append(restored.capitalize() if typed[:1].isupper() else restored)
            end = match.end()
        out.append(text[end:])
        return "".join(out)
