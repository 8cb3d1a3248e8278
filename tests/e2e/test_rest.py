"""Conversations over the REST channel with the real servers."""

import pytest

from tests.e2e.conftest import TEST_HOTLINE, Bot


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def test_greeting_then_hotline_through_the_action_server(bot: Bot) -> None:
    status, replies = bot.send("e2e-1", "xin chào")
    assert status == 200 and "chào" in texts(replies)
    status, replies = bot.send("e2e-1", "cho toi gap tong dai vien")
    assert status == 200 and TEST_HOTLINE in texts(replies)
    bot.send("e2e-1", "tiếp tục với trợ lý ảo")


def test_procedure_question_is_answered_from_the_catalogue(bot: Bot) -> None:
    _, replies = bot.send("e2e-2", "lam lai cccd het bao nhieu tien")
    assert "T.000008" in texts(replies) and "lệ phí" in texts(replies).lower()


def test_out_of_scope_and_bot_challenge(bot: Bot) -> None:
    assert "ngoài phạm vi" in texts(bot.send("e2e-3", "giá vàng hôm nay bao nhiêu")[1])
    assert "trợ lý ảo" in texts(bot.send("e2e-3", "em là người hay máy vậy")[1])


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "😀😀😀",
        "hello 你好 привет xin chào",
        "<script>alert('x')</script><b>thủ tục</b>",
        "làm giấy khai sinh " * 530,  # ~10,000 characters
        "\u200b\u0000\ufeff",
    ],
    ids=["empty", "spaces", "emoji", "mixed-scripts", "html", "10k-chars", "invisible"],
)
def test_bad_input_gets_a_polite_answer(bot: Bot, message: str) -> None:
    status, replies = bot.send("e2e-bad", message)
    assert status == 200
    assert replies and all(r["text"].startswith("Dạ") for r in replies)


def test_malformed_requests_are_refused_and_the_server_lives_on(bot: Bot) -> None:
    assert bot.post(b"not json")[0] == 400
    assert bot.post(b'{"sender": "e2e-enc", "message": "\xff\xfe l\xe0m"}')[0] == 400
    status, replies = bot.send("e2e-enc", "xin chào")
    assert status == 200 and replies
