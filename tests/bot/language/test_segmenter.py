"""Word segmentation: grouping, atomic codes, and offsets into the message as typed."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language.segmenter import Segmenter, load_dictionary
from bot.language.text import normalize

SEGMENTER = Segmenter(load_dictionary())

SYLLABLES = [
    "thủ",
    "tục",
    "căn",
    "cước",
    "công",
    "dân",
    "làm",
    "lại",
    "ở",
    "đâu",
    "giấy",
    "phép",
    "lái",
    "xe",
    "hộ",
    "kinh",
    "doanh",
    "đăng",
    "ký",
    "khai",
    "sinh",
    "cho",
    "con",
    "lệ",
    "phí",
    "bao",
    "nhiêu",
    "hòa",
    "thủy",
    "quý",
    "người",
    "sổ",
    "đỏ",
    "can",
    "cuoc",
    "lam",
    "lai",
    "o",
    "dau",
    "cccd",
    "gplx",
    "ko",
    "dc",
    "j",
    "Hà",
    "Nội",
]
SPECIALS = [
    "H12.36-241125-0019",
    "000.00.20.H12-241118-0007",
    "12/10/2024",
    "1.000.000",
    "50,000",
    "7:30",
    "https://dichvucong.gov.vn/p/home",
    "a.b@gmail.com",
    "😀",
    "👍🏽",
    "2024",
    "50k",
]
SEPARATORS = [" ", " ", " ", ", ", ". ", "? ", "  ", "\n", " - ", "!"]


def words(message: str) -> list[tuple[str, str]]:
    return [(w.text, message[w.start : w.end]) for w in SEGMENTER.segment(message)]


def test_multi_syllable_words_keep_real_spans() -> None:
    message = "Tôi muốn làm lại căn cước công dân ở đâu?"
    assert ("căn_cước_công_dân", "căn cước công dân") in words(message)
    assert [t for t, _ in words("thủ tục đăng ký khai sinh cho con")] == [
        "thủ_tục",
        "đăng_ký",
        "khai_sinh",
        "cho",
        "con",
    ]


def test_domain_dictionary_matches_without_accents() -> None:
    texts = [t for t, _ in words("lam lai can cuoc o dau")]
    assert "can_cuoc" in texts
    assert "giay_phep_lai_xe" in [t for t, _ in words("doi giay phep lai xe")]


@pytest.mark.parametrize("special", SPECIALS)
def test_codes_numbers_urls_and_emoji_stay_whole(special: str) -> None:
    message = f"tra cứu {special} giúp em"
    assert (special, special) in words(message)


def test_no_grouping_across_punctuation_or_line_breaks() -> None:
    assert "thủ_tục" not in [t for t, _ in words("thủ, tục")]
    assert "thủ_tục" not in [t for t, _ in words("thủ\ntục")]
    assert "thủ_tục" not in [t for t, _ in words("thủ  tục")]


def test_words_are_normalised_but_spans_point_at_the_original() -> None:
    message = unicodedata.normalize("NFD", "hoà giải ở xã") + "\u200b"
    found = SEGMENTER.segment(message)
    assert found[0].text in ("hòa_giải", "hòa")
    assert normalize(message[found[0].start : found[0].end]).replace(" ", "_") == found[0].text
    assert found[0].lemma in ("hoa_giai", "hoa")


@pytest.mark.parametrize(
    "message", ["", " ", "...", "<b>xin chào</b>", "😀😀😀", "a" * 10_000, "đ" * 3 + "\x00"]
)
def test_odd_messages_never_raise(message: str) -> None:
    for word in SEGMENTER.segment(message):
        assert 0 <= word.start < word.end <= len(message)


vietnamese_message = st.lists(
    st.tuples(st.sampled_from(SYLLABLES + SPECIALS), st.sampled_from(SEPARATORS)),
    min_size=1,
    max_size=25,
).map(lambda parts: "".join(token + sep for token, sep in parts))


@settings(max_examples=300, deadline=None)
@given(vietnamese_message)
def test_offsets_on_vietnamese_messages(message: str) -> None:
    """message[start:end] is exactly the token's syllables joined by spaces."""
    previous_end = 0
    for word in SEGMENTER.segment(message):
        assert message[word.start : word.end] == word.text.replace("_", " ")
        assert word.start >= previous_end
        previous_end = word.end


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_offsets_on_any_string(message: str) -> None:
    previous_end = 0
    for word in SEGMENTER.segment(message):
        assert word.start >= previous_end and word.end > word.start
        assert normalize(message[word.start : word.end]).replace(" ", "_") == word.text
        previous_end = word.end
