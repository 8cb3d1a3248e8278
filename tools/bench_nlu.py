"""Parse latency of a trained model, in process, after warm-up.

    python -m tools.bench_nlu --model models/vi-bot.tar.gz [--messages FILE.jsonl]

Parses every message of FILE (default: the held-out test file) `--rounds`
times, one at a time as the server does, and prints p50/p95/p99/max in ms
and the last line as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from tools.eval_nlu import load_agent, read_examples
from tools.harness import percentile

DEFAULT_MESSAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "nlu_heldout.jsonl"


async def measure(model: Path, texts: list[str], rounds: int) -> list[float]:
    agent = load_agent(model)
    for text in texts[:20]:  # warm-up: TensorFlow builds its graphs on first calls
        await agent.parse_message(text)
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            await agent.parse_message(text)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--messages", type=Path, default=DEFAULT_MESSAGES)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    texts = [e.text for e in read_examples(args.messages)]
    timings = asyncio.run(measure(args.model, texts, args.rounds))
    figures = {
        "parses": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "p99_ms": round(percentile(timings, 0.99), 1),
        "max_ms": round(max(timings), 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
