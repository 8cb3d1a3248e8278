"""Deciding which procedure a message is about, and what to answer.

`decide()` is a plain function over a Searcher: the Rasa actions in
`actions/answering.py` only read the tracker, call it and say the result.
It keeps a conversation's procedure in context for follow-ups ("thế lệ phí
bao nhiêu?") and replaces it when the message names another procedure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.language.text import FUNCTION_WORDS, folded_syllables
from index.catalogue import Procedure
from index.coverage import Elsewhere
from index.search import Result, Searcher, nearly_repeat

# Words that ask about an aspect or are conversational filler: a message made
# only of these ("còn làm ở đâu?", "nop online duoc ko") is a follow-up about
# the procedure in context, not a new one. Folded; phrases before syllables.
_ASPECT_PHRASES = (
    "ho so", "giay to", "thoi gian", "le phi", "chi phi", "truc tuyen", "bao nhieu",
    "bao lau", "o dau", "the nao", "nhu nao", "duoc khong", "co phai", "mat bao",
    "nop o", "lam o", "cho hoi", "xin hoi", "thu tuc", "thu tuc nay", "cai nay",
    "qua mang", "dich vu cong", "bao gio", "may ngay", "can gi", "gom nhung",
    "nhung gi", "giay gi", "phai mang", "nop truc tiep", "buu dien", "buu chinh",
)  # fmt: skip
# Filler: the shared function words, plus chat words and the words of aspects alone.
_FILLER = FUNCTION_WORDS | {
    "the", "con", "ma", "co", "duoc", "k", "kg", "hok", "ah", "nha", "nhi", "oi", "ha",
    "minh", "anh", "chi", "ban", "ad", "admin", "ak", "vs", "voi", "nua", "roi", "gio", "bay",
    "nay", "lam", "nop", "online", "mat", "tien", "phi", "j", "sao", "dau", "can", "phai",
    "mang", "gom", "nhung", "ngay", "lau", "tuan", "thang", "bao", "nhieu", "may", "het", "tot",
    "ok", "uh", "um", "vang", "da", "du",
}  # fmt: skip
# A message splits into two procedure questions at these words.
_CONNECTORS = re.compile(r"\s+(?:và|với|hoặc|rồi|cùng với|còn)\s+|[;]", re.IGNORECASE)
# Related procedures offered under an answer: hits this close to the best.
RELATED_MARGIN = 2.5
MAX_RELATED = 3
MAX_CHOICES = 4
MIN_CONTENT = 2


@dataclass(frozen=True)
class Decision:
    """What to do with a message.

    kind: "answer" (procedure, aspect; `related` offered as buttons, `second`
    when the message asked about two procedures), "choose" (ask which of
    `choices`), "not_found" (`related` are the closest, if any; `elsewhere`
    when the need belongs to a ministry the catalogue does not cover),
    "ask_which" (a follow-up with no procedure in context).
    """

    kind: str
    aspect: str
    procedure: Procedure | None = None
    choices: tuple[Procedure, ...] = ()
    related: tuple[Procedure, ...] = ()
    second: Procedure | None = None
    query: str = field(default="", compare=False)
    elsewhere: Elsewhere | None = None
    # The procedure came from the conversation (a follow-up, a button), not a search.
    from_context: bool = False


def content_syllables(text: str) -> list[str]:
    """Syllables of `text` that are neither aspect words nor filler."""
    folded = " " + " ".join(folded_syllables(text)) + " "
    for phrase in _ASPECT_PHRASES:
        folded = folded.replace(f" {phrase} ", " ")
    return [s for s in folded.split() if s not in _FILLER and not s.isdigit()]


def decide(
    searcher: Searcher,
    text: str,
    aspect: str,
    context_code: str | None = None,
    chosen_code: str | None = None,
) -> Decision:
    """What to answer for `text`, asking about `aspect`.

    `chosen_code` comes from a button (a payload entity) and wins when it is
    a real catalogue code; a tampered one is ignored. `context_code` is the
    procedure already under discussion.
    """
    by_code = searcher.by_code
    if chosen_code and chosen_code in by_code:
        return Decision("answer", aspect, by_code[chosen_code], query=text, from_context=True)
    context = by_code.get(context_code or "")
    is_payload = text.lstrip().startswith("/")
    content = [] if is_payload else content_syllables(text)
    if len(content) < MIN_CONTENT:
        if context:
            return Decision("answer", aspect, context, query=text, from_context=True)
        if is_payload or not content:
            return Decision("ask_which", aspect, query=text)
    result = searcher.search(text, k=10)
    if result.abstained:
        if context and len(content) < MIN_CONTENT + 1:
            return Decision("answer", aspect, context, query=text, from_context=True)
        if result.elsewhere is not None:  # no near-miss suggestions: they would be wrong
            return Decision("not_found", aspect, query=text, elsewhere=result.elsewhere)
        return Decision("not_found", aspect, related=_closest(result), query=text)
    if result.ambiguous:
        choices = tuple(h.procedure for h in result.choices[:MAX_CHOICES])
        if context and context in choices:
            return Decision("answer", aspect, context, query=text, from_context=True)
        return Decision("choose", aspect, choices=choices, query=text)
    best = result.hits[0].procedure
    return Decision(
        "answer",
        aspect,
        best,
        related=_related(result),
        second=_second_procedure(searcher, text, best),
        query=text,
    )


def _related(result: Result) -> tuple[Procedure, ...]:
    best = result.hits[0]
    return tuple(h.procedure for h in result.hits[1:] if best.score - h.score <= RELATED_MARGIN)[
        :MAX_RELATED
    ]


def _closest(result: Result) -> tuple[Procedure, ...]:
    """Suggestions under a "not found": only hits that still share a name word."""
    return tuple(h.procedure for h in result.hits[:3] if "name" in h.matched)


def _second_procedure(searcher: Searcher, text: str, best: Procedure) -> Procedure | None:
    """The other procedure when a message asks about two ("khai sinh và kết hôn")."""
    parts = [p for p in _CONNECTORS.split(text) if len(content_syllables(p)) >= MIN_CONTENT]
    if len(parts) < 2:
        return None
    found = []
    for part in parts[:3]:
        result = searcher.search(part, k=1)
        if not result.abstained:
            found.append(result.hits[0].procedure)
    share = searcher.settings.variant_overlap
    others = [p for p in found if p.code != best.code and not _same_family(p, best, share)]
    return others[0] if others and best in found else None


def _same_family(a: Procedure, b: Procedure, share: float) -> bool:
    """Whether two names are variants of one procedure, as the search's re-rank tells them,
    but over every word of the names: a bracketed "(cấp tỉnh)" counts here."""
    return nearly_repeat(set(a.name.lower().split()), set(b.name.lower().split()), share)


# Replies that say none of the offered procedures is meant (folded, whole message).
_NONE_OF_THEM = re.compile(
    r"(?:khong|ko|k|kg|hong|deu khong|cung khong)\s*(?:phai|dung)(?:\s*(?:ca|het|roi|a|nha|nhe))*"
    r"|(?:cai |thu tuc |viec )?khac(?: a| nha| nhe)?|khong co(?: cai nao)?(?: a)?"
    r"|khong phai cai nao(?: ca)?(?: a)?|kp|ko co"
)
_ORDINALS = {"mot": 1, "nhat": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
# A reply chooses by its words only when at least this share of its content words
# belong to one option alone ("nước ngoài"), never by a word or two in passing.
CHOICE_WORDS_SHARE = 0.6


def none_of_them(text: str) -> bool:
    """Whether a reply to "which one?" says none of the offered ones is meant."""
    folded = " ".join(folded_syllables(text))
    return bool(_NONE_OF_THEM.fullmatch(folded))


def option_number(text: str) -> int | None:
    """The number a reply picks: "2", "số 2", "cái thứ hai", "chọn 3 nhé"; else None."""
    stripped = " ".join(folded_syllables(text))
    number = re.fullmatch(
        r"(?:(?:la|chon|lay|em chon|toi chon|minh chon)\s+)?(?:so|thu|cai|cai thu|lua chon|muc)?"
        r"\s*(\d|mot|nhat|hai|ba|bon|tu|nam)(?:\s+(?:a|nha|nhe|nhe a|di))?",
        stripped,
    )
    if not number:
        return None
    token = number.group(1)
    return int(token) if token.isdigit() else _ORDINALS[token]


def pick_choice(text: str, choices: list[Procedure], chosen_code: str | None) -> Procedure | None:
    """Which offered procedure a reply means: a button, "1".."4" ("số 2", "cái thứ
    hai"), or words that tell it apart from the others.

    Words count only when they belong to one choice and no other ("nước ngoài" picks
    the foreign variant) and make most of what the reply says: "cho tôi gặp nhân
    viên" shares "nhân" with a name, but it is a request, not a choice. Filler and
    function words ("cho", "thì", "ạ") never count.
    """
    if chosen_code:
        return next((p for p in choices if p.code == chosen_code), None)
    number = option_number(text)
    if number is not None:
        return choices[number - 1] if 1 <= number <= len(choices) else None
    said = set(content_syllables(text))
    if not said:
        return None
    names = [set(folded_syllables(choice.name)) for choice in choices]
    scores = []
    for own in names:
        others = set().union(*(n for n in names if n is not own))
        scores.append(len(said & (own - others)))
    best = max(scores)
    if best == 0 or scores.count(best) > 1 or best / len(said) < CHOICE_WORDS_SHARE:
        return None
    return choices[scores.index(best)]
