"""Needs the catalogue does not serve are recognised, with the ministry that does."""

from __future__ import annotations

from dataclasses import replace

from index.catalogue import Catalogue
from index.coverage import Coverage
from index.search import Searcher

RULES = [
    ("giấy phép lao động", "Bộ Nội vụ", "việc làm"),
    ("chuyển trường", "Bộ Giáo dục và Đào tạo", "giáo dục"),
    ("thuốc tây", "Bộ Y tế", "dược"),
    ("kết hôn", "Bộ Tư pháp", "hộ tịch"),  # covered by the mini catalogue
    ("thời tiết", "-", "thời tiết"),
]


def test_a_need_served_elsewhere(mini: Catalogue) -> None:
    coverage = Coverage(RULES, mini.procedures)
    need = coverage.elsewhere("Công ty tôi cần xin giấy phép lao động cho kỹ sư nước ngoài")
    assert need is not None and need.ministry == "Bộ Nội vụ" and need.field == "việc làm"
    unaccented = coverage.elsewhere("thu tuc chuyen truong cho con")
    assert unaccented is not None and unaccented.ministry == "Bộ Giáo dục và Đào tạo"
    weather = coverage.elsewhere("thời tiết mai thế nào")
    assert weather is not None and weather.ministry is None  # not a procedure at all


def test_covered_needs_and_accents_are_respected(mini: Catalogue) -> None:
    coverage = Coverage(RULES, mini.procedures)
    assert coverage.elsewhere("đăng ký kết hôn ở đâu") is None  # the catalogue has it
    assert coverage.elsewhere("đăng ký khai sinh") is None
    # With accents, "thuốc tây" is not "thuộc tây"; without, it is read folded.
    assert coverage.elsewhere("việc này thuộc tây hay đông") is None
    assert coverage.elsewhere("ban thuoc tay can giay phep gi").ministry == "Bộ Y tế"


def test_a_growing_catalogue_takes_the_need_over(mini: Catalogue) -> None:
    permit = replace(mini.procedures[0], code="T.900001", name="Cấp giấy phép lao động")
    coverage = Coverage(RULES, [*mini.procedures, permit])
    assert coverage.elsewhere("xin giấy phép lao động") is None


def test_the_search_abstains_and_says_where(mini_searcher: Searcher) -> None:
    result = mini_searcher.search("con tôi cần chuyển trường tiểu học thì làm thế nào")
    assert result.abstained and result.elsewhere is not None
    assert result.elsewhere.ministry == "Bộ Giáo dục và Đào tạo"
    covered = mini_searcher.search("đăng ký kết hôn cần giấy tờ gì")
    assert not covered.abstained and covered.elsewhere is None
    assert covered.hits[0].procedure.code == "T.000003"
