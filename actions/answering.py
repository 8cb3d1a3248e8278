"""Rasa actions that answer procedure questions from the catalogue.

A thin layer: read the tracker, `guidance.decide()`, say the decision with
`answers`. Slots: `procedure_code` (the procedure in discussion), `aspect`
(what was asked, kept while the citizen picks a variant) and
`pending_choices` (the codes offered; while set, GatePolicy sends the next
message to action_choose_procedure).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import answers
from actions.catalogue_search import SearchUnavailableError, preload, searcher
from actions.guidance import Decision, decide, pick_choice
from actions.handoff import hotline_number
from actions.routing import route
from index.catalogue import Procedure
from index.coverage import Elsewhere

logger = logging.getLogger(__name__)
preload()

FEEDBACK_BUTTONS = [
    {"title": "👍 Hữu ích", "payload": '/feedback{"vote": "up"}'},
    {"title": "👎 Chưa đúng", "payload": '/feedback{"vote": "down"}'},
]


def latest(tracker: Tracker) -> tuple[str, str | None, str | None]:
    """The latest message's text, intent and payload-chosen procedure code."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    code = next(
        (
            e.get("value")
            for e in message.get("entities") or []
            if e.get("entity") == "procedure_code" and isinstance(e.get("value"), str)
        ),
        None,
    )
    return str(message.get("text") or ""), intent, code


def _payload(aspect: str, procedure: Procedure) -> str:
    intent = answers.ASPECT_INTENTS[aspect]
    return f"/{intent}{json.dumps({'procedure_code': procedure.code})}"


def _button(aspect: str, procedure: Procedure, prefix: str = "") -> dict[str, str]:
    return {
        "title": f"{prefix}{procedure.name[:80]} ({procedure.code})",
        "payload": _payload(aspect, procedure),
    }


def say(dispatcher: CollectingDispatcher, decision: Decision) -> list[EventType]:
    """Utters a decision; returns the slot events it implies."""
    aspect = decision.aspect
    if decision.kind == "answer" and decision.procedure:
        procedure = decision.procedure
        messages = answers.answer(procedure, aspect)
        for text in messages[:-1]:
            dispatcher.utter_message(text=text)
        buttons: list[dict[str, str]] = []
        if aspect == "overview":  # "online" is in the overview's text already
            buttons = [
                {"title": label, "payload": _payload(a, procedure)}
                for a, label in answers.ASPECT_LABELS.items()
                if a != "online"
            ]
        dispatcher.utter_message(text=messages[-1], buttons=buttons)
        if decision.second:
            dispatcher.utter_message(
                text=f"Dạ, anh/chị còn hỏi thủ tục {answers.title(decision.second)}: "
                "bấm nút bên dưới để xem ạ.",
                buttons=[_button(aspect, decision.second)],
            )
        elif decision.related:
            dispatcher.utter_message(
                text="Dạ, nếu anh/chị hỏi thủ tục khác, các thủ tục gần giống:"
                + "".join(f"\n- {answers.title(p)}" for p in decision.related),
                buttons=[_button(aspect, p) for p in decision.related],
            )
        dispatcher.utter_message(
            text="Dạ, thông tin trên có giúp được anh/chị không ạ?", buttons=FEEDBACK_BUTTONS
        )
        return [
            SlotSet("procedure_code", procedure.code),
            SlotSet("aspect", aspect),
            SlotSet("pending_choices", None),
        ]
    if decision.kind == "choose":
        lines = [
            f"Dạ, có {len(decision.choices)} thủ tục gần giống nhau. "
            "Anh/chị hỏi thủ tục nào ạ? (bấm chọn hoặc nhắn số thứ tự)"
        ]
        lines += [f"{i}. {answers.title(p)}" for i, p in enumerate(decision.choices, 1)]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[_button(aspect, p, f"{i}. ") for i, p in enumerate(decision.choices, 1)],
        )
        return [
            SlotSet("pending_choices", [p.code for p in decision.choices]),
            SlotSet("aspect", aspect),
        ]
    if decision.kind == "ask_which":
        dispatcher.utter_message(
            text='Dạ, anh/chị đang hỏi về thủ tục nào ạ? Ví dụ: "lệ phí làm hộ chiếu".'
        )
        return [SlotSet("aspect", aspect)]
    # not_found
    if decision.elsewhere is not None:
        dispatcher.utter_message(text=elsewhere_text(decision.elsewhere))
        return [SlotSet("pending_choices", None)]
    text = "Dạ, em chưa tìm thấy thủ tục phù hợp với câu hỏi này trong danh mục thủ tục hành chính."
    buttons = []
    if decision.related:
        text += " Các thủ tục gần nhất em tìm được (có thể chưa đúng ý anh/chị):"
        text += "".join(f"\n- {answers.title(p)}" for p in decision.related)
        buttons = [_button(aspect, p) for p in decision.related]
    text += (
        f"\nAnh/chị có thể nói rõ hơn, hoặc gọi tổng đài {hotline_number()} "
        "để được cán bộ hướng dẫn ạ."
    )
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet("pending_choices", None)]


