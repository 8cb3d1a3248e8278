"""Which catalogue field a search hit matched, and where, for highlighting.

Staff read the highlighted words aloud or check them against what the caller
said, so the spans are words of the field as the catalogue writes it, found
by comparing accent-folded words with the question's (and with its expansion:
"cccd" → "căn cước công dân"). A last word still being typed matches as a prefix.
"""

from __future__ import annotations

import re

from bot.language.text import fold
from index.catalogue import Procedure

__all__ = ["FIELDS", "match"]

# Fields a hit can be shown by, in order of preference on a tie.
FIELDS = {
    "name": "Tên thủ tục",
    "field": "Lĩnh vực",
    "documents": "Thành phần hồ sơ",
    "applicants": "Đối tượng thực hiện",
    "result": "Kết quả",
    "agency": "Cơ quan thực hiện",
}
# Words too common in questions and names to be worth a highlight (folded).
_STOP = frozenset(
    [
        "thu",
        "tuc",
        "cho",
        "cua",
        "va",
        "thi",
        "la",
        "gi",
        "nao",
        "ko",
        "khong",
        "toi",
        "em",
        "a",
        "nhe",
        "vay",
        "o",
    ]
)
_WORD = re.compile(r"\w+")
# Long fields are cut to this many characters around the first match.
WINDOW = 160


def _text(procedure: Procedure, field: str) -> str:
    if field == "documents":
        return "; ".join(d.name for d in procedure.documents)
    return getattr(procedure, field) or ""


def _key(word: str) -> str:
    return fold(word).lower()


def match(procedure: Procedure, query: str, expanded: str = "") -> dict:
    """{"field", "label", "text", "spans": [[start, end], …]} for the best-matching field."""
    typed = [_key(w) for w in _WORD.findall(query)]
    wanted = {w for w in typed + [_key(w) for w in _WORD.findall(expanded)] if w not in _STOP}
    partial = typed[-1] if typed and not query[-1:].isspace() and len(typed[-1]) >= 2 else ""
    best: tuple[int, str, str, list[list[int]]] = (0, "name", procedure.name, [])
    for field in FIELDS:
        text = _text(procedure, field)
        spans, hit = [], set()
        for word in _WORD.finditer(text):
            key = _key(word.group())
            if key in wanted or (partial and key.startswith(partial) and key not in _STOP):
                spans.append([word.start(), word.end()])
                hit.add(key if key in wanted else partial)
        if len(hit) > best[0]:
            best = (len(hit), field, text, spans)
    _, field, text, spans = best
    if len(text) > WINDOW and spans:
        start = max(0, spans[0][0] - 40)
        end = min(len(text), start + WINDOW)
        lead = "…" if start else ""
        shift = start - len(lead)
        text = lead + text[start:end] + ("…" if end < len(text) else "")
        spans = [[s - shift, e - shift] for s, e in spans if s >= start and e <= end]
    elif len(text) > WINDOW:
        text = text[:WINDOW] + "…"
    return {"field": field, "label": FIELDS[field], "text": text, "spans": spans}
