"""Retrieval quality on the shared question sets must not regress.

Floors sit three or four questions under the figures measured when they were set
(2026-12-05, default ONNX encoder, question bank, national catalogue):
dev R@1 0.910, R@5 0.979, abstention 1.00 / 0.94; dev_common R@1 0.800, R@5 0.939;
FAQ titles R@1 0.784. A change that loses more is a regression.
"""

from pathlib import Path

import pytest

from index.catalogue import Catalogue
from index.embedders import create_embedder
from index.evaluate import read_questions, run
from index.search import Searcher
from index.store import build, load
from tests.index.conftest import SHARED

pytestmark = pytest.mark.skipif(
    not (SHARED / "eval" / "dev_questions.jsonl").exists(),
    reason="../shared (catalogue and eval questions) is not beside the repo",
)


@pytest.fixture(scope="module")
def national_searcher(national: Catalogue, tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    embedder = create_embedder()
    out: Path = tmp_path_factory.mktemp("national-index")
    build(national, embedder, out, progress=False)
    return load(out, national, embedder)


def test_dev_questions_floor(national_searcher: Searcher) -> None:
    questions = read_questions(SHARED / "eval" / "dev_questions.jsonl")
    hybrid, _ = run(national_searcher, questions, "hybrid")
    lexical, _ = run(national_searcher, questions, "lexical")
    print(f"\nhybrid {hybrid}\nlexical {lexical}")
    assert hybrid["recall@1"] >= 0.88
    assert hybrid["recall@5"] >= 0.95
    assert hybrid["recall@5"] > lexical["recall@5"]  # fusion must beat its lexical half
    assert hybrid["abstain_precision"] >= 0.9
    assert hybrid["abstain_recall"] >= 0.8


def test_everyday_questions_floor(national_searcher: Searcher) -> None:
    hybrid, _ = run(
        national_searcher, read_questions(SHARED / "eval" / "dev_common.jsonl"), "hybrid"
    )
    print(f"\nhybrid {hybrid}")
    assert hybrid["recall@1"] >= 0.75
    assert hybrid["recall@5"] >= 0.9


def test_faq_titles_floor(national_searcher: Searcher) -> None:
    path = SHARED / "eval" / "faq_titles_labelled.jsonl"
    hybrid, _ = run(national_searcher, read_questions(path), "hybrid")
    print(f"\nhybrid {hybrid}")
    assert hybrid["recall@1"] >= 0.72
