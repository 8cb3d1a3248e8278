"""The actions through rasa-sdk: what they say and the events they return."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import ActionAnswer, ActionChooseProcedure, ActionFallback
from actions.feedback import ActionComplaint, ActionComplaintConsent, ActionFeedback
from actions.handoff import ActionHandoff, ActionHandoffWait, ActionResumeBot
from helpdesk.desk import Desk
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
            # as Rasa records it: the response's name in the message's metadata
            {"event": "bot", "metadata": {"utter_action": messages[0]["response"]}},
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


def test_the_vote_rides_on_the_answer_itself(search: Searcher) -> None:
    """One answer bubble (with its vote) and at most one more for related procedures:
    never a bubble of its own asking whether the answer helped."""
    messages, events = run(ActionAnswer(), tracker("thủ tục đăng ký thường trú", "ask_procedure"))
    assert len(messages) <= 2
    assert not any("có giúp được" in (m.get("text") or "") for m in messages)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-2:] == ['/feedback{"vote": "up"}', '/feedback{"vote": "down"}']
    assert slot(events, "asked") == "thủ tục đăng ký thường trú"


PENDING = {"pending_choices": ["T.000001", "T.000002"], "aspect": "overview", "asked": "khai sinh"}


def test_a_pending_choice_never_swallows_a_request_for_a_person(search: Searcher) -> None:
    """ "cho tôi gặp nhân viên tổng đài" shares "cho" with an option's name: it is still
    a request for a person, as are status lookups and complaints."""
    for text, intent, action in (
        ("cho tôi gặp nhân viên tổng đài", "request_human", "action_handoff"),
        ("tra cứu hồ sơ H12.36-241125-0019", "check_status", "status_form"),
        ("tôi muốn phản ánh cán bộ xã", "complain", "action_complaint"),
    ):
        messages, events = run(ActionChooseProcedure(), tracker(text, intent, PENDING))
        assert messages == []
        assert [e["name"] for e in events if e.get("event") == "followup"] == [action]
        assert slot(events, "pending_choices") is None


def test_none_of_them_is_an_honest_not_found_with_a_person_offered(
    search: Searcher, desk_db
) -> None:
    messages, events = run(ActionChooseProcedure(), tracker("không phải", "deny", PENDING))
    assert "chưa tìm đúng thủ tục" in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Gặp tổng đài viên", "payload": "/request_human"}]
    assert slot(events, "pending_choices") is None
    assert [(m["question"], m["kind"]) for m in Desk().to_learn()] == [
        ("khai sinh", "none_of_them")
    ]


def test_choices_are_offered_in_plain_words_with_a_way_out(search: Searcher) -> None:
    messages, events = run(ActionAnswer(), tracker("xin giấy phép xây dựng nhà", "ask_procedure"))
    choices = slot(events, "pending_choices")
    if choices is None:  # the level prior answered the tie instead (commune copy)
        assert "T.000010" in messages[0]["text"]
        return
    text = messages[0]["text"]
    assert text.startswith("Dạ, anh/chị muốn hỏi thủ tục nào") and "Không phải" in text
    assert messages[0]["buttons"][-1] == {
        "title": "Không phải các thủ tục trên",
        "payload": "/deny",
    }


def test_a_not_found_question_waits_for_staff_masked(search: Searcher, desk_db) -> None:
    question = "tôi cần làm giấy phép bay khinh khí cầu, sđt 0912345678"
    run(ActionAnswer(), tracker(question, "ask_procedure"))
    [miss] = Desk().to_learn()
    assert miss["kind"] in ("not_found", "elsewhere")
    assert "0912345678" not in miss["question"] and "[số điện thoại]" in miss["question"]


def test_a_vote_keeps_the_question_and_an_up_vote_teaches_the_bank(desk_db) -> None:
    slots = {"procedure_code": "T.000003", "asked": "hai đứa muốn về chung một nhà"}
    vote = [{"entity": "vote", "value": "up"}]
    run(ActionFeedback(), tracker("/feedback", "feedback", slots, vote))
    [entry] = Desk().bank_entries()
    assert (entry.text, entry.codes, entry.source) == (
        "hai đứa muốn về chung một nhà",
        ("T.000003",),
        "vote",
    )
    down = [{"entity": "vote", "value": "down"}]
    run(ActionFeedback(), tracker("/feedback", "feedback", slots, down))
    assert [m["kind"] for m in Desk().to_learn()] == ["vote_down"]
