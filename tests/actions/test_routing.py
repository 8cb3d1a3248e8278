"""The gates' routing table says what the rules in nlu_data/rules/ say."""

from __future__ import annotations

import yaml

from actions.routing import ROUTES, route
from tests.conftest import ROOT


def rule_routes() -> dict[str, str]:
    """Intent -> first action, for every rule that starts a turn with an intent
    (rules that start from an earlier action or a condition are context, not routing)."""
    routes: dict[str, str] = {}
    for path in sorted((ROOT / "nlu_data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            steps = rule["steps"]
            if rule.get("condition") or len(steps) < 2 or "action" in steps[0]:
                continue
            first, action = steps[0], steps[1]["action"]
            intents = [s["intent"] for s in first["or"]] if "or" in first else [first["intent"]]
            for intent in intents:
                assert routes.setdefault(intent, action) == action, f"{path.name}: {intent}"
    return routes


def test_routes_match_the_rules() -> None:
    assert rule_routes() == ROUTES


def test_unknown_intent_falls_back() -> None:
    assert route("no_such_intent") == "action_fallback"
    assert route(None) == "action_fallback"
