"""Handing a conversation to hotline staff, and back.

request_human, or two messages in a row the bot did not understand, open a
handoff ticket with the conversation so far (helpdesk/desk.py). While it is
open, GatePolicy sends every message to action_handoff_wait: the message is
added to the ticket for staff and the bot stays quiet apart from a short
acknowledgement. Staff resolving the ticket, or the citizen asking to go on
with the bot (resume_bot), hands the conversation back.
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

_STATUS_INTENTS = {"check_status", "provide_application_code"}


def hotline_message(intent: str | None, number: str) -> str:
    """What to say when a person, not the bot, should take over.

    Status questions reach here only while the bot cannot look applications
    up itself, so it says so plainly instead of guessing.
    """
    if intent in _STATUS_INTENTS:
        return (
            "Dạ, em chưa tra cứu được tình trạng hồ sơ. "
            f"Anh/chị vui lòng gọi tổng đài {number} và đọc mã hồ sơ để được kiểm tra ạ."
        )
    return f"Dạ, anh/chị vui lòng gọi tổng đài {number} để gặp tổng đài viên ạ."


def transcript(tracker: Tracker) -> list[tuple[str, str]]:
    """The conversation so far as (author, text), for staff to read."""
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append(("citizen", str(event["text"])))
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(("bot", str(event["text"])))
    return lines


class ActionHotline(Action):
    """Gives the hotline number, worded for what the citizen asked."""

    def name(self) -> str:
        return "action_hotline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        dispatcher.utter_message(text=hotline_message(intent, hotline_number()))
        return []


class ActionHandoff(Action):
    """Opens a ticket and pauses the bot for this conversation."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        reason = "request_human" if intent == "request_human" else "not_understood"
        ticket = Desk().open_ticket(
            tracker.sender_id, reason, transcript(tracker), tracker.get_slot("procedure_code")
        )
        logger.info("handoff: ticket %d opened (%s)", ticket, reason)
        lead = (
            "Dạ, em chưa hiểu được yêu cầu của anh/chị, em xin chuyển cho tổng đài viên. "
            if reason == "not_understood"
            else "Dạ, em đã chuyển cuộc trò chuyện cho tổng đài viên. "
        )
        dispatcher.utter_message(
            text=(
                f"{lead}Cán bộ sẽ xem toàn bộ nội dung anh/chị đã trao đổi và trả lời tại đây "
                f"(phiếu số {ticket}); anh/chị cũng có thể gọi tổng đài {hotline_number()}. "
                "Trong lúc chờ, em tạm dừng trả lời tự động."
            ),
            buttons=[{"title": "Tiếp tục hỏi trợ lý ảo", "payload": "/resume_bot"}],
        )
        return [SlotSet("handoff_ticket", str(ticket)), SlotSet("pending_choices", None)]


class ActionHandoffWait(Action):
    """Gate while a ticket is open: messages go to staff, not to the bot."""

    def name(self) -> str:
        return "action_handoff_wait"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        desk = Desk()
        slot = tracker.get_slot("handoff_ticket")
        ticket = desk.ticket(int(slot)) if str(slot or "").isdigit() else None
        if ticket is None or ticket.status == "resolved":
            # Staff are done: the bot answers this message as usual.
            return [SlotSet("handoff_ticket", None), FollowupAction(route(intent))]
        desk.add_message(ticket.id, "citizen", str((tracker.latest_message or {}).get("text", "")))
        dispatcher.utter_message(
            text="Dạ, tổng đài viên đã nhận được tin nhắn và sẽ trả lời anh/chị sớm ạ.",
            buttons=[{"title": "Tiếp tục hỏi trợ lý ảo", "payload": "/resume_bot"}],
        )
        return []


class ActionResumeBot(Action):
    """The citizen goes on with the bot: the open ticket is closed."""

    def name(self) -> str:
        return "action_resume_bot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        desk = Desk()
        ticket = desk.open_ticket_for(tracker.sender_id)
        if ticket:
            desk.resolve(ticket.id, by="citizen")
        dispatcher.utter_message(
            text="Dạ, em tiếp tục hỗ trợ anh/chị. Anh/chị cần hỏi thủ tục nào ạ?"
        )
        return [SlotSet("handoff_ticket", None)]
