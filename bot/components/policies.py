"""A dialogue policy for conversation states that own the next message.

Some states decide what any next message means, whatever its intent: while
a handoff ticket is open, staff answer, not the bot; after the bot asked
"which of these procedures?", a bare "2" is a choice, not a new question.
Rules cannot say "any intent"; this policy can. Configured in config.yml as

    - name: bot.components.policies.GatePolicy
      gates:
        - slot: handoff_ticket
          action: action_handoff_wait
          except_intents: [resume_bot]

While a gate's slot is set, the first action after a user message is the
gate's action. A gate action that finds the message is not for it clears its
slot and chains (FollowupAction) the action the message needs.

It also ends the turn after a gate action, and after an action that ran as
another's follow-up: no rule knows those states, and RulePolicy's core
fallback would otherwise predict action_fallback after them, again and again.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

# What Rasa records as the "policy" of an action run by FollowupAction.
FOLLOWUP_POLICY = "followup_action"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class GatePolicy(Policy):
    """Sends every message to a gate's action while the gate's slot is set."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns default config (see parent class for full docstring)."""
        # Above RulePolicy (6): a gate overrides the rules for the next message.
        return {"priority": 7, "gates": []}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: gates are configuration."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The gate action right after a user message; listening after it and
        after chained follow-ups."""
        since_user = _actions_since_last_user_message(tracker)
        gate_actions = {gate["action"] for gate in self.config["gates"]}
        if since_user == [ACTION_LISTEN_NAME]:
            intent = (tracker.latest_message.intent or {}).get("name")
            for gate in self.config["gates"]:
                if tracker.get_slot(gate["slot"]) and intent not in gate.get("except_intents", []):
                    return self._prediction(confidence_scores_for(gate["action"], 1.0, domain))
        elif gate_actions & set(since_user) or (
            _last_action_was_a_follow_up(tracker) and since_user[-1] not in domain.form_names
        ):
            return self._prediction(confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain))
        return self._prediction(self._default_predictions(domain))


def _actions_since_last_user_message(tracker: DialogueStateTracker) -> list[str]:
    """Names of the actions run since the latest user message, oldest first.

    The action_listen that preceded the message counts, so that a fresh
    message reads as ["action_listen"].
    """
    names: list[str] = []
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_user = True
        elif isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
            if seen_user:
                break
    return list(reversed(names)) if seen_user else []


def _last_action_was_a_follow_up(tracker: DialogueStateTracker) -> bool:
    """Whether the latest action ran because another action chained it."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            return event.policy == FOLLOWUP_POLICY
    return False
