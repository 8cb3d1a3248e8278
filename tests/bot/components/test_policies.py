"""GatePolicy: while a gate's slot is set, the next message goes to its action."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.policies import GatePolicy
from tests.conftest import ROOT

GATES = [
    {"slot": "handoff_ticket", "action": "action_handoff_wait", "except_intents": ["resume_bot"]},
    {"slot": "pending_choices", "action": "action_choose_procedure"},
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> GatePolicy:
    config = {**GatePolicy.get_default_config(), "gates": GATES}
    return GatePolicy(
        config,
        LocalModelStorage(tmp_path),
        Resource("gate"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def predicted(policy: GatePolicy, domain: Domain, events: list) -> str | None:
    tracker = DialogueStateTracker.from_events("u1", events, slots=domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


def message(intent: str) -> list:
    return [ActionExecuted("action_listen"), UserUttered("...", {"name": intent})]


def test_no_gate_no_prediction(policy: GatePolicy, domain: Domain) -> None:
    assert predicted(policy, domain, message("ask_fee")) is None


def test_a_set_slot_takes_the_next_message_whatever_its_intent(
    policy: GatePolicy, domain: Domain
) -> None:
    held = [SlotSet("pending_choices", ["1.000001", "1.000002"])]
    for intent in ("nlu_fallback", "ask_fee", "greet"):
        assert predicted(policy, domain, held + message(intent)) == "action_choose_procedure"


def test_listens_after_the_gate_action_and_its_follow_up(
    policy: GatePolicy, domain: Domain
) -> None:
    events = [SlotSet("handoff_ticket", "7"), *message("ask_fee")]
    events.append(ActionExecuted("action_handoff_wait"))
    assert predicted(policy, domain, events) == "action_listen"
    events += [
        SlotSet("handoff_ticket", None),
        ActionExecuted("action_answer", policy="followup_action"),
    ]
    assert predicted(policy, domain, events) == "action_listen"


def test_listens_after_a_chained_follow_up(policy: GatePolicy, domain: Domain) -> None:
    events = [*message("nlu_fallback"), ActionExecuted("action_fallback")]
    assert predicted(policy, domain, events) is None  # rules decide
    events.append(ActionExecuted("action_handoff", policy="followup_action"))
    assert predicted(policy, domain, events) == "action_listen"


def test_excepted_intents_pass_the_gate(policy: GatePolicy, domain: Domain) -> None:
    held = [SlotSet("handoff_ticket", "7")]
    assert predicted(policy, domain, held + message("resume_bot")) is None
