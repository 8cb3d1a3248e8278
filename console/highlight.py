"""Which catalogue field a search hit matched, and where, for highlighting.

Staff read the highlighted words aloud or check them against what the caller
said, so the spans are words of the field as the catalogue writes it, found
by comparing accent-folded words with the question's (and with its expansion:
"cccd" → "căn cước công dân"). A last word still being typed matches as a prefix.
"""

from __future__ import annotations

from bot.language.text import FUNCTION_WORDS, WORD
from index.catalogue import Procedure
from index.fields import field_hits, field_text, word_key

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
# Words too common in questions and names to be worth a highlight (folded): every name
# says "thủ tục".
_STOP = FUNCTION_WORDS | {"thu", "tuc"}
# Long fields are cut to this many characters around the first match.
WINDOW = 160


def match(procedure: Procedure, query: str, expanded: str = "") -> dict:
    """{"field", "label", "text", "spans": [[start, end], …]} for the best-matching field."""
    typed = [word_key(w) for w in WORD.findall(query)]
    wanted = {*typed, *(word_key(w) for w in WORD.findall(expanded))}
    partial = typed[-1] if typed and not query[-1:].isspace() and len(typed[-1]) >= 2 else ""
    best: tuple[int, str, str, list[list[int]]] = (0, "name", procedure.name, [])
    for field in FIELDS:
        text = field_text(procedure, field)
        spans, hit = field_hits(text, wanted, partial, skip=_STOP)
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
