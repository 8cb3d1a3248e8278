"""A learned query adapter: the cheap way to teach the dense channel this domain.

Fine-tuning the whole model takes half an hour on two cores. This instead
learns one d×d matrix applied to query vectors only (q' = normalise(q·M)),
trained on frozen embeddings of the catalogue's own training pairs
(index.adaptation.pairs) against the procedures' passage vectors already in the index.
Passages are untouched, so the index need not be rebuilt, and training takes
seconds once the pair queries are embedded (their vectors are cached by text,
so a new catalogue only embeds what changed).

M starts as the identity and is pulled back towards it (weight decay on
M − I): the adapter nudges the base model, it does not replace it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

__all__ = ["QueryAdapter", "TrainReport", "passage_matrix", "train_adapter"]

ADAPTER_FILE, ADAPTER_MANIFEST = "adapter.npy", "adapter.json"
VECTOR_CACHE = "pair-vectors.npz"


class QueryAdapter:
    """q' = normalise(q·M) for a batch of normalised query vectors."""

    def __init__(self, matrix: np.ndarray, manifest: dict) -> None:
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.manifest = manifest

    @property
    def name(self) -> str:
        return f"query-adapter-{self.manifest.get('sha256', '?')[:12]}"

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        adapted = vectors @ self.matrix
        norms = np.linalg.norm(adapted, axis=1, keepdims=True)
        return (adapted / np.maximum(norms, 1e-12)).astype(np.float32)

    def save(self, directory: Path) -> None:
        """Matrix then manifest, each replaced whole (the manifest is what load trusts)."""
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{ADAPTER_FILE}.tmp.npy"
        np.save(temporary, self.matrix)
        temporary.replace(directory / ADAPTER_FILE)
        manifest = directory / f".{ADAPTER_MANIFEST}.tmp"
        manifest.write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False), "utf-8")
        manifest.replace(directory / ADAPTER_MANIFEST)

    @classmethod
    def load(cls, directory: Path) -> QueryAdapter | None:
        """The adapter saved in `directory`, or None when there is none."""
        path, manifest = directory / ADAPTER_FILE, directory / ADAPTER_MANIFEST
        if not (path.exists() and manifest.exists()):
            return None
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        matrix = np.load(path)
        if hashlib.sha256(matrix.tobytes()).hexdigest() != meta.get("sha256"):
            return None  # torn or edited: the base model is the safe answer
        return cls(matrix, meta)


def read_manifest(directory: Path) -> dict | None:
    path = directory / ADAPTER_MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def passage_matrix(vectors: dict[str, faiss.Index], details_weight: float) -> np.ndarray:
    """Each procedure's passages blended as the search blends their scores.

    The dense score is (q·name + w·q·details) / (1 + w) = q·(name + w·details)/(1 + w),
    so training against this matrix optimises exactly what the search ranks by.
    """
    name = vectors["name"].reconstruct_n(0, vectors["name"].ntotal)
    if "details" not in vectors or not details_weight:
        return name
    details = vectors["details"].reconstruct_n(0, vectors["details"].ntotal)
    return (name + details_weight * details) / (1 + details_weight)


@dataclass(frozen=True)
class TrainReport:
    pairs: int
    epochs: int
    seconds: float
    train_recall_at_1_before: float
    train_recall_at_1_after: float


def embed_cached(embed, texts: Sequence[str], cache: Path, model: str) -> np.ndarray:
    """Query vectors of `texts`, reusing the ones cached for this model."""
    known: dict[str, np.ndarray] = {}
    if cache.exists():
        stored = np.load(cache, allow_pickle=False)
        if str(stored["model"]) == model:
            known = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
    missing = sorted({t for t in texts if t not in known})
    if missing:
        for text, vector in zip(missing, embed(missing), strict=True):
            known[text] = vector
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_name(f".{cache.name}.tmp.npz")
        names = list(known)
        np.savez(temporary, model=np.array(model), texts=np.array(names),
                 vectors=np.stack([known[t] for t in names]))  # fmt: skip
        temporary.replace(cache)
    return np.stack([known[t] for t in texts]).astype(np.float32)


def _recall_at_1(queries: np.ndarray, targets: np.ndarray, passages: np.ndarray) -> float:
    best = np.argmax(queries @ passages.T, axis=1)
    return float(np.mean(best == targets))


def train_adapter(
    queries: np.ndarray,
    targets: np.ndarray,
    passages: np.ndarray,
    *,
    epochs: int = 30,
    batch_size: int = 512,
    learning_rate: float = 2e-3,
    temperature: float = 0.02,
    decay: float = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, TrainReport]:
    """The matrix M minimising cross-entropy over all procedures, plus decay·‖M − I‖².

    Every procedure is a negative for every query (a full softmax: the
    catalogue is small), with e5's narrow cosine range spread by a low
    temperature.
    """
    import torch
    from tqdm import tqdm

    started = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    q = torch.from_numpy(queries)
    y = torch.from_numpy(targets.astype(np.int64))
    p = torch.from_numpy(np.ascontiguousarray(passages, dtype=np.float32))
    dim = q.shape[1]
    identity = torch.eye(dim)
    matrix = torch.nn.Parameter(identity.clone())
    optimiser = torch.optim.Adam([matrix], lr=learning_rate)
    rounds = range(epochs)
    bar = tqdm(rounds, desc="training query adapter", unit="epoch") if progress else rounds
    for _ in bar:
        order = torch.randperm(len(q), generator=generator)
        for start in range(0, len(q), batch_size):
            batch = order[start : start + batch_size]
            adapted = torch.nn.functional.normalize(q[batch] @ matrix, dim=1)
            logits = adapted @ p.T / temperature
            loss = torch.nn.functional.cross_entropy(logits, y[batch])
            loss = loss + decay * ((matrix - identity) ** 2).sum() / dim
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        if progress:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    learned = matrix.detach().numpy().astype(np.float32)
    adapted = queries @ learned
    adapted /= np.linalg.norm(adapted, axis=1, keepdims=True)
    report = TrainReport(
        pairs=len(queries),
        epochs=epochs,
        seconds=round(time.perf_counter() - started, 1),
        train_recall_at_1_before=round(_recall_at_1(queries, targets, passages), 3),
        train_recall_at_1_after=round(_recall_at_1(adapted, targets, passages), 3),
    )
    return learned, report


def manifest_for(
    matrix: np.ndarray, report: TrainReport, *, model: str, catalogue_sha256: str,
    kinds: dict[str, int], details_weight: float, seed: int,
) -> dict:  # fmt: skip
    """What `load` checks (model, catalogue) and what `stats` shows."""
    return {
        "kind": "query-adapter",
        "model": model,
        "catalogue_sha256": catalogue_sha256,
        "details_weight": details_weight,
        "pair_kinds": kinds,
        "seed": seed,
        "sha256": hashlib.sha256(matrix.tobytes()).hexdigest(),
        **asdict(report),
    }
