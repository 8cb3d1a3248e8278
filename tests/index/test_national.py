"""The national catalogue the project ships: what its manifest says, and the default."""

from __future__ import annotations

import hashlib
import json
import lzma
from pathlib import Path

import pytest

from helpdesk import search as catalogue_search
from index.catalogue import (
    DEFAULT_CATALOGUE,
    NATIONAL_CATALOGUE,
    load_catalogue,
    read_bytes,
    read_manifest,
    ship,
)
from tests.index.conftest import MINI, SHARED


def test_the_manifest_describes_the_shipped_file() -> None:
    manifest = read_manifest(NATIONAL_CATALOGUE)
    assert manifest is not None and manifest["file"] == NATIONAL_CATALOGUE.name
    assert hashlib.sha256(NATIONAL_CATALOGUE.read_bytes()).hexdigest() == manifest["xz_sha256"]
    catalogue = load_catalogue(NATIONAL_CATALOGUE)
    assert catalogue.problems == []
    assert len(catalogue.procedures) == manifest["records"] == 2849
    assert catalogue.sha256 == manifest["sha256"]
    assert len(manifest["as_of"]) == 10 and manifest["source"]
    assert catalogue.as_of == manifest["as_of"]


def test_it_is_the_default_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_CATALOGUE == NATIONAL_CATALOGUE
    monkeypatch.delenv("CATALOGUE", raising=False)
    assert catalogue_search._paths()[0] == NATIONAL_CATALOGUE


def test_it_is_the_shared_catalogue() -> None:
    shared = SHARED / "catalogue" / "procedures.jsonl"
    if not shared.exists():
        pytest.skip("../shared/catalogue is not beside the repo")
    assert read_bytes(NATIONAL_CATALOGUE) == shared.read_bytes()


def test_ship_packs_a_catalogue_and_refuses_one_with_problems(tmp_path: Path) -> None:
    manifest = ship(MINI, tmp_path / "out", "2026-12-01", "tests")
    packed = tmp_path / "out" / manifest["file"]
    assert lzma.decompress(packed.read_bytes()) == MINI.read_bytes()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8")) == manifest
    assert load_catalogue(packed).sha256 == load_catalogue(MINI).sha256 == manifest["sha256"]
    assert load_catalogue(packed).as_of == "2026-12-01" and load_catalogue(MINI).as_of is None
    # A file replaced after its manifest was written has no known date.
    packed.write_bytes(lzma.compress(MINI.read_bytes() + b"\n"))
    assert load_catalogue(packed).as_of is None
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(MINI.read_bytes() + b'{"code": "??"}\n')
    with pytest.raises(ValueError, match="problems"):
        ship(broken, tmp_path / "refused", "2026-12-01", "tests")
    assert not (tmp_path / "refused").exists()