def elsewhere_text(need: Elsewhere) -> str:
    """An honest "not in the catalogue": who serves the need, where to ask instead."""
    if need.foreign:
        return (
            f"Dạ, {need.field} do Đại sứ quán hoặc Lãnh sự quán của nước anh/chị muốn đến "
            "giải quyết, không phải thủ tục hành chính của Việt Nam, nên em không hướng dẫn "
            "được ạ. Anh/chị vui lòng xem trang thông tin của cơ quan đại diện nước đó. Nếu "
            'cần làm hộ chiếu để đi, anh/chị nhắn "làm hộ chiếu" để em hướng dẫn ạ.'
        )
    if need.ministry is None:
        return (
            f"Dạ, em là trợ lý tra cứu thủ tục hành chính nên chưa trả lời được câu hỏi về "
            f'{need.field} ạ. Anh/chị cần hỏi thủ tục nào (ví dụ: "làm lại căn cước"), '
            "em xin hướng dẫn ạ."
        )
    return (
        f"Dạ, việc này thuộc lĩnh vực {need.field} của {need.ministry}, hiện chưa có trong "
        "danh mục thủ tục em tra cứu được, nên em không dám hướng dẫn kẻo sai ạ. Anh/chị vui "
        "lòng tra cứu tại Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) hoặc gọi tổng đài "
        f"{hotline_number()} để được cán bộ hướng dẫn ạ."
    )


def unavailable(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(
        text=(
            "Dạ, hệ thống tra cứu thủ tục đang tạm gián đoạn. "
            f"Anh/chị vui lòng thử lại sau ít phút hoặc gọi tổng đài {hotline_number()} ạ."
        )
    )
    return []


class ActionAnswer(Action):
    """Answers ask_procedure/documents/fee/processing_time/where/online."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, intent, code = latest(tracker)
        aspect = answers.INTENT_ASPECTS.get(intent or "", "overview")
        try:
            search = searcher()
        except SearchUnavailableError:
            return unavailable(dispatcher)
        decision = decide(search, text, aspect, tracker.get_slot("procedure_code"), code)
        logger.info("answer: aspect=%s decision=%s", aspect, decision.kind)
        return say(dispatcher, decision)


class ActionChooseProcedure(Action):
    """Gate while variants are offered: a choice answers, anything else moves on."""

    def name(self) -> str:
        return "action_choose_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, intent, code = latest(tracker)
        codes = tracker.get_slot("pending_choices") or []
        try:
            search = searcher()
        except SearchUnavailableError:
            return [SlotSet("pending_choices", None), *unavailable(dispatcher)]
        choices = [search.by_code[c] for c in codes if isinstance(c, str) and c in search.by_code]
        choice = pick_choice(text, choices, code)
        if choice is not None:
            aspect = tracker.get_slot("aspect") or "overview"
            if intent in answers.INTENT_ASPECTS and code:
                aspect = answers.INTENT_ASPECTS[intent]
            return say(dispatcher, Decision("answer", aspect, choice, query=text))
        # Not a choice: a new question, or something else; handle it as usual.
        return [SlotSet("pending_choices", None), FollowupAction(route(intent))]


NOT_UNDERSTOOD = (
    "Dạ, em chưa hiểu ý anh/chị. Anh/chị nói rõ giúp em thủ tục cần hỏi được không ạ? "
    'Ví dụ: "đăng ký khai sinh cho con ở đâu".'
)
NOTHING_SAID = "Dạ, em chưa nhận được nội dung. Anh/chị nhắn câu hỏi giúp em ạ."
OUT_OF_SCOPE = (
    "Dạ, câu này nằm ngoài phạm vi em hỗ trợ ạ. Em trả lời về thủ tục hành chính (giấy tờ, "
    "lệ phí, thời gian, nơi nộp) và tình trạng hồ sơ đã nộp."
)


def _confident_answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Answers from the catalogue when the search is sure, whatever the intent.

    Long, story-like questions often leave the intent classifier unsure
    (nlu_fallback) while the search finds the procedure plainly.
    """
    text, _, _ = latest(tracker)
    if text.lstrip().startswith("/"):
        return None
    try:
        decision = decide(searcher(), text, "overview")
    except SearchUnavailableError:
        return None
    if decision.kind not in ("answer", "choose"):
        return None
    return say(dispatcher, decision)


class ActionFallback(Action):
    """Not understood: try the catalogue; otherwise say so, and the second
    time in a row hand over to staff. An empty message (or only emoji) just
    gets a prompt: it is not a question the bot failed."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, _, _ = latest(tracker)
        if not any(ch.isalnum() for ch in text):  # empty, spaces, only symbols or emoji
            dispatcher.utter_message(text=NOTHING_SAID)
            return []
        answered = _confident_answer(dispatcher, tracker)
        if answered is not None:
            return answered
        if _previous_turn_fell_back(tracker):
            return [FollowupAction("action_handoff")]
        dispatcher.utter_message(text=NOT_UNDERSTOOD)
        return []


class ActionOutOfScope(Action):
    """Out of scope, unless the catalogue plainly has the procedure."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        answered = _confident_answer(dispatcher, tracker)
        if answered is not None:
            return answered
        dispatcher.utter_message(text=OUT_OF_SCOPE)
        return []


def _previous_turn_fell_back(tracker: Tracker) -> bool:
    """Whether the bot's reply to the message before this one was "not understood"."""
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif (
            event.get("event") == "bot" and users_seen == 1 and event.get("text") == NOT_UNDERSTOOD
        ):
            return True
    return False
