"""Which action handles an intent when a gate lets a message through.

While a gate holds the conversation (a pending choice, an open handoff, a
consent question), GatePolicy sends every message to the gate's action. When
the message is not for the gate, the gate chains the action this table names:
the same one the rules in nlu_data/rules/ give the intent.
"""

from __future__ import annotations

ROUTES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_welcome",
    "affirm": "utter_ask_what",
    "deny": "utter_ask_what",
    "bot_challenge": "utter_iamabot",
    "out_of_scope": "action_out_of_scope",
    "ask_procedure": "action_answer",
    "ask_documents": "action_answer",
    "ask_fee": "action_answer",
    "ask_processing_time": "action_answer",
    "ask_where": "action_answer",
    "ask_online": "action_answer",
    "check_status": "status_form",
    "provide_application_code": "status_form",
    "request_human": "action_handoff",
    "complain": "action_complaint",
    "feedback": "action_feedback",
    "resume_bot": "action_resume_bot",
    "nlu_fallback": "action_fallback",
}


def route(intent: str | None) -> str:
    """The action for `intent`; an unknown one gets the fallback."""
    return ROUTES.get(intent or "", "action_fallback")
