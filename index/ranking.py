"""The best k of many scores, without sorting them all."""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, best first (a partition, then a sort of k)."""
    if k >= len(scores):
        return np.argsort(-scores)
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best])]
