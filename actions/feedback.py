"""Citizens' votes on answers, and complaints with consent to be contacted.

Both go to the help desk's records (helpdesk/desk.py), where the hotline
console shows them per procedure, so staff find the answers citizens mark
wrong. A vote is kept with the question that found the procedure: a 👍
strengthens that pair in the question bank, a 👎 is offered to staff to link.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.routing import route
from helpdesk.desk import Desk
from replies.hotline import hotline_number

logger = logging.getLogger(__name__)

CONSENT_BUTTONS = [
    {"title": "Đồng ý", "payload": "/affirm"},
    {"title": "Không cần", "payload": "/deny"},
]


def _entity(tracker: Tracker, name: str) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == name and isinstance(entity.get("value"), str):
            return entity["value"]
    return None


class ActionFeedback(Action):
    """Stores a 👍/👎 on the procedure last answered."""

    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        vote = (_entity(tracker, "vote") or "").lower()
        code = tracker.get_slot("procedure_code")
        if vote not in ("up", "down") or not code:
            dispatcher.utter_message(text="Dạ, anh/chị cần em hỗ trợ thêm thủ tục nào không ạ?")
            return []
        # The question that found the procedure: a 👍 teaches the bank that pair, a 👎
        # shows staff what to link (console, "Học từ câu hỏi").
        Desk().record_vote(tracker.sender_id, code, vote, tracker.get_slot("asked"))
        if vote == "up":
            dispatcher.utter_message(text="Dạ, cảm ơn anh/chị đã phản hồi ạ.")
        else:
            dispatcher.utter_message(
                text=(
                    "Dạ, em xin lỗi vì câu trả lời chưa đúng ý anh/chị; em đã ghi nhận để cán bộ "
                    'kiểm tra. Anh/chị có thể nói rõ hơn, hoặc nhắn "gặp tổng đài viên" ạ.'
                )
            )
        return []


class ActionComplaint(Action):
    """Records a complaint and asks whether staff may contact the citizen."""

    def name(self) -> str:
        return "action_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        complaint = Desk().record_complaint(
            tracker.sender_id, text, tracker.get_slot("procedure_code")
        )
        logger.info("complaint %d recorded", complaint)
        dispatcher.utter_message(
            text=(
                "Dạ, em rất tiếc vì sự bất tiện này và đã ghi nhận ý kiến của anh/chị. "
                "Anh/chị có đồng ý để cán bộ liên hệ lại qua kênh trò chuyện này không ạ?"
            ),
            buttons=CONSENT_BUTTONS,
        )
        return [SlotSet("complaint_id", str(complaint))]


class ActionComplaintConsent(Action):
    """Gate after the consent question: yes or no is stored; anything else moves on."""

    def name(self) -> str:
        return "action_complaint_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        complaint = str(tracker.get_slot("complaint_id") or "")
        if intent not in ("affirm", "deny") or not complaint.isdigit():
            return [SlotSet("complaint_id", None), FollowupAction(route(intent))]
        Desk().set_consent(int(complaint), intent == "affirm")
        if intent == "affirm":
            dispatcher.utter_message(
                text=(
                    "Dạ, cán bộ sẽ liên hệ lại với anh/chị qua kênh này. Nếu cần gấp, anh/chị "
                    f"gọi tổng đài {hotline_number()} ạ."
                )
            )
        else:
            dispatcher.utter_message(text="Dạ, em đã ghi nhận ý kiến của anh/chị ạ.")
        return [SlotSet("complaint_id", None)]
