"""Which catalogue fields a query's words hit, and where: one reading for search and console.

A field's words are compared with the query's by their folded lower-case form, so "dang ky"
hits "Đăng ký". The search notes which fields each hit touched (`Hit.matched`: a "not found"
suggests only procedures that still share a word of their name); the console also shows
where, on the field with the most words hit (`console.highlight`).
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from functools import lru_cache

from bot.language.text import WORD, fold
from index.catalogue import Procedure

__all__ = ["field_hits", "field_keys", "field_text", "word_key"]


def field_text(procedure: Procedure, field: str) -> str:
    """A field as the catalogue writes it; the papers of the file joined by "; "."""
    if field == "documents":
        return "; ".join(d.name for d in procedure.documents)
    return getattr(procedure, field) or ""


@lru_cache(maxsize=1 << 16)
def word_key(word: str) -> str:
    """What a word is compared by: no accents, lower case. Cached: a catalogue has a few
    thousand distinct words, and the search reads every field of it at start-up."""
    return fold(word).lower()


def _words(text: str) -> Iterator[tuple[str, int, int]]:
    for word in WORD.finditer(text):
        yield word_key(word.group()), word.start(), word.end()


def field_keys(procedure: Procedure, field: str) -> frozenset[str]:
    """Every word of a field, as compared: the search keeps these for each procedure, so
    that telling a hit's matched fields is a set intersection."""
    return frozenset(key for key, _, _ in _words(field_text(procedure, field)))


def field_hits(
    text: str, wanted: Container[str], prefix: str = "", skip: Container[str] = ()
) -> tuple[list[list[int]], set[str]]:
    """Spans of the words of `text` that are `wanted`, or that begin with `prefix` (a word
    still being typed), and which of those (or the prefix) they hit. Words in `skip` never
    count, wanted or not.
    """
    spans: list[list[int]] = []
    hit: set[str] = set()
    for key, start, end in _words(text):
        if key in skip:
            continue
        if key in wanted or (prefix and key.startswith(prefix)):
            spans.append([start, end])
            hit.add(key if key in wanted else prefix)
    return spans, hit
