"""index.adaptation.finetune: a tiny, deterministic, resumable fine-tune of the converted e5."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from index.adaptation.convert import offline
from index.adaptation.finetune import (
    CHECKPOINT,
    MODEL,
    RECORD,
    STATE,
    FineTuneReport,
    batch_plan,
    fine_tune,
)

pytestmark = pytest.mark.slow  # converts a 470 MB model: `make test`, not test-fast

# (query, passage) as a citizen would ask and as the catalogue names it; one passage twice.
PAIRS = [
    ("cấp lại căn cước công dân bị mất", "Thủ tục cấp lại thẻ Căn cước công dân"),
    ("làm giấy khai sinh cho con", "Thủ tục đăng ký khai sinh"),
    ("đăng ký kết hôn", "Thủ tục đăng ký kết hôn"),
    ("xin giấy phép xây nhà", "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ"),
    ("đổi bằng lái xe", "Thủ tục đổi giấy phép lái xe"),
    ("đăng ký thường trú", "Thủ tục đăng ký thường trú"),
    ("làm hộ chiếu", "Thủ tục cấp hộ chiếu phổ thông trong nước"),
    ("báo tử người thân", "Thủ tục đăng ký khai tử"),
    ("xin trợ cấp thất nghiệp", "Thủ tục giải quyết hưởng trợ cấp thất nghiệp"),
    ("đăng ký thành lập công ty", "Thủ tục đăng ký thành lập doanh nghiệp tư nhân"),
    ("sang tên sổ đỏ", "Thủ tục đăng ký biến động quyền sử dụng đất"),
    ("xin lý lịch tư pháp", "Thủ tục cấp Phiếu lý lịch tư pháp"),
    ("đăng ký xe máy mới", "Thủ tục đăng ký xe mô tô, xe gắn máy"),
    ("chứng thực bản sao", "Thủ tục chứng thực bản sao từ bản chính"),
    ("cccd mất thì làm sao", "Thủ tục cấp lại thẻ Căn cước công dân"),
    ("dang ky tam tru", "Thủ tục đăng ký tạm trú"),
]
SETTINGS = {"batch_size": 4, "seed": 0, "progress": False}  # 16 pairs: 4 steps per epoch


@dataclass(frozen=True)
class Runs:
    """Reports and trained weights of the runs the tests compare, made once per module."""

    fresh: FineTuneReport
    fresh_dir: Path
    twin: dict[str, torch.Tensor]
    stopped: FineTuneReport
    checkpoint_kept: bool
    resumed: FineTuneReport
    resumed_weights: dict[str, torch.Tensor]
    completed: FineTuneReport
    completed_dir: Path


def trained(model_dir: Path) -> dict[str, torch.Tensor]:
    """The model's weights except the (frozen, 384 MB) word embeddings."""
    weights = load_file(model_dir / "model.safetensors")
    return {name: value for name, value in weights.items() if "word_embeddings" not in name}


@pytest.fixture(scope="module")
def runs(converted_e5: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("finetune")
    fresh = fine_tune(converted_e5, PAIRS, root / "fresh", max_steps=3, **SETTINGS)
    fine_tune(converted_e5, PAIRS, root / "twin", max_steps=3, **SETTINGS)
    twin = trained(root / "twin" / MODEL)
    stopped = fine_tune(
        converted_e5, PAIRS, root / "resumed", max_steps=2, checkpoint_every=1, **SETTINGS
    )
    checkpoint_kept = (root / "resumed" / CHECKPOINT / STATE).exists()
    resumed = fine_tune(
        converted_e5, PAIRS, root / "resumed", max_steps=3, checkpoint_every=1, **SETTINGS
    )
    resumed_weights = trained(root / "resumed" / MODEL)
    completed = fine_tune(converted_e5, PAIRS, root / "resumed", **SETTINGS)
    yield Runs(
        fresh,
        root / "fresh",
        twin,
        stopped,
        checkpoint_kept,
        resumed,
        resumed_weights,
        completed,
        root / "resumed",
    )
    shutil.rmtree(root, ignore_errors=True)


def test_batches_never_hold_a_passage_twice() -> None:
    passages = ["khai sinh"] * 4 + ["kết hôn"] * 3 + [f"thủ tục {i}" for i in range(9)]
    plan = batch_plan(passages, epochs=2, batch_size=4, seed=7)
    assert plan == batch_plan(passages, epochs=2, batch_size=4, seed=7)
    assert plan[0] != plan[1]  # each epoch is shuffled anew
    for batches in plan:
        used = [i for batch in batches for i in batch]
        assert len(used) == len(set(used)) >= 14  # duplicates wait, at most a tail is skipped
        for batch in batches:
            assert len({passages[i] for i in batch}) == len(batch) >= 2


def test_a_short_run_saves_a_loadable_model(runs: Runs) -> None:
    assert runs.fresh.steps == 3
    assert runs.fresh.epochs == pytest.approx(0.75)
    assert math.isfinite(runs.fresh.final_loss) and runs.fresh.final_loss > 0
    assert runs.fresh.resumed_from is None
    record = json.loads((runs.fresh_dir / MODEL / RECORD).read_text(encoding="utf-8"))
    assert record["report"]["steps"] == 3
    offline()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(runs.fresh_dir / MODEL), device="cpu")
    vector = model.encode("làm lại căn cước", prompt_name="query", convert_to_numpy=True)
    assert vector.shape == (384,)
    assert float((vector**2).sum()) == pytest.approx(1.0, abs=1e-5)


def test_training_moves_the_encoder_but_not_the_word_embeddings(
    runs: Runs, converted_e5: Path
) -> None:
    base = load_file(converted_e5 / "model.safetensors")
    tuned = load_file(runs.fresh_dir / MODEL / "model.safetensors")
    layer = "encoder.layer.11.output.dense.weight"
    assert not torch.equal(base[layer], tuned[layer])
    assert torch.equal(
        base["embeddings.word_embeddings.weight"], tuned["embeddings.word_embeddings.weight"]
    )


def test_the_same_seed_gives_the_same_weights(runs: Runs) -> None:
    fresh = trained(runs.fresh_dir / MODEL)
    assert fresh.keys() == runs.twin.keys()
    assert all(torch.equal(fresh[name], runs.twin[name]) for name in fresh)


def test_an_interrupted_run_resumes_to_the_same_weights(runs: Runs) -> None:
    assert runs.stopped.steps == 2
    assert runs.checkpoint_kept
    assert runs.resumed.resumed_from == 2
    assert runs.resumed.steps == 3
    fresh = trained(runs.fresh_dir / MODEL)
    assert all(torch.equal(fresh[name], runs.resumed_weights[name]) for name in fresh)
    assert runs.resumed.final_loss == runs.fresh.final_loss


def test_a_finished_run_removes_its_checkpoint(runs: Runs) -> None:
    assert runs.completed.resumed_from == 3
    assert runs.completed.steps == 4
    assert runs.completed.epochs == 1
    assert not (runs.completed_dir / CHECKPOINT).exists()
