"""The catalogue and its search index, loaded once per action-server process.

CATALOGUE (default: the shipped national catalogue) and INDEX_DIR (default
models/index) say which; EMBEDDER=adapted picks the fine-tuned model of
`python -m index adapt` when it matches the catalogue, and QUERY_ADAPTER=1
the query adapter saved beside the index (both measured options, not the
default: see README). Loading takes seconds (the embedding model and the
index): the servers load it as they start (`warm_up`), and a question that
comes first waits for it. A missing or stale index of a small catalogue (the
seed) is rebuilt on the spot; a big one is built by `make run` (or `make
index`), and until then answers say the lookup is unavailable.

The searcher also reads the question bank's learned pairs from the help desk
(DESK_DB): what staff link in the console reaches it within a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

from helpdesk.desk import Desk, desk_path
from index.bank import BankQuestion
from index.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from index.embedders import Embedder, embedder_for
from index.search import Searcher
from index.store import StaleIndexError, build, load

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# Rebuilding this many procedures takes a few seconds: fine at start-up.
AUTO_BUILD_MAX = 500

_lock = threading.Lock()
_searcher: Searcher | None = None
_failure: str | None = None


class SearchUnavailableError(RuntimeError):
    """The index could not be loaded; the message says why."""


def _paths() -> tuple[Path, Path]:
    catalogue = Path(os.environ.get("CATALOGUE", "").strip() or DEFAULT_CATALOGUE)
    index = Path(os.environ.get("INDEX_DIR", "").strip() or ROOT / "models" / "index")
    return catalogue, index


def _load() -> Searcher:
    catalogue_path, index_dir = _paths()
    catalogue = load_catalogue(catalogue_path)
    for problem in catalogue.problems:
        logger.warning("catalogue %s: %s (skipped)", catalogue_path, problem)
    embedder = embedder_for(os.environ.get("EMBEDDER", "").strip() or "onnx", catalogue)
    # What staff teach in the console reaches this searcher without a restart.
    learned = DeskPairs()
    try:
        return _load_index(index_dir, catalogue, embedder, learned)
    except StaleIndexError:
        if len(catalogue.procedures) > AUTO_BUILD_MAX:
            raise
        logger.info("building the index of %s in %s", catalogue_path, index_dir)
        build(catalogue, embedder, index_dir, progress=False)
        return _load_index(index_dir, catalogue, embedder, learned)


def _load_index(
    index_dir: Path, catalogue: Catalogue, embedder: Embedder, learned: DeskPairs
) -> Searcher:
    if os.environ.get("QUERY_ADAPTER", "0") == "1":  # an option: index.adaptation
        from index.adaptation import load_adapted

        return load_adapted(index_dir, catalogue, embedder, learned=learned)
    return load(index_dir, catalogue, embedder, learned=learned)


class DeskPairs:
    """The question bank's learned pairs from the help desk of the moment (DESK_DB,
    read on each use like the rest of the desk), for `index.bank.LearnedSource`."""

    def __init__(self) -> None:
        self._desk: Desk | None = None

    def _current(self) -> Desk:
        path = desk_path()
        if self._desk is None or self._desk.path != path:
            self._desk = Desk(path)
        return self._desk

    def bank_version(self) -> str:
        desk = self._current()
        return f"{desk.path}:{desk.bank_version()}"

    def bank_entries(self) -> list[BankQuestion]:
        return self._current().bank_entries()


def searcher() -> Searcher:
    """The process's searcher; raises SearchUnavailableError if it cannot load."""
    global _searcher, _failure
    with _lock:
        if _searcher is None and _failure is None:
            try:
                _searcher = _load()
                logger.info(
                    "search ready: %d procedures, %s, adaptation: %s",
                    len(_searcher.procedures),
                    _searcher.embedder.name,
                    _searcher.adaptation,
                )
            except (StaleIndexError, OSError, ValueError, sqlite3.Error) as error:
                _failure = str(error)
                logger.error("search unavailable: %s", error)
        if _searcher is None:
            raise SearchUnavailableError(_failure or "not loaded")
        return _searcher


def warm_up() -> None:
    """Loads the searcher now, so the first question does not wait: servers call
    it as they start (importing this module loads nothing). A failure is logged,
    and each answer then says the lookup is unavailable."""
    with contextlib.suppress(SearchUnavailableError):
        searcher()


def reset() -> None:
    """Forgets the loaded searcher, so the next use reads CATALOGUE again."""
    global _searcher, _failure
    with _lock:
        _searcher, _failure = None, None
