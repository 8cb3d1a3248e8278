"""Lexical terms, accent restoration and alias expansion."""

from index.accents import AccentRestorer
from index.aliases import Aliases
from index.lexical import BM25, terms


def test_terms_fold_accents_and_add_bigrams() -> None:
    assert terms("Căn cước") == ["can", "cuoc", "can_cuoc"]
    assert terms("can cuoc") == terms("CĂN CƯỚC")


def test_bm25_is_accent_insensitive_and_prefers_the_phrase() -> None:
    bm25 = BM25(["đăng ký khai sinh", "đăng ký kết hôn", "khai tử và đăng ký lại"])
    scores = bm25.scores("dang ky khai sinh")
    assert scores.argmax() == 0
    assert (bm25.scores("xyz qqq") == 0).all()


def test_accents_are_restored_from_context() -> None:
    restorer = AccentRestorer(
        ["đăng ký khai sinh cho con", "cấp lại thẻ căn cước", "làm ở đâu", "con đường"]
    )
    assert restorer.restore("dang ky khai sinh cho con o dau") == "đăng ký khai sinh cho con ở đâu"
    assert restorer.restore("Cap lai can cuoc, xyz!") == "Cấp lại căn cước, xyz!"
    assert restorer.restore("đã có dấu") == "đã có dấu"


def test_aliases_expand_without_accents_longest_first() -> None:
    aliases = Aliases(
        [
            ("sổ đỏ", "giấy chứng nhận quyền sử dụng đất"),
            ("mất sổ đỏ", "cấp lại giấy chứng nhận"),
            ("cccd", "căn cước"),
        ]
    )
    assert aliases.expand("lam lai so do") == "lam lai so do giấy chứng nhận quyền sử dụng đất"
    assert aliases.expand("bị mất sổ đỏ") == "bị mất sổ đỏ cấp lại giấy chứng nhận"
    assert aliases.expand("đổi CCCD") == "đổi CCCD căn cước"
    assert aliases.expand("không có gì") == "không có gì"


def test_bundled_alias_file_loads() -> None:
    aliases = Aliases.load()
    assert "căn cước" in aliases.expand("lam lai cccd")
