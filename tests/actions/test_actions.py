"""The actions through rasa-sdk: what they say and the events they return."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import ActionAnswer, ActionChooseProcedure, ActionFallback
from actions.desk import Desk
from actions.feedback import ActionComplaint, ActionComplaintConsent, ActionFeedback
from actions.handoff import ActionHandoff, ActionHandoffWait, ActionResumeBot
from index.search import Searcher


def tracker(
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict] | None = None,
    events: list[dict] | None = None,
    sender: str = "citizen-1",
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    history = [*(events or []), {"event": "user", "text": text, "parse_data": latest}]
    return Tracker(sender, slots or {}, latest, history, False, None, {}, "action_listen")


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def slot(events: list[dict], name: str) -> Any:
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


def test_answer_cites_the_procedure_offers_feedback_and_keeps_context(search: Searcher) -> None:
    messages, events = run(ActionAnswer(), tracker("lệ phí đăng ký kết hôn", "ask_fee"))
    assert "T.000003" in messages[0]["text"] and "Đăng ký kết hôn" in messages[0]["text"]
    assert [b["payload"] for b in messages[-1]["buttons"]] == [
        '/feedback{"vote": "up"}',
        '/feedback{"vote": "down"}',
    ]
    assert slot(events, "procedure_code") == "T.000003"
    follow_up, _ = run(
        ActionAnswer(), tracker("thế nộp ở đâu", "ask_where", {"procedure_code": "T.000003"})
    )
    assert "T.000003" in follow_up[0]["text"]


def test_overview_offers_each_aspect_as_a_button(search: Searcher) -> None:
    messages, _ = run(ActionAnswer(), tracker("thủ tục đăng ký thường trú", "ask_procedure"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/ask_fee{"procedure_code": "T.000005"}' in payloads
    assert len(payloads) <= 6


def test_a_pending_choice_is_answered_or_released(search: Searcher) -> None:
    slots = {"pending_choices": ["T.000001", "T.000002"], "aspect": "documents"}
    messages, events = run(ActionChooseProcedure(), tracker("2", "nlu_fallback", slots))
    assert "T.000002" in messages[0]["text"] and "hồ sơ" in messages[0]["text"]
    assert slot(events, "pending_choices") is None
    messages, events = run(ActionChooseProcedure(), tracker("cảm ơn nhé", "thank", slots))
    assert messages == []
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["utter_welcome"]


def test_handoff_opens_a_ticket_pauses_and_resumes(search: Searcher, desk_db) -> None:
    history = [{"event": "bot", "text": "Dạ, em chào anh/chị"}]
    messages, events = run(
        ActionHandoff(), tracker("gặp người thật", "request_human", events=history)
    )
    ticket = slot(events, "handoff_ticket")
    assert f"phiếu số {ticket}" in messages[0]["text"]
    assert Desk().messages(int(ticket)) == [
        ("bot", "Dạ, em chào anh/chị"),
        ("citizen", "gặp người thật"),
    ]

    waiting = tracker("lệ phí kết hôn?", "ask_fee", {"handoff_ticket": ticket})
    messages, events = run(ActionHandoffWait(), waiting)
    assert "tổng đài viên" in messages[0]["text"] and events == []
    assert Desk().messages(int(ticket))[-1] == ("citizen", "lệ phí kết hôn?")

    Desk().resolve(int(ticket), by="staff")
    messages, events = run(ActionHandoffWait(), waiting)
    assert messages == []
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["action_answer"]

    _, events = run(ActionHandoff(), tracker("gặp người thật", "request_human"))
    messages, events = run(ActionResumeBot(), tracker("tiếp tục với trợ lý ảo", "resume_bot"))
    assert Desk().open_ticket_for("citizen-1") is None


def test_fallback_answers_when_the_search_is_sure(search: Searcher) -> None:
    story = "Vợ chồng tôi mới cưới xong, giờ muốn đi đăng ký kết hôn ở xã thì làm thế nào"
    messages, _ = run(ActionFallback(), tracker(story, "nlu_fallback"))
    assert "T.000003" in messages[0]["text"]


def test_second_fallback_in_a_row_hands_over(search: Searcher) -> None:
    first = tracker("asdf", "nlu_fallback", events=[{"event": "action", "name": "action_listen"}])
    messages, events = run(ActionFallback(), first)
    assert messages and events == []
    second = tracker(
        "qwer",
        "nlu_fallback",
        events=[
            {"event": "user", "text": "asdf"},
            {"event": "action", "name": "action_fallback"},
            {"event": "bot", "text": messages[0]["text"]},
            {"event": "action", "name": "action_listen"},
        ],
    )
    _, events = run(ActionFallback(), second)
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["action_handoff"]


def test_feedback_and_complaint_are_stored(desk_db) -> None:
    vote = [{"entity": "vote", "value": "down"}]
    run(ActionFeedback(), tracker("/feedback", "feedback", {"procedure_code": "T.000003"}, vote))
    assert Desk().votes("T.000003") == {"up": 0, "down": 1}
    forged = [{"entity": "vote", "value": "DROP TABLE"}]
    run(ActionFeedback(), tracker("/feedback", "feedback", {"procedure_code": "T.000003"}, forged))
    assert Desk().votes("T.000003") == {"up": 0, "down": 1}

    messages, events = run(ActionComplaint(), tracker("xã hẹn mãi không trả", "complain"))
    complaint = slot(events, "complaint_id")
    assert len(messages[0]["buttons"]) == 2
    run(ActionComplaintConsent(), tracker("đồng ý", "affirm", {"complaint_id": complaint}))
    assert Desk().complaint(int(complaint))["consent"] == 1
    assert Desk().complaint(int(complaint))["text"] == "xã hẹn mãi không trả"
