"""Normaliser: one canonical form for every way a citizen can type a word."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language.text import fold, normalize, place_tone

# (typed, canonical): the traditional placement used by the national catalogue.
TONE_TABLE = [
    ("hoà", "hòa"),
    ("Hoà Bình", "Hòa Bình"),
    ("HOÀ", "HÒA"),
    ("thuỷ", "thủy"),
    ("Thuỵ Điển", "Thụy Điển"),
    ("qúy", "quý"),
    ("quý", "quý"),
    ("uỷ ban", "ủy ban"),
    ("tuỳ", "tùy"),
    ("khoẻ", "khỏe"),
    ("thoả", "thỏa"),
    ("hoá đơn", "hóa đơn"),
    ("luỹ", "lũy"),
    ("toà", "tòa"),
    ("khuỷu", "khuỷu"),
    ("ngoài", "ngoài"),
    ("hoàn", "hoàn"),
    ("người", "người"),
    ("giường", "giường"),
    ("gìn giữ", "gìn giữ"),
    ("quốc", "quốc"),
    ("chuyển", "chuyển"),
    ("Thơì", "Thời"),
    ("mía", "mía"),
    ("múa", "múa"),
    ("giặt", "giặt"),
    ("quạt", "quạt"),
]


@pytest.mark.parametrize(("typed", "canonical"), TONE_TABLE)
def test_tone_placement_table(typed: str, canonical: str) -> None:
    assert normalize(typed) == canonical
    assert normalize(unicodedata.normalize("NFD", typed)) == canonical


@pytest.mark.parametrize("word", ["café", "internet", "COVID", "e-mail", "Zalo"])
def test_non_vietnamese_words_are_left_alone(word: str) -> None:
    assert place_tone(word) == unicodedata.normalize("NFC", word)


def test_invisible_characters_and_spaces() -> None:
    assert normalize("\ufeffđăng\u00ad ký\u200d  kết\u00a0hôn\n\t") == "đăng ký kết hôn"
    assert normalize("a\x00b\x1fc") == "a b c"
    assert normalize("Ðăng ký") == "Đăng ký"  # eth look-alike from scraped pages
    assert normalize("") == ""
    assert normalize("   ") == ""


def test_fold_removes_all_diacritics() -> None:
    assert fold("Đăng ký thường trú ở Hòa Bình") == "Dang ky thuong tru o Hoa Binh"
    assert fold(unicodedata.normalize("NFD", "giấy tờ")) == "giay to"


@given(st.text())
def test_normalize_is_idempotent_and_nfc(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert once == once.strip()
    assert "  " not in once


@given(st.text())
def test_fold_leaves_no_combining_mark(text: str) -> None:
    folded = fold(normalize(text))
    assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", folded))
