"""Retrieval metrics on question files in the format of shared/eval/README.md.

Gold = expected ∪ acceptable. Over in-catalogue questions: Recall@1, Recall@5,
MRR@10 (an abstention is a miss). Over all questions: abstention precision
(abstentions on out-of-catalogue rows / all abstentions) and recall
(abstentions on out-of-catalogue rows / out-of-catalogue rows). p95_ms is the
search latency per query after warm-up.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from index.catalogue import Catalogue
from index.embedders import Embedder
from index.search import Mode, Searcher
from index.store import build
from tools.harness import percentile


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: frozenset[str]
    in_catalogue: bool
    style: str


def read_questions(path: Path) -> list[Question]:
    """Reads an eval JSONL file, naming the line of a malformed row."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = list(row["expected"])
            questions.append(
                Question(
                    str(row.get("id", number)),
                    str(row["question"]),
                    frozenset(expected) | frozenset(row.get("acceptable") or []),
                    bool(expected),
                    str(row.get("style", "")),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise SystemExit(f"{path}:{number}: not an eval question ({error})") from None
    return questions


def metrics(rows: list[tuple[Question, list[str], bool]], latencies: list[float]) -> dict:
    """rows: (question, ranked codes, abstained)."""
    inside = [(q, codes, abstained) for q, codes, abstained in rows if q.in_catalogue]
    r1 = r5 = mrr = 0.0
    for q, codes, abstained in inside:
        if abstained:
            continue
        for rank, code in enumerate(codes[:10], 1):
            if code in q.gold:
                r1 += rank == 1
                r5 += rank <= 5
                mrr += 1 / rank
                break
    abstentions = [q for q, _, abstained in rows if abstained]
    outside = sum(not q.in_catalogue for q, _, _ in rows)
    correct_abstentions = sum(not q.in_catalogue for q in abstentions)
    n = len(inside)
    return {
        "n": len(rows),
        "recall@1": round(r1 / n, 4) if n else 0.0,
        "recall@5": round(r5 / n, 4) if n else 0.0,
        "mrr@10": round(mrr / n, 4) if n else 0.0,
        "abstain_precision": round(correct_abstentions / len(abstentions), 4)
        if abstentions
        else 0.0,
        "abstain_recall": round(correct_abstentions / outside, 4) if outside else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 2),
    }


def run(searcher: Searcher, questions: list[Question], mode: Mode) -> tuple[dict, dict]:
    """Overall metrics and metrics per style for one mode of the searcher."""
    for q in questions[:5]:  # warm-up
        searcher.search(q.text, mode=mode)
    searcher.clear_cache()  # time the model on every question, as for new ones
    rows, latencies = [], []
    for q in questions:
        started = time.perf_counter()
        result = searcher.search(q.text, k=10, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append((q, [h.procedure.code for h in result.hits], result.abstained))
    by_style = defaultdict(list)
    for row, latency in zip(rows, latencies, strict=True):
        by_style[row[0].style].append((row, latency))
    styles = {
        style: metrics([r for r, _ in items], [lat for _, lat in items])
        for style, items in sorted(by_style.items())
    }
    return metrics(rows, latencies), styles


def bench(searcher: Searcher, texts: list[str], rounds: int) -> dict:
    """Query latency with the model running on every question (the cache cleared
    each round), then the same questions again from the cache."""
    for text in texts[:10]:  # warm-up
        searcher.search(text)
    timings, cached = [], []
    for _ in range(rounds):
        searcher.clear_cache()
        for text in texts:
            begun = time.perf_counter()
            searcher.search(text)
            timings.append((time.perf_counter() - begun) * 1000)
    for text in texts:
        begun = time.perf_counter()
        searcher.search(text)
        cached.append((time.perf_counter() - begun) * 1000)
    return {
        "queries": len(timings),
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "repeat_p95_ms": round(percentile(cached, 0.95), 1),
    }


def update_seconds(
    catalogue: Catalogue, embedder: Embedder, index_dir: Path, changed: int
) -> float:
    """Seconds to build a catalogue update in which `changed` procedures were amended
    (their names), on a copy of the index in `index_dir`: what a monthly update costs.
    The copy is first brought up to date (untimed), for an index built before
    passages were kept."""
    amended = [
        replace(p, name=f"{p.name} (sửa đổi)", record={**p.record, "name": f"{p.name} (sửa đổi)"})
        if i < changed
        else p
        for i, p in enumerate(catalogue.procedures)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(index_dir, copy)
        build(catalogue, embedder, copy, progress=False)
        started = time.perf_counter()
        build(Catalogue(amended, [], "update"), embedder, copy, progress=False)
        return time.perf_counter() - started
