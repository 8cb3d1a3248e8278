"""The Rasa component: tokens, lemmas, entity alignment, persistence."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.tokenizer import VietnameseTokenizer


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def make(storage: LocalModelStorage, **config: object) -> VietnameseTokenizer:
    return VietnameseTokenizer.create(
        {**VietnameseTokenizer.get_default_config(), **config},
        storage,
        Resource("tokenizer"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def tokens_of(tokenizer: VietnameseTokenizer, text: str) -> list:
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    return message.get(TOKENS_NAMES[TEXT])


def test_tokens_text_lemma_and_offsets(storage: LocalModelStorage) -> None:
    text = "Làm lại Căn cước ở đâu ạ?"
    tokens = tokens_of(make(storage), text)
    by_text = {t.text: t for t in tokens}
    assert "Căn_cước" in by_text
    token = by_text["Căn_cước"]
    assert text[token.start : token.end] == "Căn cước"
    assert token.lemma == "can_cuoc"
    assert all(t.text != "?" for t in tokens)


def test_entity_annotation_aligns_with_a_code_token(storage: LocalModelStorage) -> None:
    text = "mã hồ sơ là H12.36-241125-0019 nhé"
    start = text.index("H12")
    tokens = tokens_of(make(storage), text)
    code = [t for t in tokens if t.start == start]
    assert code and code[0].end == start + len("H12.36-241125-0019")


def test_empty_and_odd_text(storage: LocalModelStorage) -> None:
    tokenizer = make(storage)
    assert tokens_of(tokenizer, "") == []
    assert [t.text for t in tokens_of(tokenizer, "😡😡")] == ["😡", "😡"]


def test_dictionary_is_stored_with_the_model(storage: LocalModelStorage, tmp_path: Path) -> None:
    dictionary = tmp_path / "words.txt"
    dictionary.write_text("# test\ntrợ lý ảo\n", encoding="utf-8")
    trained = make(storage, dictionary_path=str(dictionary))
    resource = trained.train(TrainingData())
    dictionary.unlink()  # a deployed model must not need the source file
    loaded = VietnameseTokenizer.load(
        {**VietnameseTokenizer.get_default_config(), "dictionary_path": str(dictionary)},
        storage,
        resource,
        ExecutionContext(GraphSchema({}), "test"),
    )
    assert "tro_ly_ao" in [t.text for t in tokens_of(loaded, "tro ly ao")]


def test_without_dictionary(storage: LocalModelStorage) -> None:
    tokenizer = make(storage, dictionary_path=None)
    tokenizer.train(TrainingData())
    assert [t.text for t in tokens_of(tokenizer, "tro ly ao")] == ["tro", "ly", "ao"]
