"""Vietnamese word segmentation that keeps offsets into the original message.

Vietnamese writes one syllable per space-separated unit, but a word is often
several syllables ("thủ tục", "căn cước"). underthesea's CRF groups syllables
into words; this module wraps it so that:

* every word carries its real `start`/`end` in the message as typed (NLU entity
  spans and highlighting rely on that), even when the message arrives NFD,
  with zero-width characters, or with the tone mark on another vowel;
* application codes (H12.36-241125-0019), URLs, e-mails, numbers and dates are
  never cut, because underthesea splits them at dots and dashes;
* domain phrases from a user dictionary ("giấy phép lái xe", "sổ đỏ") are one
  word, matched accent-insensitively so that "can cuoc" groups like "căn cước";
* no string makes it raise: if the CRF misbehaves, syllables stand alone.

Syllables are only grouped across a single plain space, so for every word
`normalize(message[start:end]) == word.text.replace("_", " ")`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.language.text import fold, normalize

logger = logging.getLogger(__name__)

DEFAULT_DICTIONARY = Path(__file__).parent / "data" / "domain_words.txt"
# A letter or digit, or a combining mark left in NFD input.
_L = r"(?:[^\W_]|[\u0300-\u036f])"
_UNIT = re.compile(
    rf"""
    (?P<url>(?:https?://|www\.)[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}}])
  | (?P<email>[\w.+-]+@{_L}+(?:\.{_L}+)+)
  | (?P<compound>{_L}+(?:[.\-/:,]{_L}+)+)
  | (?P<word>{_L}+)
  | (?P<symbol>[^\w\s][\u0300-\u036f\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]*)
    """,
    re.VERBOSE,
)
_MAX_PHRASE = 8


@dataclass(frozen=True)
class Word:
    """One word of a message: normalised syllables joined by "_", and its span."""

    text: str
    start: int
    end: int

    @property
    def lemma(self) -> str:
        """Accent-folded lower-case form, so "Căn_cước" and "can_cuoc" meet."""
        return fold(self.text).lower()


@dataclass(frozen=True)
class _Unit:
    text: str  # normalised
    start: int
    end: int
    plain: bool  # a syllable that may join a multi-syllable word


def _key(syllables: Iterable[str]) -> tuple[str, ...]:
    return tuple(fold(s).lower() for s in syllables)


def load_dictionary(path: Path | str | None = DEFAULT_DICTIONARY) -> list[str]:
    """Read domain phrases, one per line; blank lines and "#" comments ignored."""
    if path is None:
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [normalize(line) for line in lines if line.strip() and not line.startswith("#")]


class Segmenter:
    """Splits messages into `Word`s with underthesea plus a domain dictionary."""

    def __init__(self, dictionary: Iterable[str] = ()) -> None:
        self._phrases = {key for key in (_key(p.split()) for p in dictionary) if len(key) > 1}
        self._longest = min(_MAX_PHRASE, max((len(k) for k in self._phrases), default=1))

    def segment(self, message: str) -> list[Word]:
        """All words of `message` in order; punctuation and spaces are dropped."""
        if not isinstance(message, str) or not message:
            return []
        words: list[Word] = []
        for run in self._runs(message, self._units(message)):
            words.extend(self._segment_run(run))
        return words

    @staticmethod
    def _units(message: str) -> list[_Unit]:
        units = []
        for match in _UNIT.finditer(message):
            kind = match.lastgroup
            if kind == "symbol" and not unicodedata.category(match.group()[0]).startswith("S"):
                continue  # punctuation carries no meaning for intents
            if kind == "compound" and not any(c.isdigit() for c in match.group()):
                # "xong.cảm ơn": words glued by punctuation, not a code or a number
                units.extend(
                    _Unit(
                        normalize(m.group()),
                        match.start() + m.start(),
                        match.start() + m.end(),
                        True,
                    )
                    for m in re.finditer(rf"{_L}+", match.group())
                )
                continue
            text = normalize(match.group())
            if text:
                units.append(_Unit(text, match.start(), match.end(), kind == "word"))
        return units

    @staticmethod
    def _runs(message: str, units: list[_Unit]) -> list[list[_Unit]]:
        """Group units into runs that may form words: plain syllables one space apart."""
        runs: list[list[_Unit]] = []
        for unit in units:
            previous = runs[-1][-1] if runs else None
            joinable = (
                previous is not None
                and previous.plain
                and unit.plain
                and message[previous.end : unit.start] == " "
            )
            if joinable:
                runs[-1].append(unit)
            else:
                runs.append([unit])
        return runs

    def _segment_run(self, run: list[_Unit]) -> list[Word]:
        if len(run) == 1:
            return [Word(run[0].text, run[0].start, run[0].end)]
        sizes: list[int] = []
        gap: list[_Unit] = []
        i = 0
        while i < len(run):
            size = self._phrase_at(run, i)
            if size:
                sizes.extend(_crf_sizes(gap))
                gap = []
                sizes.append(size)
                i += size
            else:
                gap.append(run[i])
                i += 1
        sizes.extend(_crf_sizes(gap))
        words, i = [], 0
        for size in sizes:
            part = run[i : i + size]
            words.append(Word("_".join(u.text for u in part), part[0].start, part[-1].end))
            i += size
        return words

    def _phrase_at(self, run: list[_Unit], i: int) -> int:
        """Length of the longest dictionary phrase starting at run[i], or 0."""
        for size in range(min(self._longest, len(run) - i), 1, -1):
            if _key(u.text for u in run[i : i + size]) in self._phrases:
                return size
        return 0


def _crf_sizes(units: list[_Unit]) -> list[int]:
    """Syllable counts of the words underthesea finds in a run of syllables."""
    if len(units) < 2:
        return [1] * len(units)
    from underthesea import word_tokenize  # heavy import: only when needed

    try:
        sizes = [len(w.split()) for w in word_tokenize(" ".join(u.text for u in units))]
    except Exception:  # never let the segmenter take a conversation down
        logger.warning("underthesea failed on a run of %d syllables", len(units), exc_info=True)
        return [1] * len(units)
    if sum(sizes) != len(units) or 0 in sizes:
        logger.debug("underthesea re-split a run; keeping single syllables")
        return [1] * len(units)
    return sizes
