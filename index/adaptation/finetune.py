"""Fine-tune a sentence-transformers model on (query, passage) pairs, on CPU and offline.

Why a plain torch loop rather than SentenceTransformerTrainer: the trainer needs `datasets` and
`accelerate`, which the action environment does not ship, and a small loop can be made exactly
reproducible and resumable — a CPU run of many minutes must survive being interrupted.

Training signal: sentence-transformers' MultipleNegativesRankingLoss — each query must score its
own passage above every other passage in the batch (in-batch negatives). Queries get the e5
"query: " prefix and passages "passage: ", as at search time.

The word-embedding matrix stays frozen. In multilingual-e5-small it is 96M of the 118M
parameters (250k rows for a hundred languages), of which a set of Vietnamese pairs touches a few
thousand; training it made each CPU step ~15× slower (a dense 384 MB gradient and AdamW over
every row) and the checkpoints 5× larger, and would move the seen rows away from the unseen.

Layout of `out_dir`:
* checkpoint/state.pt — trained weights, optimiser, scheduler, step, batch plan and RNG state,
  replaced atomically every `checkpoint_every` steps and when `max_steps` stops the run early;
  deleted once the whole plan has run;
* model/ — the fine-tuned sentence-transformers directory with fine_tune.json (settings and
  report), written when the call ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import resource
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from tqdm import tqdm

from index.adaptation.convert import PASSAGE_PROMPT, QUERY_PROMPT, offline, replace_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"
STATE = "state.pt"
MODEL = "model"
RECORD = "fine_tune.json"
MAX_GRAD_NORM = 1.0  # the sentence-transformers / transformers Trainer default


@dataclass(frozen=True)
class FineTuneReport:
    """What one `fine_tune` call did.

    steps: optimiser steps done so far, including those before a resume; epochs: passes over
    the pairs (fractional when stopped mid-epoch); seconds: wall time of this call up to saving
    the model; final_loss: loss of the last step; peak_rss_mb: peak resident memory of the
    process; resumed_from: the checkpoint step this call continued from, None when it started
    afresh.
    """

    steps: int
    epochs: float
    seconds: float
    final_loss: float
    peak_rss_mb: float
    resumed_from: int | None


def batch_plan(
    passages: Sequence[str], epochs: int, batch_size: int, seed: int
) -> list[list[list[int]]]:
    """For each epoch, its batches of pair indices.

    Every epoch is shuffled by its own generator seeded with (seed, epoch), so the plan depends
    on nothing but its arguments. A pair whose passage is already in the batch being filled waits
    for a later one: that passage would otherwise count as a negative for its own query. Pairs
    left at the end of an epoch that cannot make a batch of two distinct passages are skipped.
    """
    plan = []
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(passages)).tolist()
        plan.append(_distinct_batches(passages, order, batch_size))
    return plan


def _distinct_batches(
    passages: Sequence[str], order: list[int], batch_size: int
) -> list[list[int]]:
    batches: list[list[int]] = []
    waiting: deque[int] = deque()
    fresh = iter(order)
    while True:
        batch: list[int] = []
        seen: set[str] = set()
        for _ in range(len(waiting)):
            _place(waiting.popleft(), passages, batch, seen, waiting, batch_size)
        while len(batch) < batch_size and (index := next(fresh, None)) is not None:
            _place(index, passages, batch, seen, waiting, batch_size)
        if len(batch) < 2:
            return batches
        batches.append(batch)


def _place(
    index: int,
    passages: Sequence[str],
    batch: list[int],
    seen: set[str],
    waiting: deque[int],
    batch_size: int,
) -> None:
    """Add pair `index` to the batch, or queue it for a later batch if full or a duplicate."""
    if len(batch) < batch_size and passages[index] not in seen:
        batch.append(index)
        seen.add(passages[index])
    else:
        waiting.append(index)


def _fingerprint(base_dir: Path, pairs: Sequence[tuple[str, str]], settings: dict) -> str:
    """Identifies a training run, so a checkpoint is only resumed by the run that wrote it.

    The base model counts by its files' paths, sizes and mtimes: a checkpoint holds only the
    trained weights, the frozen ones are read from the base again. `max_steps`,
    `checkpoint_every` and `progress` are left out on purpose: they decide where a call stops,
    not what the steps do, so a longer call may resume a shorter one.
    """
    base = Path(base_dir).resolve()
    files = sorted(path for path in base.rglob("*") if path.is_file())
    identity = {
        "base": [(str(f.relative_to(base)), f.stat().st_size, f.stat().st_mtime_ns) for f in files],
        "pairs": hashlib.sha256(json.dumps([list(p) for p in pairs]).encode("utf-8")).hexdigest(),
        **settings,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()


def _trainable(model: SentenceTransformer) -> dict[str, torch.nn.Parameter]:
    """Freeze the word embeddings (see the module docstring); the parameters left to train."""
    model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    return {name: param for name, param in model.named_parameters() if param.requires_grad}


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class _Run:
    """What every step of one run needs besides the model and optimiser."""

    out_dir: Path
    fingerprint: str
    pairs: Sequence[tuple[str, str]]
    plan: list[list[list[int]]]
    schedule: list[list[int]]
    max_length: int
    checkpoint_every: int
    trainable: dict[str, torch.nn.Parameter]


def _texts(pairs: Sequence[tuple[str, str]], batch: list[int]) -> list[list[str]]:
    """The batch as [queries, passages], with the e5 prefixes."""
    return [
        [QUERY_PROMPT + pairs[i][0] for i in batch],
        [PASSAGE_PROMPT + pairs[i][1] for i in batch],
    ]


def _train_step(
    model: SentenceTransformer,
    loss_fn: torch.nn.Module,
    optimizer: Optimizer,
    scheduler: LRScheduler,
    texts: list[list[str]],
    max_length: int,
) -> float:
    """One optimiser step on [queries, passages]; returns the batch loss."""
    features = [model.preprocess(column, max_length=max_length) for column in texts]
    loss = loss_fn(features, labels=None)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def _train(
    model: SentenceTransformer,
    optimizer: Optimizer,
    scheduler: LRScheduler,
    run: _Run,
    span: range,
    progress: bool,
) -> float:
    """Run the steps in `span`, checkpointing every `checkpoint_every` steps and after the last
    one unless it ends the plan; returns the last loss."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    loss_fn = MultipleNegativesRankingLoss(model)
    model.train()
    loss = math.nan
    bar = tqdm(
        total=span.stop, initial=span.start, desc="fine-tuning", unit="step", disable=not progress
    )
    with bar:
        for step in span:
            texts = _texts(run.pairs, run.schedule[step])
            loss = _train_step(model, loss_fn, optimizer, scheduler, texts, run.max_length)
            bar.update()
            bar.set_postfix(loss=f"{loss:.4f}")
            done = step + 1
            finished = done == len(run.schedule)
            if not finished and (done % run.checkpoint_every == 0 or done == span.stop):
                _write_checkpoint(run, optimizer, scheduler, done, loss)
    model.eval()
    return loss


