"""Building, saving and loading the search index, with a manifest.

The manifest names the embedding model, its dimension and the catalogue's
hash; loading an index built from another catalogue or model is refused with
a rebuild hint, because silently mixing them returns wrong procedures. Each
build also compares per-procedure hashes with the previous build and reports
procedures added, amended and abolished (the national database publishes such
changes monthly); an abolished one is simply not in the new index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from index.accents import AccentRestorer, conversational_texts
from index.aliases import Aliases
from index.bank import BankQuestion, LearnedSource, read_questions
from index.catalogue import Catalogue, Procedure
from index.embedders import Embedder, batched
from index.search import PASSAGES, QueryHook, Searcher, Settings, passage_texts

logger = logging.getLogger(__name__)

FORMAT = 2
MANIFEST, RECORDS = "manifest.json", "records.json"
BANK_VECTORS = "bank-vectors.npz"
PASSAGE_VECTORS = "passage-vectors.npz"
EVERYDAY_WEIGHT = 20


class StaleIndexError(RuntimeError):
    """The index on disk does not belong to this catalogue or model."""


@dataclass(frozen=True)
class Changes:
    """Procedures added, amended and abolished since the previous build."""

    added: list[str]
    amended: list[str]
    abolished: list[str]
    embedded: int = 0  # passages sent to the model (the rest came from the previous build)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.amended)} amended, {len(self.abolished)} abolished"
        )


def record_hash(procedure: Procedure) -> str:
    """A stable hash of everything the catalogue says about one procedure."""
    canonical = json.dumps(procedure.record, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def restorer_for(procedures: list[Procedure], everyday: list[str]) -> AccentRestorer:
    """Accent model from the catalogue's names, fields, results and document
    names, plus everyday phrases (the alias dictionary and the bot's training
    sentences), weighted up: they are few, and they are how citizens write."""
    texts: list[str] = [*everyday, *conversational_texts()] * EVERYDAY_WEIGHT
    for p in procedures:
        texts += [p.name, p.field or "", p.result or "", *(d.name for d in p.documents)]
    return AccentRestorer(texts)


def _vectors_file(passage: str) -> str:
    return f"vectors-{passage}.faiss"


def _faiss_index(vectors: np.ndarray, kind: str) -> faiss.Index:
    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    elif kind == "ivf":
        lists = max(1, int(len(vectors) ** 0.5))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
    else:
        raise ValueError(f"unknown index kind {kind!r}: flat, ivf or hnsw")
    index.add(vectors)
    return index


def build(
    catalogue: Catalogue,
    embedder: Embedder,
    out: Path,
    kind: str = "flat",
    progress: bool = True,
) -> Changes:
    """Embeds the catalogue and writes the index; returns the changes since last time."""
    out.mkdir(parents=True, exist_ok=True)
    previous: dict[str, str] = {}
    if (out / RECORDS).exists():
        previous = json.loads((out / RECORDS).read_text(encoding="utf-8"))
    current = {p.code: record_hash(p) for p in catalogue.procedures}
    texts = [passage_texts(p) for p in catalogue.procedures]
    # Passages embedded by an earlier build are reused: an update embeds only what changed.
    cache = VectorCache(
        out / PASSAGE_VECTORS, embedder, lambda batch: embedder.passages(batch, progress)
    )
    for passage in PASSAGES:
        vectors = cache([t[passage] for t in texts])
        with _replacing(out / _vectors_file(passage)) as path:
            faiss.write_index(_faiss_index(vectors, kind), str(path))
    cache.keep_only([t[passage] for t in texts for passage in PASSAGES])
    with _replacing(out / RECORDS) as path:
        path.write_text(json.dumps(current, ensure_ascii=False), encoding="utf-8")
    manifest = {
        "format": FORMAT,
        "model": embedder.name,
        "dim": embedder.dim,
        "index": kind,
        "passages": list(PASSAGES),
        "catalogue_sha256": catalogue.sha256,
        "procedures": len(catalogue.procedures),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    with _replacing(out / MANIFEST) as path:
        path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Changes(
        added=sorted(set(current) - set(previous)),
        amended=sorted(c for c in current if c in previous and previous[c] != current[c]),
        abolished=sorted(set(previous) - set(current)),
        embedded=cache.embedded,
    )


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write, moved over `path` in one step when done.

    The action server and the hotline console may both build a small index on
    start; each file is then either the old one or a whole new one, never torn.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.exists():
        raise StaleIndexError(f"no index in {directory}: run `python -m index build`")
    return json.loads(path.read_text(encoding="utf-8"))


class VectorCache:
    """Vectors of texts, kept in a file beside the index and keyed by a hash of each text.

    Only texts not seen before cost the model: the question bank's when the index
    loads (staff add to it), and the passages of new and amended procedures when a
    catalogue update is built (`build`).
    """

    def __init__(
        self,
        path: Path,
        embedder: Embedder,
        embed: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        self.path, self.embedder = path, embedder
        self._embed = embed or (lambda texts: batched(embedder.queries, texts, False, "bank"))
        self._vectors: dict[str, np.ndarray] = {}
        self.embedded = 0  # texts this cache sent to the model
        try:
            with np.load(path, allow_pickle=False) as saved:
                if str(saved["model"]) == embedder.name:
                    keys, vectors = saved["keys"].tolist(), saved["vectors"]
                    self._vectors = dict(zip(keys, vectors, strict=True))
        except (OSError, KeyError, ValueError):
            pass  # none yet, or from another model: embedded again

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [_text_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}
        if missing:
            vectors = self._embed(list(missing.values()))
            self._vectors.update(zip(missing, vectors, strict=True))
            self.embedded += len(missing)
            self._save()
        return np.vstack([self._vectors[k] for k in keys]).astype(np.float32)

    def keep_only(self, texts: Sequence[str]) -> None:
        """Forgets every text but these (the passages of the catalogue just built)."""
        wanted = {_text_key(t) for t in texts}
        if set(self._vectors) - wanted:
            self._vectors = {k: v for k, v in self._vectors.items() if k in wanted}
            self._save()

    def _save(self) -> None:
        keys = list(self._vectors)
        try:
            with _replacing(self.path) as path, path.open("wb") as handle:
                np.savez(handle, model=np.array(self.embedder.name), keys=np.array(keys),
                         vectors=np.vstack([self._vectors[k] for k in keys]))  # fmt: skip
        except OSError as error:  # a read-only index still works, it just embeds again
            logger.warning("vectors not saved in %s: %s", self.path, error)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(
    directory: Path,
    catalogue: Catalogue,
    embedder: Embedder,
    aliases: Aliases | None = None,
    questions: Sequence[BankQuestion] | None = None,
    learned: LearnedSource | None = None,
    settings: Settings | None = None,
    query_hook: QueryHook | None = None,
) -> Searcher:
    """A Searcher over a built index, refusing one that does not match.

    `settings` default to the model's; `query_hook` turns query vectors
    (index.adaptation.load_adapted passes its query adapter here).
    The question bank is the team's (`index/data/questions`) unless `questions`
    says otherwise (`()`: none), plus what `learned` holds.
    """
    manifest = read_manifest(directory)
    expected = {
        "format": FORMAT,
        "catalogue_sha256": catalogue.sha256,
        "model": embedder.name,
        "dim": embedder.dim,
    }
    wrong = {k: (manifest.get(k), v) for k, v in expected.items() if manifest.get(k) != v}
    if wrong:
        details = "; ".join(
            f"{k}: index has {have!r}, needs {need!r}" for k, (have, need) in wrong.items()
        )
        raise StaleIndexError(
            f"index in {directory} does not match ({details}): "
            "rebuild it with `python -m index build`"
        )
    vectors = {}
    for passage in PASSAGES:
        path = directory / _vectors_file(passage)
        index = faiss.read_index(str(path)) if path.exists() else None
        if index is None or index.ntotal != len(catalogue.procedures):
            raise StaleIndexError(
                f"index in {directory} is incomplete: rebuild it with `python -m index build`"
            )
        vectors[passage] = index
    aliases = aliases if aliases is not None else Aliases.load()
    searcher = Searcher(
        catalogue.procedures,
        embedder,
        vectors,
        restorer_for(catalogue.procedures, aliases.phrases),
        aliases,
        settings or Settings.for_model(embedder.name),
        query_hook=query_hook,
        as_of=catalogue.as_of,
    )
    questions = read_questions() if questions is None else questions
    if questions or learned is not None:
        searcher.attach_bank(questions, VectorCache(directory / BANK_VECTORS, embedder), learned)
    return searcher
