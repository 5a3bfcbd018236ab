"""Rasa NLU components that put the shared core's text rules into the pipeline.

`TextNormaliser` runs first, so the tokenizer and featurizers see simplified characters,
corrected key terms and ASCII digits whichever way the person wrote or said them.
`NumberEntityExtractor` runs after the intent classifier and adds ``id_number``,
``phone_number`` and ``card_number`` entities with normalised values, plus a ``language``
entity that fills the slot choosing the reply language. The components that put a message under
another intent where its words leave no doubt are in `nlu.reclassifiers`.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.contract import LANGUAGE
from bot.identity.answers import without_han_names
from bot.language.extraction import extract_numbers
from bot.language.text import (
    an_english_sentence,
    asks_something,
    detect_language,
    normalise_for_understanding,
    requested_language,
)

# Answers to "what is your name / ID" say nothing about the language the person prefers, unless
# written as an English sentence.
_NO_LANGUAGE_INTENTS = frozenset({"inform"})
# Intents that close the conversation: a goodbye, or a no to "anything else?" (either ends it when
# nothing is under way), or a thanks (answered with "anything else?").
_CLOSINGS = frozenset({"goodbye", "deny", "thank"})


class StatelessComponent(GraphComponent):
    """A component with nothing to configure, train or keep: made the same way for every model."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> StatelessComponent:
        return cls()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormaliser(StatelessComponent):
    """Rewrites the message text into the normal form the model is trained on."""

    def _normalise(self, message: Message) -> None:
        text = message.get(TEXT)
        if text:
            message.set(TEXT, normalise_for_understanding(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalise(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalise(message)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionsAreNotGoodbyes(StatelessComponent):
    """A question is never taken for a closing (``goodbye``; ``deny``, the no to "anything else?";
    ``thank``): the next intent in the ranking stands.

    The first two end the conversation when nothing is under way, and on the phone the call; a
    thanks is only asked whether there is anything else. Follow-up questions ("那还得等多久",
    "那我是先找找还是先挂") were now and then classified as one, and the person was seen off
    mid-question. With them set aside, the next intent stands if the fallback threshold lets it,
    else the person is asked to rephrase.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) not in _CLOSINGS or not asks_something(message.get(TEXT) or ""):
                continue
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) not in _CLOSINGS]
            if ranking:
                message.set(INTENT, dict(ranking[0]), add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class NumberEntityExtractor(StatelessComponent, EntityExtractorMixin):
    """Adds number entities with normalised values and the message's language."""

    def _language(self, message: Message) -> str | None:
        metadata = message.get(METADATA) or {}
        if metadata.get(LANGUAGE) in {"zh", "en"}:
            return metadata[LANGUAGE]  # fixed by the channel, e.g. the hotline's language choice
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        text = message.get(TEXT) or ""
        if asked := requested_language(text):  # "Chinese please" is written in English
            return asked
        if intent in _NO_LANGUAGE_INTENTS:
            return "en" if an_english_sentence(text) else None
        return detect_language(without_han_names(text))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = [
                {"entity": f.kind, "value": f.value, "start": f.start, "end": f.end, "confidence": 1.0}
                for f in extract_numbers(text).found
            ]
            language = self._language(message)
            if language:
                entities.append({"entity": "language", "value": language, "start": 0, "end": 0, "confidence": 1.0})
            entities = self.add_extractor_name(entities)
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages
