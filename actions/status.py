"""Application status: the code form and the portal lookup.

`status_form` (domain.yml) collects `application_code`; ValidateStatusForm
reads the code out of whatever the citizen typed (replies.status fixes common
typos: spaces, lower case, a missing dash), re-asks with an example, and gives
up politely after three tries. ActionCheckStatus asks the portal (portal.client)
and says the result in Vietnamese (replies.status); it never says more than the
portal returned, and a dead portal costs one quick apology. Codes are masked in
logs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.language.text import fold
from portal.client import PortalClient, PortalError, mask_code
from replies.hotline import hotline_number
from replies.status import EXAMPLE, error_message, normalize_code, status_message

logger = logging.getLogger(__name__)

MAX_TRIES = 3
# "thôi", "hủy", "dừng", "không tra nữa": the citizen abandons the form.
_CANCEL = re.compile(r"^\W*(thoi|huy|dung|khong (tra|can) nua|bo qua)\b")


class ValidateStatusForm(FormValidationAction):
    """Reads and checks the application code; three tries, then gives up."""

    def name(self) -> str:
        return "validate_status_form"

    async def validate_application_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        message = tracker.latest_message or {}
        typed = str(message.get("text") or "")
        # Explicit words only: "không nhớ" (a deny to the classifier) is no
        # reason to stop, it is a reason to explain where the code is.
        if _CANCEL.search(fold(typed).lower()):
            dispatcher.utter_message(
                text="Dạ, em đã hủy tra cứu hồ sơ. Anh/chị cần hỏi gì thêm không ạ?"
            )
            return {"application_code": None, "status_tries": 0, "requested_slot": None}
        code = normalize_code(str(slot_value or "")) or normalize_code(typed)
        if code:
            return {"application_code": code, "status_tries": 0}
        tries = int(tracker.get_slot("status_tries") or 0) + 1
        if tries >= MAX_TRIES:
            dispatcher.utter_message(
                text=(
                    "Dạ, em chưa nhận được mã hồ sơ hợp lệ. Anh/chị xem mã trên giấy biên nhận, "
                    f"hoặc gọi tổng đài {hotline_number()} để được tra cứu giúp ạ."
                )
            )
            return {"application_code": None, "status_tries": 0, "requested_slot": None}
        dispatcher.utter_message(
            text=(
                "Dạ, mã hồ sơ chưa đúng định dạng. Mã gồm chữ, số, dấu chấm và gạch ngang, "
                f'ví dụ {EXAMPLE}. Anh/chị nhắn lại mã giúp em ạ (nhắn "thôi" để hủy).'
            )
        )
        return {"application_code": None, "status_tries": tries}


class ActionAskApplicationCode(Action):
    """The form's question for the code (Rasa calls action_ask_<slot>)."""

    def name(self) -> str:
        return "action_ask_application_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(
            text=(
                "Dạ, anh/chị cho em xin mã hồ sơ in trên giấy biên nhận "
                f'(ví dụ {EXAMPLE}) ạ. Nhắn "thôi" nếu muốn hủy.'
            )
        )
        return []


_client: PortalClient | None = None


def portal() -> PortalClient:
    """One client (one HTTP session and one circuit breaker) per action server."""
    global _client
    if _client is None:
        _client = PortalClient.from_env()
    return _client


class ActionCheckStatus(Action):
    """Looks the collected code up on the portal and says what it found."""

    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = tracker.get_slot("application_code")
        if not code:  # the form gave up; it said why
            return [SlotSet("status_tries", 0)]
        try:
            application = await portal().get_application(code)
        except PortalError as error:
            logger.info("status %s: %s", mask_code(code), type(error).__name__)
            dispatcher.utter_message(text=error_message(error, code))
            return [SlotSet("application_code", None)]
        logger.info("status %s: %s", mask_code(code), application.status)
        dispatcher.utter_message(text=status_message(application))
        return [SlotSet("application_code", None)]
