"""Rasa tokenizer for Vietnamese, built on underthesea word segmentation.

Use it in config.yml as `bot.components.tokenizer.VietnameseTokenizer`. Each token's text
is the normalised word with syllables joined by "_" ("thủ_tục"), its lemma the
accent-folded lower-case form ("thu_tuc") so that a featurizer with
`use_lemma: true` treats typed-without-accents text like accented text, and its
start/end index the original message.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.segmenter import DEFAULT_DICTIONARY, Segmenter, load_dictionary

logger = logging.getLogger(__name__)

_DICTIONARY_FILE = "domain_words.txt"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class VietnameseTokenizer(Tokenizer):
    """Word tokens from underthesea, with a domain dictionary, offsets kept."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Supported languages (see parent class for full docstring)."""
        return ["vi"]

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["underthesea"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns default config (see parent class for full docstring)."""
        return {
            # File of domain phrases kept as one word; null for none.
            "dictionary_path": str(DEFAULT_DICTIONARY),
            # Flag to check whether to split intents
            "intent_tokenization_flag": False,
            # Symbol on which intent should be split
            "intent_split_symbol": "_",
            # Regular expression to detect tokens
            "token_pattern": None,
            # Symbol on which prefix should be split
            "prefix_separator_symbol": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        dictionary: list[str],
    ) -> None:
        """Initialize the tokenizer with the domain phrases it must keep whole."""
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._dictionary = dictionary
        self._segmenter = Segmenter(dictionary)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Creates a new component (see parent class for full docstring)."""
        dictionary = load_dictionary(config["dictionary_path"])
        return cls(config, model_storage, resource, dictionary)

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the dictionary in the model, so a trained model is self-contained."""
        self.persist()
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        text = message.get(attribute)
        tokens = [
            Token(word.text, word.start, word.end, lemma=word.lemma)
            for word in self._segmenter.segment(text)
        ]
        return self._apply_token_pattern(tokens)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> VietnameseTokenizer:
        """Loads the dictionary saved with the model (falls back to the config)."""
        dictionary_path: str | None = config["dictionary_path"]
        try:
            with model_storage.read_from(resource) as directory:
                stored = Path(directory) / _DICTIONARY_FILE
                if stored.exists():
                    dictionary_path = str(stored)
        except ValueError:
            logger.debug("No stored dictionary for '%s'; using the config.", resource.name)
        return cls(config, model_storage, resource, load_dictionary(dictionary_path))

    def persist(self) -> None:
        """Persist the domain dictionary next to the model."""
        if self._config["dictionary_path"] is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            shutil.copyfile(self._config["dictionary_path"], Path(directory) / _DICTIONARY_FILE)
