"""Rasa's CountVectorsFeaturizer for a pipeline that reads only the counts of a whole sentence.

For the text of a message, `CountVectorsFeaturizer` makes two matrices: one row of counts per token
(sequence features, for DIET's and TED's transformers) and one row for the whole sentence. Nothing
in config.yml reads the sequence rows (nlu/intent_classifier.py reads the sentence counts, the
policies read intents, not text), yet they were half of the featurizers' work on every message, and
the featurizers 11% of the Rasa server's CPU under 8 concurrent conversations (py-spy, 2026-12-01).
`SentenceCountsFeaturizer` is the same featurizer, trained and stored the same way,
with the same sentence counts, and without the sequence rows of the text. Other attributes (intents
and action names during training) keep both, as Rasa makes them.
"""

from __future__ import annotations

import scipy.sparse as sp
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class SentenceCountsFeaturizer(CountVectorsFeaturizer):
    """`CountVectorsFeaturizer` whose text features are the sentence counts alone."""

    def _create_features(
        self, attribute: str, all_tokens: list[list[str]]
    ) -> tuple[list[sp.spmatrix | None], list[sp.spmatrix | None]]:
        vectorizer = self.vectorizers.get(attribute)
        if attribute != TEXT or vectorizer is None:
            return super()._create_features(attribute, all_tokens)
        sentences: list[sp.spmatrix | None] = []
        for tokens in all_tokens:
            if not tokens:
                sentences.append(None)
                continue
            counts = vectorizer.transform([" ".join(tokens)])  # as Rasa counts a sentence
            counts.sort_indices()
            sentences.append(counts.tocoo())
        return [None] * len(all_tokens), sentences
