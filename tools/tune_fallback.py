"""Choose the FallbackClassifier's threshold and ambiguity_threshold from data.

    python -m tools.tune_fallback [--train-frac 0.8] [--seed 7]

Trains the NLU pipeline of config.yml on a stratified part of nlu_data/,
parses the rest, and scores every (threshold, ambiguity) pair as the bot would
act on it: a right intent +1, a fallback ("please rephrase") 0, a wrong
intent -1 — a wrong answer costs the citizen a wrong reply and the rephrasing,
twice what a fallback costs. Prints the table and the chosen pair; config.yml
is edited by hand with the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from tools.eval_nlu import load_agent
from tools.harness import ROOT

THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
AMBIGUITIES = [0.0, 0.05, 0.1, 0.2]


def raw_ranking(parse: dict) -> list[tuple[str, float]]:
    """DIET's ranking without the fallback entry the FallbackClassifier adds."""
    return [
        (r["name"], r["confidence"])
        for r in parse.get("intent_ranking", [])
        if r["name"] != "nlu_fallback"
    ]


def utility(
    observations: list[tuple[str, list[tuple[str, float]]]], threshold: float, ambiguity: float
) -> tuple[float, float, float]:
    """Mean utility, share answered right, share sent to fallback."""
    right = wrong = fallback = 0
    for gold, ranking in observations:
        top, confidence = ranking[0]
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        if confidence < threshold or confidence - second < ambiguity:
            fallback += 1
        elif top == gold:
            right += 1
        else:
            wrong += 1
    n = len(observations)
    return (right - wrong) / n, right / n, fallback / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-frac", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "nlu_data" / "nlu"))
    train, test = data.train_test_split(train_frac=args.train_frac, random_seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.yml"
        train_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
        model = train_nlu(str(ROOT / "config.yml"), str(train_file), tmp, fixed_model_name="tune")
        agent = load_agent(Path(model))

        async def parse_all() -> list[dict]:
            return [await agent.parse_message(m.get("text")) for m in test.intent_examples]

        parses = asyncio.run(parse_all())
    observations = [
        (m.get("intent"), raw_ranking(p)) for m, p in zip(test.intent_examples, parses, strict=True)
    ]
    rows = []
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            score, right, fallback = utility(observations, threshold, ambiguity)
            rows.append((score, threshold, ambiguity, right, fallback))
            print(
                f"threshold={threshold:.2f} ambiguity={ambiguity:.2f}  utility={score:.3f}  "
                f"right={right:.3f} fallback={fallback:.3f}"
            )
    # The curve is flat near its top: within one example of the best, prefer the
    # lowest threshold (answer more), then the best score, then less ambiguity.
    top = max(r[0] for r in rows)
    near = [r for r in rows if r[0] >= top - 1 / len(observations)]
    lowest = min(r[1] for r in near)
    best = max((r for r in near if r[1] == lowest), key=lambda r: (r[0], -r[2]))
    print(
        json.dumps(
            {
                "n_test": len(observations),
                "threshold": best[1],
                "ambiguity_threshold": best[2],
                "utility": round(best[0], 4),
                "right": round(best[3], 4),
                "fallback": round(best[4], 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
