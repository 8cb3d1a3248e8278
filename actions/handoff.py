"""Hand a citizen over to people: the hotline number, configurable per portal."""

from __future__ import annotations

import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# The national public-service portal's hotline; each portal sets its own.
DEFAULT_HOTLINE = "1800 1096"

_PROCEDURE_INTENTS = {
    "ask_procedure",
    "ask_documents",
    "ask_fee",
    "ask_processing_time",
    "ask_where",
    "ask_online",
}
_STATUS_INTENTS = {"check_status", "provide_application_code"}


def hotline_number() -> str:
    """The number citizens should call, from HOTLINE_NUMBER (read on each use)."""
    return os.environ.get("HOTLINE_NUMBER", "").strip() or DEFAULT_HOTLINE


def hotline_message(intent: str | None, number: str) -> str:
    """What to say when a person, not the bot, should take over.

    Procedure and status questions reach here only while the bot cannot answer
    them itself, so it says so plainly instead of guessing.
    """
    if intent in _PROCEDURE_INTENTS:
        return (
            "Dạ, em chưa tra cứu được thông tin thủ tục này. "
            f"Anh/chị vui lòng gọi tổng đài {number} để được cán bộ hướng dẫn ạ."
        )
    if intent in _STATUS_INTENTS:
        return (
            "Dạ, em chưa tra cứu được tình trạng hồ sơ. "
            f"Anh/chị vui lòng gọi tổng đài {number} và đọc mã hồ sơ để được kiểm tra ạ."
        )
    return f"Dạ, anh/chị vui lòng gọi tổng đài {number} để gặp tổng đài viên ạ."


class ActionHotline(Action):
    """Gives the hotline number, worded for what the citizen asked."""

    def name(self) -> str:
        return "action_hotline"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        dispatcher.utter_message(text=hotline_message(intent, hotline_number()))
        return []
