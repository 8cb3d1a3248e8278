"""Actions over the fixed small catalogue, with a throw-away help-desk database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpdesk import search as catalogue_search
from index.search import Searcher
from tests.index.conftest import MINI


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("actions-index")


@pytest.fixture
def search(mini_index: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Searcher]:
    """The actions' searcher, loaded from the mini catalogue (built on first use)."""
    monkeypatch.setenv("CATALOGUE", str(MINI))
    monkeypatch.setenv("INDEX_DIR", str(mini_index))
    catalogue_search.reset()
    yield catalogue_search.searcher()
    catalogue_search.reset()


@pytest.fixture(autouse=True)
def fresh_desk(desk_db: Path) -> Path:
    """Every action test writes to a throw-away help desk."""
    return desk_db
