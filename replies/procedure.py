"""What the bot says about a procedure, from the catalogue only.

Plain functions from a catalogue `Procedure` to short Vietnamese messages,
so they are tested without Rasa. Every answer names the procedure and its
code; a field the catalogue leaves empty is said to be unknown, never
guessed; a message never exceeds MAX_CHARS (long lists go on in a second
message, and beyond that to the portal page).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.catalogue import Channel, Procedure

MAX_CHARS = 1200
# After this many messages, the rest is on the portal page.
MAX_MESSAGES = 3
ASPECTS = ("overview", "documents", "fee", "time", "where", "online")
INTENT_ASPECTS = {
    "ask_procedure": "overview",
    "ask_documents": "documents",
    "ask_fee": "fee",
    "ask_processing_time": "time",
    "ask_where": "where",
    "ask_online": "online",
}
ASPECT_INTENTS = {aspect: intent for intent, aspect in INTENT_ASPECTS.items()}
ASPECT_LABELS = {
    "documents": "Giấy tờ cần nộp",
    "fee": "Lệ phí",
    "time": "Thời gian giải quyết",
    "where": "Nơi nộp",
    "online": "Nộp trực tuyến",
}
ONLINE = "Trực tuyến"
UNKNOWN = "danh mục chưa ghi thông tin này"


_PROCEDURE_WORD = re.compile(r"^thủ tục\s+", re.IGNORECASE)


def name(procedure: Procedure) -> str:
    """The name without a leading "Thủ tục", which every sentence already says
    ("Dạ, thủ tục Đăng ký khai sinh", never "thủ tục Thủ tục đăng ký khai sinh")."""
    rest = _PROCEDURE_WORD.sub("", procedure.name.strip()) or procedure.name
    return rest[:1].upper() + rest[1:]


def short_name(procedure: Procedure, limit: int = 80) -> str:
    """The name cut at a word before `limit` characters (button labels)."""
    return _shorten(name(procedure), limit)


def title(procedure: Procedure) -> str:
    """The procedure as cited in every answer: name and code."""
    return f"{name(procedure)} (mã {procedure.code})"


def _sentence(text: str) -> str:
    """`text` ending in exactly one full stop (catalogue values often end in one)."""
    return text.rstrip(" .;,") + "."


def answer(procedure: Procedure, aspect: str, as_of: str | None = None) -> list[str]:
    """Messages answering `aspect` of `procedure`, each at most MAX_CHARS; an
    overview ends with the catalogue's date (`as_of`, YYYY-MM-DD) when known."""
    if aspect == "overview":
        return split(overview(procedure, as_of=as_of), procedure)
    render = {
        "documents": documents,
        "fee": fees,
        "time": times,
        "where": where,
        "online": online,
    }[aspect]
    return split(render(procedure), procedure)


def overview(procedure: Procedure, buttons: bool = True, as_of: str | None = None) -> str:
    """A short summary for a general question: where, papers, fee, time, online,
    and how fresh the catalogue it came from is.

    Without `buttons` (text a hotline agent copies into a message or reads out)
    the closing pointer to the detail buttons is left out.
    """
    lines = [f"Dạ, thủ tục {title(procedure)}:"]
    lines.append(_sentence(f"- Cơ quan thực hiện: {procedure.agency or UNKNOWN}"))
    if procedure.documents:
        first = "; ".join(_shorten(d.name, 90) for d in procedure.documents[:3])
        more = len(procedure.documents) - 3
        lines.append(
            f"- Hồ sơ gồm {len(procedure.documents)} loại giấy tờ: {first}"
            + (f"; và {more} giấy tờ khác." if more > 0 else ".")
        )
    else:
        lines.append(f"- Hồ sơ: {UNKNOWN}.")
    lines.append(_sentence(f"- Lệ phí: {_summary(procedure.channels, 'fee')}"))
    lines.append(_sentence(f"- Thời gian giải quyết: {_summary(procedure.channels, 'time')}"))
    lines.append(f"- {_online_sentence(procedure)}")
    if buttons:
        lines.append("Anh/chị bấm bên dưới để xem chi tiết từng mục ạ.")
    if as_of:
        # The portal page once per message: the online line may have given it already.
        shown = procedure.url is not None and any(procedure.url in line for line in lines)
        lines.append(freshness(as_of, None if shown else procedure.url or "dichvucong.gov.vn"))
    return "\n".join(lines)


