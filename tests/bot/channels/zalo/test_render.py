"""Buttons as numbered lists, numeric replies as payloads, the 2,000-character split."""

import re

from bot.channels.zalo import render

BUTTONS = [
    {"title": "Giấy tờ", "payload": "/ask_documents"},
    {"title": "Lệ phí", "payload": "/ask_fee"},
]


def test_buttons_become_a_numbered_list_continuing_across_a_turn() -> None:
    text, payloads = render.number_buttons("Dạ, thủ tục A.", BUTTONS)
    assert text.endswith("1. Giấy tờ\n2. Lệ phí")
    assert payloads == ["/ask_documents", "/ask_fee"]
    text, payloads = render.number_buttons("Có giúp được không ạ?", BUTTONS, start=3)
    assert "3. Giấy tờ\n4. Lệ phí" in text and "1." not in text


def test_options_the_text_already_numbers_are_not_listed_twice() -> None:
    text = "Dạ, anh/chị hỏi thủ tục nào ạ?\n1. Thủ tục A (mã 1)\n2. Thủ tục B (mã 2)"
    buttons = [
        {"title": "1. Thủ tục A (1)", "payload": "/a"},
        {"title": "2. Thủ tục B (2)", "payload": "/b"},
    ]
    rendered, payloads = render.number_buttons(text, buttons)
    assert rendered == text and payloads == ["/a", "/b"]


def test_numeric_replies_pick_a_payload() -> None:
    payloads = ["/a", "/b", "/c"]
    for reply in ("2", " 2 ", "2.", "số 2", "So 2", "chọn 2", "2)"):
        assert render.pick(reply, payloads) == "/b", reply
    for reply in ("0", "4", "12", "2 người", "hai", "", "0912345678"):
        assert render.pick(reply, payloads) is None, reply


def test_long_text_is_split_at_sentence_ends_under_the_limit() -> None:
    sentences = [
        f"Câu số {i} nói về giấy tờ cần nộp cho thủ tục hành chính này." for i in range(84)
    ]
    text = " ".join(sentences)
    assert len(text) > 5000
    parts = render.split(text)
    assert len(parts) == 3
    assert all(len(p) <= render.MAX_CHARS for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_split_prefers_line_breaks_and_cuts_unbroken_text() -> None:
    lines = "\n".join(f"- Giấy tờ {i}: bản sao có chứng thực, 01 bản" for i in range(120))
    parts = render.split(lines)
    assert all(len(p) <= 2000 for p in parts)
    assert all(
        re.fullmatch(r"(- Giấy tờ \d+: bản sao có chứng thực, 01 bản\n?)+", p) for p in parts
    )
    blob = "x" * 4500
    assert [len(p) for p in render.split(blob)] == [2000, 2000, 500]
    assert render.split("  ngắn  ") == ["ngắn"]
    assert render.split("") == []