def _write_checkpoint(
    run: _Run, optimizer: Optimizer, scheduler: LRScheduler, step: int, loss: float
) -> None:
    """Replace the checkpoint atomically: write a temp file beside it, then rename over it."""
    state = {
        "fingerprint": run.fingerprint,
        "plan": run.plan,
        "step": step,
        "loss": loss,
        "weights": {name: param.detach() for name, param in run.trainable.items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),  # dropout masks of the steps still to come
    }
    folder = run.out_dir / CHECKPOINT
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{STATE}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(state, stream)
        os.replace(temp, folder / STATE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read_checkpoint(out_dir: Path, fingerprint: str) -> dict | None:
    path = out_dir / CHECKPOINT / STATE
    if not path.exists():
        return None
    state = torch.load(path, weights_only=True)
    if state["fingerprint"] != fingerprint:
        raise ValueError(
            f"{path.parent} belongs to a run with another base model, pairs or settings; "
            "delete it to start this run afresh"
        )
    return state


def _restore(
    state: dict, run: _Run, optimizer: Optimizer, scheduler: LRScheduler
) -> tuple[int, float]:
    """Load a checkpoint into the freshly loaded model and optimiser; returns (step, loss)."""
    weights = state["weights"]
    if weights.keys() != run.trainable.keys():
        raise ValueError("checkpoint weights do not match the model's trainable parameters")
    with torch.no_grad():
        for name, param in run.trainable.items():
            param.copy_(weights[name])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"], state["loss"]


def _epochs_done(plan: list[list[list[int]]], steps: int) -> float:
    done = 0.0
    for batches in plan:
        if steps < len(batches):
            return done + steps / len(batches)
        done, steps = done + 1, steps - len(batches)
    return done


def _save_model(model: SentenceTransformer, target: Path, record: dict) -> None:
    """Save a loadable sentence-transformers directory at `target`, replacing any older one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        model.save(str(staging), create_model_card=False)
        (staging / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        replace_dir(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fine_tune(
    base_dir: Path,
    pairs: Sequence[tuple[str, str]],
    out_dir: Path,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    learning_rate: float = 2e-5,
    warmup: float = 0.1,
    max_steps: int | None = None,
    seed: int = 0,
    checkpoint_every: int = 100,
    max_length: int = 64,
    progress: bool = True,
) -> FineTuneReport:
    """Fine-tune the model in `base_dir` on unprefixed (query, passage) pairs into `out_dir`.

    The run is a fixed plan of steps (see `batch_plan`) under AdamW with a linear warmup/decay
    schedule over the whole plan. `max_steps` stops early without changing that schedule, so a
    later call with the same arguments (any `max_steps`) resumes from the checkpoint and ends
    with the same weights as an uninterrupted run. The model as of the last step is saved to
    out_dir/model either way.
    """
    if batch_size < 2:
        raise ValueError("batch_size must be at least 2: the loss needs in-batch negatives")
    offline()
    from sentence_transformers import SentenceTransformer
    from transformers import get_linear_schedule_with_warmup

    torch.set_num_threads(os.cpu_count() or 1)
    started = time.monotonic()
    out_dir = Path(out_dir)
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "warmup": warmup,
        "seed": seed,
        "max_length": max_length,
    }
    fingerprint = _fingerprint(base_dir, pairs, settings)
    checkpoint = _read_checkpoint(out_dir, fingerprint)
    if checkpoint:
        plan = checkpoint["plan"]
    else:
        plan = batch_plan([passage for _, passage in pairs], epochs, batch_size, seed)
    schedule = [batch for batches in plan for batch in batches]
    if not schedule:
        raise ValueError("nothing to train: no batch of two distinct passages in any epoch")

    model = SentenceTransformer(str(base_dir), device="cpu")
    trainable = _trainable(model)
    run = _Run(out_dir, fingerprint, pairs, plan, schedule, max_length, checkpoint_every, trainable)
    _seed(seed)
    optimizer = torch.optim.AdamW(trainable.values(), lr=learning_rate)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, math.ceil(warmup * len(schedule)), len(schedule)
    )
    start, loss = 0, math.nan
    if checkpoint:
        start, loss = _restore(checkpoint, run, optimizer, scheduler)
        log.info("resuming %s from step %d of %d", out_dir, start, len(schedule))
    stop = len(schedule) if max_steps is None else max(start, min(max_steps, len(schedule)))
    if stop > start:
        loss = _train(model, optimizer, scheduler, run, range(start, stop), progress)

    report = FineTuneReport(
        steps=stop,
        epochs=_epochs_done(plan, stop),
        seconds=time.monotonic() - started,
        final_loss=loss,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resumed_from=start if checkpoint else None,
    )
    record = {"base": str(Path(base_dir).resolve()), "pairs": len(pairs), **settings}
    _save_model(model, out_dir / MODEL, {**record, "report": asdict(report)})
    if stop == len(schedule):  # only now: a crash while saving must leave the checkpoint
        shutil.rmtree(out_dir / CHECKPOINT, ignore_errors=True)
    return report
