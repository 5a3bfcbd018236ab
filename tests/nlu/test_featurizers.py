"""The sentence-counts featurizer: Rasa's sentence counts of the text, without the per-token rows."""

from __future__ import annotations

import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.featurizers import SentenceCountsFeaturizer, sentence_counter

TEXTS = {"report_loss": ["my card is lost", "lost card please block it"], "greet": ["hello there", "hi hi hi"]}
CONFIGS = {"words": {}, "characters": {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}}


def _trained(cls: type, config: dict, tmp_path) -> tuple:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer.create(
        WhitespaceTokenizer.get_default_config(), storage, Resource(f"t-{cls.__name__}"), context
    )
    featurizer = cls.create({**cls.get_default_config(), **config}, storage, Resource(f"f-{cls.__name__}"), context)
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in TEXTS.items() for t in texts])
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    return tokenizer, featurizer, data


def _features(message: Message, attribute: str, kind: str) -> list[sp.spmatrix]:
    return [f.features for f in message.features if f.attribute == attribute and f.type == kind]


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_the_sentence_counts_are_rasas_and_the_text_has_no_per_token_rows(config, tmp_path):
    ours, rasas = (_trained(cls, config, tmp_path) for cls in (SentenceCountsFeaturizer, CountVectorsFeaturizer))
    messages = {name: [Message(data={TEXT: "my card hello lost"}), Message(data={TEXT: ""})] for name in ("o", "r")}
    for (tokenizer, featurizer, _), batch in zip((ours, rasas), messages.values(), strict=True):
        tokenizer.process(batch)
        featurizer.process(batch)
    for mine, theirs in zip(messages["o"], messages["r"], strict=True):
        counts, expected = _features(mine, TEXT, FEATURE_TYPE_SENTENCE), _features(theirs, TEXT, FEATURE_TYPE_SENTENCE)
        assert len(counts) == len(expected) == 1 and counts[0].shape == expected[0].shape
        assert (counts[0] != expected[0]).nnz == 0
        assert _features(mine, TEXT, FEATURE_TYPE_SEQUENCE) == [] and _features(theirs, TEXT, FEATURE_TYPE_SEQUENCE)
    assert _features(messages["o"][0], TEXT, FEATURE_TYPE_SENTENCE)[0].nnz > 0


def test_other_attributes_keep_their_features_as_rasa_makes_them(tmp_path):
    (_, _, ours), (_, _, rasas) = (
        _trained(cls, {}, tmp_path) for cls in (SentenceCountsFeaturizer, CountVectorsFeaturizer)
    )
    for mine, theirs in zip(ours.training_examples, rasas.training_examples, strict=True):
        for kind in (FEATURE_TYPE_SEQUENCE, FEATURE_TYPE_SENTENCE):
            got, expected = _features(mine, INTENT, kind), _features(theirs, INTENT, kind)
            assert len(got) == len(expected) and all((a != b).nnz == 0 for a, b in zip(got, expected, strict=True))
        assert _features(mine, INTENT, FEATURE_TYPE_SEQUENCE)  # intents are featurized as before


SENTENCES = ["my card is lost", "LOST lost Lost card", "hi hi hi hi", "nothing known here", "", "卡 丢 了", "a"]


@pytest.mark.parametrize("binary", [False, True], ids=["counts", "binary"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_a_sentence_is_counted_as_scikit_learn_counts_it(config, binary, tmp_path):
    _, featurizer, _ = _trained(SentenceCountsFeaturizer, {**config, "use_shared_vocab": False}, tmp_path)
    vectorizer = featurizer.vectorizers[TEXT]
    vectorizer.binary = binary
    count = sentence_counter(vectorizer)
    for sentence in SENTENCES:
        ours, expected = count(sentence), vectorizer.transform([sentence]).tocoo()
        assert ours.shape == expected.shape and ours.dtype == expected.dtype, sentence
        assert (ours != expected).nnz == 0, sentence
        assert list(ours.col) == sorted(ours.col) and set(ours.row) <= {0}, sentence
