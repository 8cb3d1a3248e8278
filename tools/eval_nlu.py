"""Intent accuracy and macro-F1 of a trained model on a JSONL file.

    python -m tools.eval_nlu --model models/vi-bot.tar.gz FILE.jsonl

FILE has one `{"text": ..., "intent": ...}` per line. Output: a line per
intent, the most frequent confusions, then (last line) one JSON object
`{"n", "accuracy", "macro_f1", ...}`. A message the FallbackClassifier sends
to `nlu_fallback` counts as wrong: that is what the bot would do with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa.core.agent import Agent

FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def read_examples(path: Path) -> list[Example]:
    """Reads the file, naming the line of any malformed row."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(Example(str(row["text"]), str(row["intent"])))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise SystemExit(f"{path}:{number}: not a {{text, intent}} object ({error})") from None
    return examples


def score(gold: list[str], predicted: list[str]) -> dict[str, object]:
    """Accuracy, macro-F1 over the gold intents, and per-intent figures."""
    pairs = list(zip(gold, predicted, strict=True))
    per_intent = {}
    for intent in sorted(set(gold)):
        tp = sum(g == p == intent for g, p in pairs)
        fp = sum(p == intent != g for g, p in pairs)
        fn = sum(g == intent != p for g, p in pairs)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = {"n": tp + fn, "precision": precision, "recall": recall, "f1": f1}
    n = len(gold)
    return {
        "n": n,
        "accuracy": sum(g == p for g, p in pairs) / n if n else 0.0,
        "macro_f1": sum(v["f1"] for v in per_intent.values()) / len(per_intent)
        if per_intent
        else 0.0,
        "fallback_rate": predicted.count(FALLBACK) / n if n else 0.0,
        "per_intent": per_intent,
    }


def load_agent(model: Path) -> Agent:
    """Loads a trained model quietly (Rasa logs every parse at debug level)."""
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    return Agent.load(str(model))


async def predict(model: Path, texts: list[str]) -> list[dict]:
    """Parses every text with the model, as the running server would."""
    agent = load_agent(model)
    return [await agent.parse_message(text) for text in texts]


def report(examples: list[Example], parses: list[dict]) -> dict[str, object]:
    """Prints per-intent lines and confusions; returns the summary."""
    gold = [e.intent for e in examples]
    predicted = [(p.get("intent") or {}).get("name") or FALLBACK for p in parses]
    result = score(gold, predicted)
    for intent, figures in result["per_intent"].items():
        print(
            f"{intent:26} n={figures['n']:3}  P={figures['precision']:.2f}  "
            f"R={figures['recall']:.2f}  F1={figures['f1']:.2f}"
        )
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    for (g, p), count in confusions.most_common(12):
        print(f"confused {g} -> {p}: {count}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("intents", type=Path, help="JSONL of {text, intent}")
    parser.add_argument("--model", type=Path, required=True)
    args = parser.parse_args(argv)
    examples = read_examples(args.intents)
    if not examples:
        raise SystemExit(f"{args.intents}: no examples")
    parses = asyncio.run(predict(args.model, [e.text for e in examples]))
    result = report(examples, parses)
    summary = {k: round(v, 4) for k, v in result.items() if k != "per_intent"}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
