"""Training data is consistent and meets the mix of typing styles citizens use."""

import re

import yaml

from tests.conftest import BOT_FILES, ROOT, rasa

INTENTS = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "ask_procedure",
    "ask_documents",
    "ask_fee",
    "ask_processing_time",
    "ask_where",
    "ask_online",
    "check_status",
    "provide_application_code",
    "request_human",
    "complain",
    "bot_challenge",
    "out_of_scope",
}
# Beyond the contract: set by answer buttons, and the way back from a handoff.
EXTRA_INTENTS = {"feedback", "resume_bot"}
ABBREVIATIONS = re.compile(
    r"\b(cccd|cmnd|gplx|gpkd|đkkd|dkkd|ubnd|bhxh|bhyt|mst|ko|k|hok|kp|dc|đc|j|ntn|bn|ad|e|"
    r"vs|z|r|ng|nv|sdt|hs|tks|nvqs|dky|ktra|kq|a/c|hk|bik|thui)\b"
)


def examples() -> list[tuple[str, str]]:
    rows = []
    for path in sorted((ROOT / "nlu_data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" in block:
                for line in block["examples"].splitlines():
                    text = re.sub(r"\[([^\]]+)\](\([^)]+\)|\{[^}]+\})", r"\1", line.strip()[2:])
                    rows.append((block["intent"], text))
    return rows


def test_rasa_data_validate_is_clean() -> None:
    result = rasa("data", "validate", *BOT_FILES, "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_contract_intent_has_examples() -> None:
    assert {intent for intent, _ in examples()} == INTENTS | EXTRA_INTENTS


def test_typing_styles_mix() -> None:
    rows = examples()
    unaccented = sum(text.isascii() for _, text in rows) / len(rows)
    abbreviated = sum(bool(ABBREVIATIONS.search(text.lower())) for _, text in rows) / len(rows)
    assert unaccented >= 0.30, unaccented
    assert abbreviated >= 0.10, abbreviated


def test_held_out_file_is_not_in_training() -> None:
    import json

    trained = {text.lower().strip() for _, text in examples()}
    held_out = [
        json.loads(line)
        for line in (ROOT / "tests" / "data" / "nlu_heldout.jsonl").read_text().splitlines()
    ]
    assert len(held_out) >= 150
    assert not [row["text"] for row in held_out if row["text"].lower().strip() in trained]
    assert sum(row["text"].isascii() for row in held_out) / len(held_out) >= 1 / 3
