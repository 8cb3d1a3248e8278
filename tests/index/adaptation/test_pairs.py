"""Training pairs made from the catalogue: citizen-like, deterministic, stable."""

from __future__ import annotations

from dataclasses import replace

from bot.language.text import fold
from index.adaptation.pairs import kinds, procedure_pairs, short_name, training_pairs
from index.aliases import Aliases
from index.catalogue import Catalogue


def test_short_name_drops_what_citizens_leave_out() -> None:
    assert short_name("Thủ tục đăng ký kết hôn") == "đăng ký kết hôn"
    assert short_name("Cấp giấy phép xây dựng mới đối với công trình (cấp tỉnh)") == (
        "cấp giấy phép xây dựng mới đối với công trình"
    )
    assert short_name("Đăng ký thường trú tại cấp xã") == "đăng ký thường trú"


def test_every_kind_for_the_mini_catalogue(mini: Catalogue) -> None:
    pairs = training_pairs(mini.procedures)
    counts = kinds(pairs)
    assert {"name", "unaccented", "field", "document", "question"} <= set(counts)
    codes = {p.code for p in pairs}
    assert codes == {p.code for p in mini.procedures}  # every procedure is taught
    queries = [p.query for p in pairs]
    assert "dang ky ket hon" in queries  # typed without accents
    assert "tờ khai đăng ký khai sinh" in queries  # named by the form in hand
    for pair in pairs:  # one query, one procedure: no duplicates within a procedure
        same = [p for p in pairs if p.code == pair.code and p.query.lower() == pair.query.lower()]
        assert len(same) == 1


def test_trimmed_names_lose_their_opening_formula(mini: Catalogue) -> None:
    by_code = mini.by_code()
    pairs = procedure_pairs(by_code["T.000009"], Aliases([]))
    trimmed = [p.query for p in pairs if p.kind == "trimmed"]
    assert trimmed == ["giấy phép xây dựng mới"]  # "cấp" dropped, cut where conditions start


def test_aliases_give_everyday_names(mini: Catalogue) -> None:
    by_code = mini.by_code()
    aliases = Aliases([("bằng lái", "giấy phép lái xe")])
    pairs = procedure_pairs(by_code["T.000004"], aliases)
    assert [p.query for p in pairs if p.kind == "alias"] == [
        "cấp đổi bằng lái"
    ]  # "cấp đổi" is the need itself


def test_deterministic_and_stable_when_the_catalogue_grows(mini: Catalogue) -> None:
    first = training_pairs(mini.procedures, seed=3)
    assert first == training_pairs(mini.procedures, seed=3)
    assert first != training_pairs(mini.procedures, seed=4)  # the seed matters
    extra = replace(mini.procedures[0], code="T.999999", name="Đăng ký nuôi con nuôi")
    grown = training_pairs([extra, *mini.procedures], seed=3)
    assert [p for p in grown if p.code != "T.999999"] == first


def test_questions_are_sometimes_unaccented(mini: Catalogue) -> None:
    questions = [p.query for p in training_pairs(mini.procedures) if p.kind == "question"]
    assert any(q == fold(q) for q in questions) and any(q != fold(q) for q in questions)
