"""Rasa's CountVectorsFeaturizer for a pipeline that reads only the counts of a whole sentence.

For the text of a message, `CountVectorsFeaturizer` makes two matrices: one row of counts per token
(sequence features, for DIET's and TED's transformers) and one row for the whole sentence. Nothing
in config.yml reads the sequence rows (nlu/intent_classifier.py reads the sentence counts, the
policies read intents, not text), yet they were half of the featurizers' work on every message, and
the featurizers 11% of the Rasa server's CPU under 8 concurrent conversations (py-spy, 2026-12-01).
`SentenceCountsFeaturizer` is the same featurizer, trained and stored the same way,
with the same sentence counts, and without the sequence rows of the text. Other attributes (intents
and action names during training) keep both, as Rasa makes them.

The sentence is counted with the vectorizer's own analyzer and vocabulary, as scikit-learn's
`CountVectorizer.transform` counts it, but without building and checking a CSR matrix for one row
and then converting it: that round trip was 6.5% of the Rasa server's CPU under 8 concurrent
conversations (py-spy, 2026-12-01), for two featurizers that each count a single sentence.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from sklearn.feature_extraction.text import CountVectorizer


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class SentenceCountsFeaturizer(CountVectorsFeaturizer):
    """`CountVectorsFeaturizer` whose text features are the sentence counts alone."""

    def _create_features(
        self, attribute: str, all_tokens: list[list[str]]
    ) -> tuple[list[sp.spmatrix | None], list[sp.spmatrix | None]]:
        vectorizer = self.vectorizers.get(attribute)
        if attribute != TEXT or vectorizer is None:
            return super()._create_features(attribute, all_tokens)
        count = sentence_counter(vectorizer)
        sentences = [count(" ".join(tokens)) if tokens else None for tokens in all_tokens]  # as Rasa joins them
        return [None] * len(all_tokens), sentences


def sentence_counter(vectorizer: CountVectorizer) -> Callable[[str], sp.coo_matrix]:
    """What `vectorizer.transform([sentence])` counts, as one sorted COO row of the vocabulary's width."""
    analyse, vocabulary, width = vectorizer.build_analyzer(), vectorizer.vocabulary_, len(vectorizer.vocabulary_)

    def count(sentence: str) -> sp.coo_matrix:
        counts: dict[int, int] = {}
        for term in analyse(sentence):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = sorted(counts)
        values = np.ones(len(columns), dtype=vectorizer.dtype)
        if not vectorizer.binary:
            values[:] = [counts[column] for column in columns]
        rows = np.zeros(len(columns), dtype=np.int32)
        return sp.coo_matrix((values, (rows, np.array(columns, dtype=np.int32))), shape=(1, width))

    return count
