"""The feed-forward intent classifier: it learns, repeats itself, stores plain arrays and loads them back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.intent_classifier import FeedForwardIntentClassifier, _Adam, _log_scaled, sentence_counts, train_network

EXAMPLES = {
    "greet": ["你好", "您好啊", "hello", "hi there", "早上好", "good morning"],
    "thank": ["谢谢", "多谢你", "thanks", "thank you so much", "太感谢了", "many thanks"],
    "report_loss": ["我的社保卡丢了", "卡不见了要挂失", "I lost my card", "my card is lost", "挂失社保卡", "lost card"],
}
SMALL = {"hidden_size": 32, "epochs": 60, "batch_size": 8, "learning_rate": 0.01}  # for a dozen examples
OPTIONS = {**SMALL, "l2": 0.0001, "seed": 3}


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def featurizers(storage: LocalModelStorage) -> list:
    words_config = CountVectorsFeaturizer.get_default_config()
    words = CountVectorsFeaturizer.create(words_config, storage, Resource("w"), context())
    chars_config = {**words_config, "analyzer": "char_wb", "max_ngram": 3}
    chars = CountVectorsFeaturizer.create(chars_config, storage, Resource("c"), context())
    tokenizer = JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, Resource("t"), context())
    return [tokenizer, words, chars]


def training_data(storage: LocalModelStorage) -> tuple[TrainingData, list]:
    data = TrainingData(
        [Message(data={"text": text, "intent": intent}) for intent, texts in EXAMPLES.items() for text in texts]
    )
    pipeline = featurizers(storage)
    pipeline[0].process_training_data(data)
    for featurizer in pipeline[1:]:
        featurizer.train(data)
        featurizer.process_training_data(data)
    return data, pipeline


def parse(classifier: FeedForwardIntentClassifier, pipeline: list, *texts: str) -> list[Message]:
    messages = [Message(data={"text": text}) for text in texts]
    for component in pipeline:
        component.process(messages)
    return classifier.process(messages)


def trained(storage: LocalModelStorage, resource: Resource, **config) -> tuple[FeedForwardIntentClassifier, list]:
    data, pipeline = training_data(storage)
    classifier = FeedForwardIntentClassifier.create({**SMALL, **config}, storage, resource, context())
    classifier.train(data)
    return classifier, pipeline


def test_it_learns_the_intents_and_ranks_them(storage):
    classifier, pipeline = trained(storage, Resource("intents"))
    messages = parse(classifier, pipeline, "你好呀", "thanks a lot", "社保卡丢了", "lost my card")
    assert [message.get("intent")["name"] for message in messages] == ["greet", "thank", "report_loss", "report_loss"]
    for message in messages:
        ranking = message.get("intent_ranking")
        confidences = [entry["confidence"] for entry in ranking]
        assert confidences == sorted(confidences, reverse=True) and abs(sum(confidences) - 1) < 1e-6
        assert {entry["name"] for entry in ranking} == set(EXAMPLES)
        assert message.get("intent") == ranking[0]


def test_the_ranking_is_cut_to_its_configured_length(storage):
    classifier, pipeline = trained(storage, Resource("short"), ranking_length=2)
    (message,) = parse(classifier, pipeline, "hello")
    assert len(message.get("intent_ranking")) == 2


def test_the_same_seed_gives_the_same_network():
    rng = np.random.default_rng(0)
    counts = sp.random(40, 30, density=0.2, random_state=1, format="csr") * 3
    labels = rng.integers(0, 3, 40)
    first, second = (train_network(counts, labels, 3, **OPTIONS) for _ in range(2))
    assert np.array_equal(first.hidden_weights, second.hidden_weights)
    other = train_network(counts, labels, 3, **{**OPTIONS, "seed": 4})
    assert not np.array_equal(first.hidden_weights, other.hidden_weights)


def test_a_stored_classifier_loads_back_and_answers_the_same(storage):
    resource = Resource("stored")
    classifier, pipeline = trained(storage, resource)
    loaded = FeedForwardIntentClassifier.load({}, storage, resource, context())
    texts = ("您好", "多谢", "my card is gone")
    before = [message.get("intent_ranking") for message in parse(classifier, pipeline, *texts)]
    after = [message.get("intent_ranking") for message in parse(loaded, pipeline, *texts)]
    assert after == before
    with storage.read_from(resource) as directory:
        assert json.loads((directory / "labels.json").read_text()) == sorted(EXAMPLES)


def test_a_message_without_features_still_gets_an_answer(storage):
    classifier, _ = trained(storage, Resource("empty"))
    (message,) = classifier.process([Message(data={"text": ""})])
    assert message.get("intent")["name"] in EXAMPLES


def test_without_intent_examples_it_stores_nothing_to_predict_with(storage):
    resource = Resource("untrained")
    classifier = FeedForwardIntentClassifier.create({}, storage, resource, context())
    classifier.train(TrainingData([Message(data={"text": "hi"})]))
    loaded = FeedForwardIntentClassifier.load({}, storage, resource, context())
    (message,) = loaded.process([Message(data={"text": "hi"})])
    assert message.get("intent") is None


def test_weights_that_need_pickle_are_refused_not_run(storage):
    resource = Resource("tampered")
    trained(storage, resource)
    with storage.write_to(resource) as directory:
        np.savez(directory / "weights.npz", hidden_weights=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        FeedForwardIntentClassifier.load({}, storage, resource, context())


def test_it_reads_the_same_sentence_counts_as_rasas_combined_features(storage):
    """`sentence_counts` is the sentence half of `Message.get_sparse_features`, a row per message."""
    _, pipeline = training_data(storage)
    texts = ("我的社保卡丢了 thanks", "hello", "卡", "")
    messages = [Message(data={"text": text}) for text in texts]
    for component in pipeline:
        component.process(messages)
    ours = sentence_counts(messages)
    for row, message in enumerate(messages[:3]):
        _, rasas = message.get_sparse_features(TEXT)
        assert ours[row].shape == rasas.features.shape and ours[row].nnz > 0
        assert (ours[row] != sp.csr_matrix(rasas.features)).nnz == 0
    assert ours[3].nnz == 0  # no features: an empty row of the same width
    assert sentence_counts([Message(data={"text": "no features"})], 7).shape == (1, 7)


@pytest.mark.parametrize("rows", [np.array([0, 3, 4]), slice(None)], ids=["some rows", "whole array"])
def test_the_optimiser_step_is_adam_to_the_last_bit(rows):
    # The step works in place to spare memory; it must still be Adam's update exactly, whether
    # `rows` picks rows (copies) or takes the whole array (views of the moments).
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(6, 4))
    optimiser = _Adam(weights.copy(), learning_rate=0.01)
    mean, variance, expected = np.zeros_like(weights), np.zeros_like(weights), weights.copy()
    beta1, beta2 = 0.9, 0.999
    for step in (1, 2, 3):
        gradient = rng.normal(size=expected[rows].shape)
        mean[rows] = beta1 * mean[rows] + (1 - beta1) * gradient
        variance[rows] = beta2 * variance[rows] + (1 - beta2) * gradient * gradient
        rate = 0.01 * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        expected[rows] -= rate * mean[rows] / (np.sqrt(variance[rows]) + 1e-8)
        optimiser.step(gradient, step, rows)
    assert np.array_equal(optimiser.array, expected)
    assert np.array_equal(optimiser.mean, mean) and np.array_equal(optimiser.variance, variance)


def test_counts_are_log_scaled_as_a_converted_matrix_would_be():
    counts = sp.csr_matrix((np.array([1, 3, 2, 7, 1]), np.array([4, 0, 9, 2, 4]), [0, 2, 2, 5]), shape=(3, 11))
    ours, converted = _log_scaled(counts), sp.csr_matrix(counts, dtype=np.float32).log1p()
    assert ours.dtype == converted.dtype == np.float32 and ours.shape == converted.shape
    assert np.array_equal(ours.toarray(), converted.toarray())
