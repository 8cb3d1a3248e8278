"""Hotline action: plain functions and the action run through rasa-sdk."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHotline, hotline_message
from replies.hotline import DEFAULT_HOTLINE, hotline_number


def test_number_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_NUMBER", raising=False)
    assert hotline_number() == DEFAULT_HOTLINE
    monkeypatch.setenv("HOTLINE_NUMBER", " 1900 1234 ")
    assert hotline_number() == "1900 1234"
    monkeypatch.setenv("HOTLINE_NUMBER", "  ")
    assert hotline_number() == DEFAULT_HOTLINE


@pytest.mark.parametrize(
    ("intent", "says"),
    [
        ("request_human", "gặp tổng đài viên"),
        ("check_status", "chưa tra cứu được tình trạng hồ sơ"),
        (None, "gặp tổng đài viên"),
    ],
)
def test_message_is_polite_honest_and_has_the_number(intent: str | None, says: str) -> None:
    text = hotline_message(intent, "1900 1234")
    assert text.startswith("Dạ")
    assert says in text
    assert "1900 1234" in text


def test_action_uses_the_latest_intent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_NUMBER", "1900 5678")
    tracker = Tracker(
        "u1",
        {},
        {"intent": {"name": "check_status"}, "text": "hồ sơ của tôi"},
        [],
        False,
        None,
        {},
        "",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHotline().run(dispatcher, tracker, {}))
    assert events == []
    [message] = dispatcher.messages
    assert "1900 5678" in message["text"] and "tình trạng hồ sơ" in message["text"]
