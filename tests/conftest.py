"""Shared fixtures. Imports nothing from Rasa at module level, because the
action-server venv (Python 3.11, no Rasa) collects tests/actions with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TEST_ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


# The bot's training data, domain and pipeline, as every `rasa` command here is given them.
BOT_FILES = ("--data", "nlu_data", "--domain", "domain.yml", "--config", "config.yml")


def rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Runs the Rasa CLI of this venv in the project root, output captured."""
    return subprocess.run(
        [str(VENV_BIN / "rasa"), *args],
        cwd=ROOT,
        env=TEST_ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trains the bot from this checkout's data once per test run (`rasa train`).

    TEST_MODEL=<path> reuses a model trained from the same data (a shortcut
    while developing; `make test` always trains).
    """
    reuse = os.environ.get("TEST_MODEL")
    if reuse and Path(reuse).exists():
        return Path(reuse)
    out = tmp_path_factory.mktemp("models")
    started = time.monotonic()
    result = rasa(
        "train",
        *BOT_FILES,
        "--out",
        str(out),
        "--fixed-model-name",
        "test-bot",
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    model = out / "test-bot.tar.gz"
    assert model.exists()
    print(f"\nrasa train took {time.monotonic() - started:.0f} s")
    return model


@pytest.fixture
def desk_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away help-desk database (DESK_DB) for the test."""
    path = tmp_path / "desk.db"
    monkeypatch.setenv("DESK_DB", str(path))
    return path
