"""The trained model: test stories pass, held-out intents are recognised."""

import asyncio
from pathlib import Path

from tests.conftest import ROOT, rasa
from tools.eval_nlu import predict, read_examples, score

HELD_OUT = ROOT / "tests" / "data" / "nlu_heldout.jsonl"


def test_test_stories_pass(trained_model: Path, tmp_path: Path) -> None:
    result = rasa(
        "test",
        "core",
        "--model",
        str(trained_model),
        "--stories",
        "tests/stories",
        "--out",
        str(tmp_path),
        "--fail-on-prediction-errors",
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, detail


def test_held_out_intent_classification(trained_model: Path) -> None:
    """Messages written apart from the training data (see tests/data)."""
    examples = read_examples(HELD_OUT)
    parses = asyncio.run(predict(trained_model, [e.text for e in examples]))
    result = score(
        [e.intent for e in examples], [(p.get("intent") or {}).get("name") for p in parses]
    )
    print(f"\nheld-out: accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}")
    assert result["accuracy"] >= 0.90
    assert result["macro_f1"] >= 0.88


def test_application_code_entity(trained_model: Path) -> None:
    [parse] = asyncio.run(predict(trained_model, ["tra cứu giúp hồ sơ G01.12-240903-0145 ạ"]))
    assert parse["intent"]["name"] == "check_status"
    assert [e["value"] for e in parse["entities"]] == ["G01.12-240903-0145"]
