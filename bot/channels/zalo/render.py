"""Rasa replies as Zalo text messages, and numeric replies back to buttons.

A Zalo OA customer-service message is plain text of at most 2,000 characters:
no buttons. So buttons become a numbered list under the text, and a citizen
who answers "2" (or "số 2") gets the second button's payload sent to Rasa,
exactly as a click in the web widget would. Numbers run on across the
messages of one bot turn, so each number shown is unique.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.language.text import fold

__all__ = ["MAX_CHARS", "number_buttons", "pick", "split"]

MAX_CHARS = 2000
_PICK = re.compile(r"^\s*(?:so|chon|lua chon)?\s*(\d{1,2})\s*[.)!]?\s*$")
_NUMBERED = re.compile(r"^\d{1,2}[.)]\s+")
# Where a message may be cut, best first: a line break, a sentence end, a
# clause end, a space.
_BREAKS = tuple(re.compile(p) for p in (r"\n", r"(?<=[.!?…])\s", r"(?<=[:;,])\s", r"\s"))


def number_buttons(text: str, buttons: Sequence[dict], start: int = 1) -> tuple[str, list[str]]:
    """`text` with its buttons listed as "start. title", …; returns the payloads in order.

    Options the text already numbers itself (a "1. …" line per button, as the
    "which procedure?" question has) are not listed twice.
    """
    titles = [_NUMBERED.sub("", str(b.get("title", ""))).strip() for b in buttons]
    payloads = [str(b.get("payload") or b.get("title", "")) for b in buttons]
    lines = text.splitlines()
    already = start == 1 and all(
        any(line.startswith(f"{i}. ") for line in lines) for i in range(1, len(buttons) + 1)
    )
    if buttons and not already:
        listed = "\n".join(f"{start + i}. {title}" for i, title in enumerate(titles))
        text = f"{text}\n\n(Anh/chị nhắn số để chọn)\n{listed}"
    return text, payloads


def pick(reply: str, payloads: Sequence[str]) -> str | None:
    """The payload a numeric reply ("2", "số 2", "2.") stands for; None otherwise."""
    match = _PICK.match(fold(reply.lower()))
    if not match:
        return None
    index = int(match.group(1)) - 1
    return payloads[index] if 0 <= index < len(payloads) else None


def split(text: str, limit: int = MAX_CHARS) -> list[str]:
    """`text` in parts of at most `limit` characters, cut where a reader pauses."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = 0
        for pattern in _BREAKS:
            ends = [m.start() for m in pattern.finditer(window) if m.start() > limit // 2]
            if ends:
                cut = ends[-1]
                break
        if not cut:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
