"""Variant qualifiers: which a name carries, which a question calls for."""

from index.qualifiers import Qualifiers
from index.search import Searcher

QUALIFIERS = Qualifiers.load()


def test_names_carry_their_qualifiers() -> None:
    assert QUALIFIERS.of_name("Đăng ký khai sinh") == frozenset()
    assert len(QUALIFIERS.of_name("Đăng ký khai sinh có yếu tố nước ngoài")) == 1
    assert len(QUALIFIERS.of_name("Cấp lại thẻ căn cước (thực hiện tại cấp trung ương)")) == 2


def test_questions_call_for_a_qualifier_by_its_triggers_accented_or_not() -> None:
    foreign = QUALIFIERS.of_name("Đăng ký kết hôn có yếu tố nước ngoài")
    assert foreign <= QUALIFIERS.called_for("chồng tôi quốc tịch Hàn Quốc")
    assert foreign <= QUALIFIERS.called_for("dang ky ket hon voi nguoi nuoc ngoai")
    again = QUALIFIERS.of_name("Cấp lại thẻ căn cước")
    assert again <= QUALIFIERS.called_for("mat can cuoc roi")
    assert not again & QUALIFIERS.called_for("làm căn cước lần đầu")


def test_whole_syllables_only() -> None:
    # "lại" must not be found inside another syllable ("lail", "blai").
    again = QUALIFIERS.of_name("Cấp lại thẻ căn cước")
    assert not again & QUALIFIERS.called_for("email blai lail")


def test_the_general_variant_comes_first(mini_searcher: Searcher) -> None:
    plain = mini_searcher.search("đăng ký khai sinh cho con", k=2)
    assert plain.hits[0].procedure.code == "T.000001"
    foreign = mini_searcher.search("đăng ký khai sinh có yếu tố nước ngoài", k=2)
    assert foreign.hits[0].procedure.code == "T.000002"