def freshness(as_of: str, where: str | None) -> str:
    """"Theo danh mục thủ tục cập nhật ngày dd/mm/yyyy", and where to check it."""
    year, month, day = as_of.split("-")
    dated = f"Theo danh mục thủ tục cập nhật ngày {day}/{month}/{year}"
    return f"({dated}: {where})" if where else f"({dated})"


def documents(procedure: Procedure) -> str:
    if not procedure.documents:
        return (
            f"Dạ, với thủ tục {title(procedure)}, {UNKNOWN} (thành phần hồ sơ). "
            "Anh/chị vui lòng hỏi cơ quan tiếp nhận hoặc tổng đài ạ."
        )
    lines = [f"Dạ, hồ sơ thủ tục {title(procedure)} gồm:"]
    group = None
    for number, document in enumerate(procedure.documents, 1):
        if document.group and document.group != group:
            group = document.group
            lines.append(f"* {_shorten(group, 160)}")
        quantity = f" ({document.quantity})" if document.quantity else ""
        lines.append(f"{number}. {_shorten(document.name, 300)}{quantity}")
    return "\n".join(lines)


def fees(procedure: Procedure) -> str:
    return f"Dạ, lệ phí thủ tục {title(procedure)}:\n" + _per_channel(procedure.channels, "fee")


def times(procedure: Procedure) -> str:
    return f"Dạ, thời gian giải quyết thủ tục {title(procedure)}:\n" + _per_channel(
        procedure.channels, "time"
    )


def where(procedure: Procedure) -> str:
    lines = [f"Dạ, thủ tục {title(procedure)}:"]
    lines.append(_sentence(f"- Cơ quan thực hiện: {procedure.agency or UNKNOWN}"))
    if procedure.levels:
        lines.append(_sentence(f"- Cấp thực hiện: {', '.join(procedure.levels)}"))
    address = procedure.record.get("address")
    if isinstance(address, str) and address.strip():
        lines.append(f"- Nơi nộp hồ sơ: {_shorten(address, 500)}")
    lines.append(f"- {_online_sentence(procedure)}")
    return "\n".join(lines)


def online(procedure: Procedure) -> str:
    return f"Dạ, thủ tục {title(procedure)}: {_online_sentence(procedure)}"


def _online_sentence(procedure: Procedure) -> str:
    channels = [c.channel for c in procedure.channels]
    if ONLINE in channels:
        where_online = (
            f"trên Cổng Dịch vụ công quốc gia: {procedure.url}"
            if procedure.url
            else "trên Cổng Dịch vụ công quốc gia (dichvucong.gov.vn)"
        )
        return f"Có thể nộp trực tuyến {where_online}"
    if channels:
        others = ", ".join(c.lower() for c in channels)
        return f"Danh mục chưa ghi cách nộp trực tuyến; cách nộp: {others}."
    return f"Cách nộp: {UNKNOWN}."


def _per_channel(channels: Sequence[Channel], field: str) -> str:
    """One line per submission channel, or one line when all channels agree."""
    values = [(c.channel, getattr(c, field)) for c in channels]
    if not values or all(value is None for _, value in values):
        return f"{UNKNOWN[0].upper()}{UNKNOWN[1:]} ạ."
    distinct = {value for _, value in values}
    if len(distinct) == 1:
        return f"{_shorten(values[0][1], 700)} (như nhau ở mọi cách nộp)."
    return "\n".join(
        f"- {channel}: {_shorten(value, 350) if value else UNKNOWN}" for channel, value in values
    )


def _summary(channels: Sequence[Channel], field: str) -> str:
    """The first known value, short, for the overview."""
    for channel in channels:
        value = getattr(channel, field)
        if value:
            suffix = "" if len({getattr(c, field) for c in channels}) == 1 else " (tùy cách nộp)"
            return _shorten(value, 140) + suffix
    return UNKNOWN


def _shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary before `limit` characters, marked with "…"."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def split(text: str, procedure: Procedure) -> list[str]:
    """Line-wise split into messages of at most MAX_CHARS; past MAX_MESSAGES,
    a pointer to the portal page stands in for the rest."""
    messages: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = _shorten(line, MAX_CHARS)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_CHARS:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    if len(messages) > MAX_MESSAGES:
        rest = (
            f"Dạ, phần còn lại anh/chị xem đầy đủ tại: {procedure.url}"
            if procedure.url
            else "Dạ, phần còn lại anh/chị xem trên Cổng Dịch vụ công quốc gia ạ."
        )
        messages = [*messages[: MAX_MESSAGES - 1], rest]
    return messages
