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
import sqlite3
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import Decision, decide, none_of_them, option_number, pick_choice
from actions.routing import route
from helpdesk.desk import Desk
from helpdesk.search import SearchUnavailableError, searcher
from index.catalogue import Procedure
from index.coverage import Elsewhere
from replies import procedure as answers
from replies.hotline import hotline_number

logger = logging.getLogger(__name__)

FEEDBACK_BUTTONS = [
    {"title": "👍 Hữu ích", "payload": '/feedback{"vote": "up"}'},
    {"title": "👎 Chưa đúng", "payload": '/feedback{"vote": "down"}'},
]
NONE_OF_THEM = "Không phải các thủ tục trên"
HANDOFF_BUTTON = {"title": "Gặp tổng đài viên", "payload": "/request_human"}
# While a choice is pending, these intents are never taken as a choice: a request
# for a person, a status lookup, a complaint or small talk goes its own way.
NOT_A_CHOICE = frozenset({
    "request_human", "check_status", "provide_application_code", "complain", "resume_bot",
    "greet", "goodbye", "thank", "bot_challenge", "feedback",
})  # fmt: skip


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
        "title": f"{prefix}{answers.short_name(procedure)} ({procedure.code})",
        "payload": _payload(aspect, procedure),
    }


def _catalogue_date() -> str | None:
    """The date of the catalogue answers come from, when its manifest gives one."""
    try:
        return searcher().as_of
    except SearchUnavailableError:
        return None


def say(
    dispatcher: CollectingDispatcher, decision: Decision, asked: str | None = None
) -> list[EventType]:
    """Utters a decision; returns the slot events it implies.

    `asked`: the citizen's question when the search found the procedure (kept in the
    `asked` slot, for votes and for staff who teach the question bank).
    """
    aspect = decision.aspect
    remember = [SlotSet("asked", asked)] if asked else []
    if decision.kind == "answer" and decision.procedure:
        procedure = decision.procedure
        messages = answers.answer(procedure, aspect, as_of=_catalogue_date())
        for text in messages[:-1]:
            dispatcher.utter_message(text=text)
        buttons: list[dict[str, str]] = []
        if aspect == "overview":  # "online" is in the overview's text already
            buttons = [
                {"title": label, "payload": _payload(a, procedure)}
                for a, label in answers.ASPECT_LABELS.items()
                if a != "online"
            ]
        # The vote rides on the answer itself: the widget shows it as 👍/👎 on the
        # bubble, Zalo as numbered options, instead of a bubble of its own.
        dispatcher.utter_message(text=messages[-1], buttons=[*buttons, *FEEDBACK_BUTTONS])
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
        return [
            SlotSet("procedure_code", procedure.code),
            SlotSet("aspect", aspect),
            SlotSet("pending_choices", None),
            *remember,
        ]
    if decision.kind == "choose":
        lines = ["Dạ, anh/chị muốn hỏi thủ tục nào ạ?"]
        lines += [f"{i}. {answers.title(p)}" for i, p in enumerate(decision.choices, 1)]
        lines.append(f"{len(decision.choices) + 1}. {NONE_OF_THEM}")
        lines.append("Anh/chị bấm chọn hoặc nhắn số thứ tự ạ.")
        buttons = [_button(aspect, p, f"{i}. ") for i, p in enumerate(decision.choices, 1)]
        buttons.append({"title": NONE_OF_THEM, "payload": "/deny"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [
            SlotSet("pending_choices", [p.code for p in decision.choices]),
            SlotSet("aspect", aspect),
            *remember,
        ]
    if decision.kind == "ask_which":
        dispatcher.utter_message(
            text='Dạ, anh/chị đang hỏi về thủ tục nào ạ? Ví dụ: "lệ phí làm hộ chiếu".'
        )
        return [SlotSet("aspect", aspect)]
    # not_found
    if decision.elsewhere is not None:
        dispatcher.utter_message(text=elsewhere_text(decision.elsewhere))
        return [SlotSet("pending_choices", None), *remember]
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
    return [SlotSet("pending_choices", None), *remember]


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


def _searched(decision: Decision, text: str, code: str | None) -> str | None:
    """The citizen's words when the search chose (not a button, not a follow-up
    answered from context): what a vote or a staff link is about."""
    if code or text.lstrip().startswith("/"):
        return None
    if decision.kind == "answer" and decision.query and not decision.from_context:
        return text
    return text if decision.kind in ("choose", "not_found") else None


def record_miss(sender: str, question: str, kind: str) -> None:
    """Keeps a question the bot could not answer for staff to link (console)."""
    try:
        Desk().record_miss(sender, question, kind)
    except (OSError, sqlite3.Error):
        logger.exception("miss not recorded")


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
        searched = _searched(decision, text, code)
        if decision.kind == "not_found" and searched:
            kind = "elsewhere" if decision.elsewhere else "not_found"
            record_miss(tracker.sender_id, searched, kind)
        return say(dispatcher, decision, searched)


class ActionChooseProcedure(Action):
    """Gate while variants are offered: a choice answers, anything else moves on."""

    def name(self) -> str:
        return "action_choose_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, intent, code = latest(tracker)
        if intent in NOT_A_CHOICE and not code:
            return [SlotSet("pending_choices", None), FollowupAction(route(intent))]
        codes = tracker.get_slot("pending_choices") or []
        way_out = option_number(text) == len(codes) + 1  # the last numbered option
        if not code and (intent == "deny" or way_out or none_of_them(text)):
            asked = tracker.get_slot("asked")
            if asked:
                record_miss(tracker.sender_id, asked, "none_of_them")
            dispatcher.utter_message(
                text=(
                    "Dạ, em xin lỗi vì chưa tìm đúng thủ tục anh/chị cần. Anh/chị mô tả rõ hơn "
                    'việc cần làm giúp em, hoặc bấm "Gặp tổng đài viên" để cán bộ hỗ trợ; '
                    f"anh/chị cũng có thể gọi tổng đài {hotline_number()} ạ."
                ),
                buttons=[HANDOFF_BUTTON],
            )
            return [SlotSet("pending_choices", None)]
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


# In domain.yml: Rasa records which response a bot message came from, so the
# next turn can tell a "not understood" without reading the wording.
NOT_UNDERSTOOD = "utter_not_understood"
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
    return say(dispatcher, decision, text)


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
        dispatcher.utter_message(response=NOT_UNDERSTOOD)
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
    """Whether the bot's reply to the message before this one was "not understood":
    Rasa keeps the name of the response a message came from in its metadata."""
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif event.get("event") == "bot" and users_seen == 1:
            said = (event.get("metadata") or {}).get("utter_action")
            if said == NOT_UNDERSTOOD:
                return True
    return False

