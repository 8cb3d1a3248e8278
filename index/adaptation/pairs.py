"""Training pairs for adapting the dense channel: how a citizen might name each
procedure, made only from the catalogue and the project's own alias list.

The bundled model knows general Vietnamese; what it lacks is this domain's
naming: citizens drop the bureaucratic words ("thủ tục", "cấp", bracketed
qualifiers), type without accents, name a procedure by the form they hold
("tờ khai đăng ký kết hôn"), say "sổ đỏ" for "giấy chứng nhận quyền sử dụng
đất", and ask questions around the name. Each kind of pair below teaches one
of those habits. Pairs are drawn per procedure from a generator seeded with the
procedure's code, so adding procedures to the catalogue does not reshuffle the
pairs of the others, and two builds of one catalogue are identical.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.language.text import fold, normalize
from index.aliases import Aliases
from index.catalogue import Procedure

__all__ = ["Pair", "short_name", "training_pairs"]

# Words a name opens with that make it official rather than say what it is
# about; citizens mostly leave them out ("cấp giấy phép lái xe" → "giấy phép
# lái xe"). "cấp lại", "cấp đổi" stay: they are the need itself.
_BUREAUCRATIC = re.compile(
    r"^(?:(?:thủ tục|cấp(?! lại| đổi)|đăng ký|giải quyết|thực hiện|đề nghị|việc)\s+)+"
)
# Where a long name's core ends and its conditions begin.
# (Not at commas: names open with lists of actions, "cấp, cấp lại, gia hạn …".)
_CONDITIONS = re.compile(r" đối với | trong trường hợp | trường hợp | theo | trừ | do | thực hiện ")
_BRACKETS = re.compile(r"\([^)]*\)")
_SPACES = re.compile(r"\s+")
# The level a name sometimes ends with: "… cấp tỉnh", "… tại cấp xã".
_LEVEL_TAIL = re.compile(r"\s+(?:tại\s+|ở\s+)?cấp\s+(?:tỉnh|huyện|xã|trung ương|bộ)$")
# Questions citizens wrap around a need; {x} is the shortened name.
_QUESTIONS = (
    "làm {x} cần giấy tờ gì",
    "thủ tục {x} như thế nào",
    "muốn {x} thì nộp ở đâu",
    "{x} mất bao lâu",
    "lệ phí {x} bao nhiêu",
    "{x} có làm online được không",
    "cho hỏi {x}",
    "em cần {x}",
)
# Document names that name the procedure's own form: what a citizen holds.
_FORM = re.compile(r"^(tờ khai|đơn|bản khai|phiếu)\b", re.IGNORECASE)
MAX_WORDS = 14


@dataclass(frozen=True)
class Pair:
    """A citizen-like query for one procedure; `kind` says which habit it teaches."""

    query: str
    code: str
    kind: str


def short_name(name: str) -> str:
    """The name as a citizen would start to say it: no brackets, no "Thủ tục",
    no trailing level, lower case."""
    text = _BRACKETS.sub(" ", normalize(name))
    text = _SPACES.sub(" ", text).strip(" .,;:-")
    text = re.sub(r"^thủ tục\s+", "", text, flags=re.IGNORECASE)
    text = _LEVEL_TAIL.sub("", text.lower())
    return text


def _trimmed(text: str) -> str:
    """`text` without its opening bureaucratic words, when two words are left."""
    trimmed = _BUREAUCRATIC.sub("", text).strip()
    return trimmed if len(trimmed.split()) >= 2 else text


def _clip(text: str, words: int = MAX_WORDS) -> str:
    """At most `words` words, cut where the conditions start when that leaves four."""
    for cut in _CONDITIONS.finditer(text):
        if len(text[: cut.start()].split()) >= 4:
            text = text[: cut.start()]
            break
    return " ".join(text.split()[:words])


def _rng(code: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{code}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _everyday_forms(text: str, aliases: Aliases) -> list[str]:
    """`text` with an official phrase replaced by a citizen's word for it."""
    folded = f" {fold(text).lower()} "
    forms = []
    for alias, expansion in aliases.pairs:
        official = fold(expansion).lower()
        if len(official.split()) >= 2 and f" {official} " in folded:
            start = folded.index(f" {official} ")
            # Cut the same span out of the accented text (folding keeps lengths).
            forms.append(
                _SPACES.sub(" ", f"{text[:start]} {alias} {text[start + len(official) :]}").strip()
            )
    return forms


def _document_query(procedure: Procedure) -> str | None:
    """The procedure's own form ("tờ khai …", "đơn đề nghị …"), if it has one."""
    for document in procedure.documents:
        name = _BRACKETS.sub(" ", normalize(document.name)).strip(" .;:-")
        if _FORM.match(name) and len(name.split()) >= 4 and ":" not in name:
            return _clip(name.lower(), 12)
    return None


def procedure_pairs(
    procedure: Procedure, aliases: Aliases, seed: int = 0, questions: int = 2
) -> list[Pair]:
    """Every kind of pair for one procedure, without duplicates."""
    rng = _rng(procedure.code, seed)
    short = _clip(short_name(procedure.name))
    trimmed = _clip(_trimmed(short), 10)
    candidates: list[tuple[str, str]] = [
        ("name", short),
        ("unaccented", fold(short)),
        ("trimmed", trimmed),
    ]
    if procedure.field:
        field = short_name(procedure.field)
        candidates.append(("field", f"{field} {_clip(trimmed, 6)}"))
    document = _document_query(procedure)
    if document:
        candidates.append(("document", document))
    for form in _everyday_forms(short, aliases)[:2]:
        candidates.append(("alias", _clip(_trimmed(form), 10)))
    for template in rng.sample(_QUESTIONS, k=min(questions, len(_QUESTIONS))):
        question = template.format(x=trimmed)
        candidates.append(("question", fold(question) if rng.random() < 0.35 else question))
    seen: set[str] = set()
    pairs = []
    for kind, query in candidates:
        key = query.lower()
        if query and key not in seen:
            seen.add(key)
            pairs.append(Pair(query, procedure.code, kind))
    return pairs


def training_pairs(
    procedures: Sequence[Procedure], aliases: Aliases | None = None, seed: int = 0
) -> list[Pair]:
    """Pairs for the whole catalogue, in catalogue order (deterministic)."""
    aliases = aliases if aliases is not None else Aliases.load()
    return [pair for p in procedures for pair in procedure_pairs(p, aliases, seed)]


def kinds(pairs: Iterable[Pair]) -> dict[str, int]:
    """How many pairs of each kind: printed by `index adapt`, kept in manifests."""
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.kind] = counts.get(pair.kind, 0) + 1
    return dict(sorted(counts.items()))
