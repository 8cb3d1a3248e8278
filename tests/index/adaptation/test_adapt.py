"""`python -m index adapt`: the fine-tune path end to end on a tiny run, and
which model the search then uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.__main__ import main
from index.adaptation.adapt import adapt_model, adapted_model, resolve_embedder
from index.catalogue import Catalogue, load_catalogue
from tests.index.conftest import MINI

pytestmark = pytest.mark.slow  # converts a 470 MB model: `make test`, not test-fast


@pytest.fixture(scope="module")
def tiny_run(converted_e5: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two steps on 16 pairs of the mini catalogue, from the session's conversion."""
    out = tmp_path_factory.mktemp("adapted")
    (out / "base").symlink_to(converted_e5, target_is_directory=True)
    manifest = adapt_model(
        load_catalogue(MINI), out, batch_size=4, max_steps=2, limit=16, progress=False
    )
    assert manifest["steps"] == 2 and manifest["pairs"] == 16
    assert manifest["conversion_seconds"] < 5  # the conversion was reused, not redone
    return out


def test_the_fine_tuned_model_is_used_for_its_catalogue(tiny_run: Path, mini: Catalogue) -> None:
    assert adapted_model(mini, tiny_run) == tiny_run / "model"
    embedder = resolve_embedder(f"adapted:{tiny_run}", mini)
    assert embedder.name.endswith(str(tiny_run / "model")) and embedder.dim == 384
    vectors = embedder.queries(["đăng ký kết hôn", "lam lai cccd"])
    assert vectors.shape == (2, 384)


def test_another_catalogue_falls_back_to_the_base_model(
    tiny_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text("".join(MINI.read_text("utf-8").splitlines(True)[:5]), "utf-8")
    catalogue = load_catalogue(other)
    assert adapted_model(catalogue, tiny_run) is None
    embedder = resolve_embedder(f"adapted:{tiny_run}", catalogue)
    assert embedder.name.startswith("onnx-int8")  # the default base model
    assert "using the base model" in caplog.text


def test_stats_says_which_adaptation(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    common = ["--catalogue", str(MINI), "--index", str(index)]
    assert main([*common, "build"]) == 0
    assert main([*common, "adapt", "--adapter"]) == 0
    capsys.readouterr()
    assert main([*common, "stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["adaptation"]["query_adapter"].startswith("query-adapter-")
    assert main([*common, "--no-adapter", "stats"]) == 0
    unused = json.loads(capsys.readouterr().out)["adaptation"]["query_adapter"]
    assert unused == "not used (--no-adapter)"
