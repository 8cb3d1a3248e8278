"""Which procedure a message is about: context, switches, variants, bad input."""

from __future__ import annotations

import pytest

from actions.answering import elsewhere_text
from actions.guidance import content_syllables, decide, none_of_them, pick_choice
from index.catalogue import Procedure
from index.search import Searcher


def _proc(code: str, name: str) -> Procedure:
    return Procedure(code, name, None, None, ("Cấp xã",), None, None, None, None, (), (), {})


def test_a_question_is_answered_with_its_procedure(search: Searcher) -> None:
    decision = decide(search, "lệ phí đăng ký kết hôn bao nhiêu", "fee")
    assert (decision.kind, decision.procedure.code, decision.aspect) == (
        "answer",
        "T.000003",
        "fee",
    )


@pytest.mark.parametrize(
    "follow_up",
    ["thế lệ phí bao nhiêu?", "nộp online được không?", "còn làm ở đâu?", "the le phi bn"],
)
def test_follow_ups_use_the_procedure_in_context(search: Searcher, follow_up: str) -> None:
    decision = decide(search, follow_up, "fee", context_code="T.000003")
    assert (decision.kind, decision.procedure.code) == ("answer", "T.000003")


def test_a_new_procedure_replaces_the_context(search: Searcher) -> None:
    decision = decide(
        search, "còn làm lại căn cước bị mất thì sao", "overview", context_code="T.000003"
    )
    assert decision.procedure.code == "T.000008"


def test_a_follow_up_without_context_asks_which_procedure(search: Searcher) -> None:
    assert decide(search, "thế lệ phí bao nhiêu?", "fee").kind == "ask_which"


def test_a_tampered_button_is_ignored(search: Searcher) -> None:
    payload = '/ask_fee{"procedure_code": "1 OR 1=1"}'
    assert decide(search, payload, "fee", None, "1 OR 1=1").kind == "ask_which"
    with_context = decide(search, payload, "fee", "T.000003", "1 OR 1=1")
    assert with_context.procedure.code == "T.000003"
    assert decide(search, payload, "fee", None, "T.000006").procedure.code == "T.000006"


def test_two_procedures_in_one_message(search: Searcher) -> None:
    decision = decide(search, "đăng ký kết hôn và xin phiếu lý lịch tư pháp", "documents")
    assert decision.kind == "answer"
    assert {decision.procedure.code, decision.second.code} == {"T.000003", "T.000006"}


def test_off_catalogue_questions_are_not_answered(search: Searcher) -> None:
    decision = decide(search, "dự báo thời tiết Hà Nội ngày mai", "overview")
    assert decision.kind == "not_found"
    assert decision.elsewhere is not None and decision.elsewhere.ministry is None


def test_a_need_served_by_another_ministry_says_which(search: Searcher) -> None:
    decision = decide(search, "xin giấy phép lao động cho người nước ngoài ở đâu", "where")
    assert decision.kind == "not_found" and not decision.related
    assert decision.elsewhere.ministry == "Bộ Nội vụ"
    text = elsewhere_text(decision.elsewhere)
    assert text.startswith("Dạ,") and "Bộ Nội vụ" in text and "chưa có trong danh mục" in text


@pytest.mark.parametrize(
    "text", ["x" * 10_000, "đăng ký kết hôn " * 700, "<script>alert(1)</script>", "🙂" * 50]
)
def test_bad_input_gets_a_decision(search: Searcher, text: str) -> None:
    assert decide(search, text, "overview").kind in {"answer", "not_found", "choose", "ask_which"}


def test_content_words_leave_out_aspects_and_filler() -> None:
    assert content_syllables("thế lệ phí bao nhiêu vậy ạ?") == []
    assert content_syllables("lệ phí làm hộ chiếu") == ["ho", "chieu"]


def test_picking_a_variant(search: Searcher) -> None:
    by_code = {p.code: p for p in search.procedures}
    choices = [by_code["T.000001"], by_code["T.000002"]]
    assert pick_choice("2", choices, None).code == "T.000002"
    assert pick_choice("số 1", choices, None).code == "T.000001"
    assert pick_choice("cái có yếu tố nước ngoài", choices, None).code == "T.000002"
    assert pick_choice("/ask_fee", choices, "T.000001").code == "T.000001"
    assert pick_choice("5", choices, None) is None
    assert pick_choice("xin chào", choices, None) is None
    assert pick_choice("/ask_fee", choices, "T.000008") is None  # not one of the offered


def test_choosing_by_words_rests_on_words_that_tell_the_options_apart() -> None:
    options = [_proc("A.1", "Đăng ký khai sinh"),
               _proc("A.2", "Đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân"),
               _proc("A.3", "Đăng ký khai sinh có yếu tố nước ngoài")]  # fmt: skip
    assert pick_choice("cho tôi gặp nhân viên tổng đài", options, None) is None
    assert pick_choice("cho người đã có hồ sơ rồi", options, None) is options[1]
    assert pick_choice("nước ngoài", options, None) is options[2]
    assert pick_choice("cái thứ hai", options, None) is options[1]
    assert pick_choice("chọn số 3 nhé", options, None) is options[2]
    assert pick_choice("5", options, None) is None
    assert pick_choice("làm giấy khai sinh cho con ở xã nào", options, None) is None


def test_none_of_them() -> None:
    for text in ("không phải", "Ko phải ạ", "khác", "cái khác", "không phải cái nào cả", "kp"):
        assert none_of_them(text), text
    for text in ("không phải khai sinh mà là kết hôn", "2", "đúng rồi", "không biết"):
        assert not none_of_them(text), text
