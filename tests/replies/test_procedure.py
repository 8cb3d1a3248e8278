"""Answer texts: cite the procedure, stay short, say "unknown" for empty fields."""

from __future__ import annotations

import dataclasses

import pytest

from index.catalogue import Channel, Document, Procedure, load_catalogue
from replies import procedure as answers
from tests.index.conftest import MINI

PROCEDURES = load_catalogue(MINI).procedures


@pytest.mark.parametrize("aspect", answers.ASPECTS)
@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.code)
def test_every_answer_cites_name_and_code_and_is_short(procedure: Procedure, aspect: str) -> None:
    messages = answers.answer(procedure, aspect)
    assert messages
    assert procedure.code in messages[0] and procedure.name in messages[0]
    assert messages[0].startswith("Dạ")
    assert all(len(m) <= answers.MAX_CHARS for m in messages)


def _bare(procedure: Procedure) -> Procedure:
    return dataclasses.replace(
        procedure, agency=None, levels=(), channels=(), documents=(), url=None, record={}
    )


@pytest.mark.parametrize("aspect", answers.ASPECTS)
def test_empty_fields_are_said_to_be_unknown(aspect: str) -> None:
    text = "\n".join(answers.answer(_bare(PROCEDURES[0]), aspect))
    assert "chưa ghi" in text.lower()


def test_fee_per_channel_and_once_when_equal() -> None:
    procedure = dataclasses.replace(
        PROCEDURES[0],
        channels=(
            Channel("Trực tiếp", "5 ngày", "50.000 đồng", None),
            Channel("Trực tuyến", "3 ngày", "25.000 đồng", None),
        ),
    )
    fee = answers.fees(procedure)
    assert "Trực tiếp: 50.000 đồng" in fee and "Trực tuyến: 25.000 đồng" in fee
    same = dataclasses.replace(
        procedure, channels=(Channel("Trực tiếp", "5 ngày", "Miễn phí", None),) * 2
    )
    assert answers.fees(same).count("Miễn phí") == 1


def test_online_names_the_portal_page_or_says_it_is_not_listed() -> None:
    online = dataclasses.replace(
        PROCEDURES[0],
        channels=(Channel("Trực tuyến", None, None, None),),
        url="https://dichvucong.gov.vn/p/1",
    )
    assert "https://dichvucong.gov.vn/p/1" in answers.online(online)
    offline = dataclasses.replace(online, channels=(Channel("Trực tiếp", None, None, None),))
    assert "chưa ghi cách nộp trực tuyến" in answers.online(offline)


def test_long_document_lists_are_split_and_capped() -> None:
    many = tuple(
        Document(f"Giấy tờ số {i} " + "rất dài " * 20, "1 bản chính", None, None) for i in range(60)
    )
    procedure = dataclasses.replace(PROCEDURES[0], documents=many, url="https://dvc/p")
    messages = answers.answer(procedure, "documents")
    assert len(messages) == answers.MAX_MESSAGES
    assert all(len(m) <= answers.MAX_CHARS for m in messages)
    assert "https://dvc/p" in messages[-1]
    assert "(1 bản chính)" in messages[0]


def test_names_read_naturally_after_thu_tuc() -> None:
    from dataclasses import replace

    from replies.procedure import name, overview, where
    from tests.actions.test_guidance import _proc

    procedure = replace(_proc("1.001193", "Thủ tục đăng ký khai sinh"), agency="UBND cấp xã.")
    assert name(procedure) == "Đăng ký khai sinh"
    for text in (overview(procedure), where(procedure)):
        assert "thủ tục Thủ tục" not in text and "thủ tục thủ tục" not in text.lower()
        assert ".." not in text
        assert "- Cơ quan thực hiện: UBND cấp xã.\n" in text


def test_an_overview_ends_with_the_catalogues_date_and_the_portal_link() -> None:
    procedure = load_catalogue(MINI).by_code()["T.000003"]
    dated = answers.answer(procedure, "overview", as_of="2026-07-20")
    where = procedure.url or "dichvucong.gov.vn"
    assert dated[-1].endswith(f"(Theo danh mục thủ tục cập nhật ngày 20/07/2026: {where})")
    assert "cập nhật ngày" not in "\n".join(answers.answer(procedure, "overview"))  # none known
    assert "cập nhật ngày" not in "\n".join(answers.answer(procedure, "fee", as_of="2026-07-20"))
    online = dataclasses.replace(
        procedure,
        url="https://dichvucong.gov.vn/thu-tuc-hanh-chinh/t3",
        channels=(Channel("Trực tuyến", "5 ngày", "Không", None),),
    )
    text = "\n".join(answers.answer(online, "overview", as_of="2026-07-20"))
    assert text.count(online.url) == 1  # the link once, in the online line
    assert text.endswith("(Theo danh mục thủ tục cập nhật ngày 20/07/2026)")
