"""Vietnamese text normalisation shared by NLU, search and actions.

Citizens type the same word in several byte forms: precomposed or decomposed
(NFC/NFD) characters, the tone mark on either vowel ("hoà"/"hòa", "thuỷ"/"thủy",
"qúy"/"quý"), invisible zero-width characters pasted from web pages and Zalo,
and runs of spaces or line breaks. Everything that compares text (training,
indexing, querying) must see one form, so every channel calls `normalize`.

`fold` removes all diacritics (and maps đ→d) for the channels that must match
text typed without accents ("lam lai can cuoc"). Everything here is pure
stdlib so that the Rasa server (Python 3.10), the index, the action server
(3.11) and the console import the same code: also how text is cut into
syllables and words, and the function words a question is full of.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "FUNCTION_WORDS",
    "LETTERS",
    "WORD",
    "fold",
    "folded_syllables",
    "normalize",
    "place_tone",
    "syllables",
]

# The five Vietnamese tone marks, as combining characters.
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# Vowels in base form (vowel-quality marks kept, tone removed).
_VOWELS = set("aăâeêioôơuưy")
# Vowels whose quality mark attracts the tone ("người" → on ơ, "tiền" → on ê).
_MARKED_VOWELS = set("ăâêôơư")
_SPACE = re.compile(r"\s+")

# How text is cut into pieces. Each pattern sees different text, and where two would
# cut the same text differently the difference shows in a result, so they stay apart:
# `_TONED_WORD`: letters and the combining marks NFC could not compose, so that
#   `place_tone` sees a whole word even in malformed input;
# `_FOLDED_SYLLABLE` (`folded_syllables`): on folded lower-case text only ASCII is
#   left; letters and digits, so "cấp 2" keeps its "2";
# `_SYLLABLE` (`syllables`): the same on accented text, so "dược" is not "được";
# `LETTERS`: letters only, no digits: what the accent restorer can put accents on
#   (a digit in its bigram model would change the guesses next to it);
# `WORD`: Python's word characters, underscore included: the console highlights
#   words as the catalogue writes them and compares them one by one.
_TONED_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_FOLDED_SYLLABLE = re.compile(r"[a-z0-9]+")
_SYLLABLE = re.compile(r"[^\W_]+")
LETTERS = re.compile(r"[^\W\d_]+")
WORD = re.compile(r"\w+")
# Characters that look like Đ in other scripts (Icelandic eth) → Vietnamese Đ.
_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})


def _split_tone(word: str) -> tuple[list[str], list[str | None]]:
    """Split a word into base letters (NFC, tone removed) and their tone marks."""
    bases: list[str] = []
    tones: list[str | None] = []
    for char in unicodedata.normalize("NFD", word):
        if unicodedata.combining(char) and bases:
            if char in _TONE_MARKS:
                tones[-1] = char
            else:
                bases[-1] = unicodedata.normalize("NFC", bases[-1] + char)
        else:
            bases.append(char)
            tones.append(None)
    return bases, tones


def _tone_position(letters: str) -> int | None:
    """Index of the vowel that carries the tone in the traditional style.

    The traditional ("kiểu cũ") placement is the one used by the national
    catalogue: "hòa", "thủy", "quý", "người", "khuỷu". Returns None when the
    word is not shaped like one Vietnamese syllable (loanwords, acronyms),
    which are then left as they are.
    """
    vowel_idx = [i for i, ch in enumerate(letters) if ch in _VOWELS]
    if not vowel_idx:
        return None
    start, end = vowel_idx[0], vowel_idx[-1] + 1
    if end - start != len(vowel_idx):  # vowels not contiguous: not one syllable
        return None
    # "qu" and "gi" (before another vowel) belong to the initial consonant.
    if end - start > 1 and start == 1 and letters[:2] in ("qu", "gi"):
        start += 1
    cluster = range(start, end)
    marked = [i for i in cluster if letters[i] in _MARKED_VOWELS]
    if marked:
        return marked[-1]
    if len(cluster) == 1 or end < len(letters):  # single vowel, or closed syllable
        return end - 1
    if len(cluster) == 2:
        return start
    if len(cluster) == 3:
        return start + 1
    return None


def place_tone(word: str) -> str:
    """Return `word` (NFC) with its single tone mark on the conventional vowel."""
    bases, tones = _split_tone(word)
    marks = [(i, t) for i, t in enumerate(tones) if t]
    if len(marks) != 1:
        return unicodedata.normalize("NFC", word)
    target = _tone_position("".join(bases).lower())
    if target is None:
        return unicodedata.normalize("NFC", word)
    tone = marks[0][1]
    out = [base + tone if i == target else base for i, base in enumerate(bases)]
    return unicodedata.normalize("NFC", "".join(out))


def _clean_char(char: str) -> str:
    """Map invisible and control characters to nothing or to a space."""
    if char.isspace():
        return " "
    category = unicodedata.category(char)
    if category == "Cf":  # zero-width space/joiners, BOM, soft hyphen
        return ""
    if category in ("Cc", "Cs", "Co", "Cn"):  # controls, lone surrogates, unassigned
        return " "
    return char


def normalize(text: str) -> str:
    """Canonical form of user or catalogue text.

    NFC, one tone-mark placement per syllable, no zero-width or control
    characters, single spaces, no leading or trailing space. Case is kept:
    lower-casing is each consumer's choice. Idempotent.
    """
    if not text:
        return ""
    text = "".join(_clean_char(c) for c in text.translate(_LOOKALIKES))
    text = unicodedata.normalize("NFC", text)
    text = _TONED_WORD.sub(lambda m: place_tone(m.group()), text)
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Remove every diacritic, keeping the letters: "Đăng ký" → "Dang ky"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_syllables(text: str) -> list[str]:
    """Lower-case syllables without accents ("Đăng ký 2 lần" → dang, ky, 2, lan): how the
    search, aliases and the bot compare text typed with or without accents."""
    return _FOLDED_SYLLABLE.findall(fold(normalize(text)).lower())


def syllables(text: str) -> list[str]:
    """Lower-case syllables with their accents ("Đăng ký" → đăng, ký): for rules that must
    not mistake one word for another ("dược" is not "được")."""
    return _SYLLABLE.findall(normalize(text).lower())


# Function words (folded) that say nothing about which procedure a question is
# about: the bot's follow-up test and the console's highlighting both skip them,
# each adding words of its own.
FUNCTION_WORDS = frozenset({
    "cho", "cua", "va", "thi", "la", "gi", "nao", "ko", "khong", "toi", "em", "a", "nhe",
    "vay", "o",
})  # fmt: skip


# Personal data a citizen may type into a question: application codes
# (H12.36-241125-0019, 000.00.20.H12-241118-0007), e-mail addresses, phone numbers
# (0912 345 678, +84 912345678) and ID numbers (12-digit citizen ID, 9-digit old one).
_PERSONAL = (
    (re.compile(r"\b[A-Za-z0-9]+(?:[.\-][A-Za-z0-9]+)*-\d{6}-\d{3,5}\b"), "[mã hồ sơ]"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "[email]"),
    (re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){9,10}(?!\d)"), "[số điện thoại]"),
    (re.compile(r"(?<!\d)\d{12}(?!\d)|(?<!\d)\d{9}(?!\d)"), "[số giấy tờ]"),
)


def mask_personal(text: str) -> str:
    """`text` with application codes, e-mails, phone and ID numbers replaced by
    placeholders: what may be kept of a citizen's question for staff and the
    question bank (the words that tell the procedure stay)."""
    for pattern, placeholder in _PERSONAL:
        text = pattern.sub(placeholder, text)
    return text
