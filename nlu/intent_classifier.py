"""An intent classifier that trains in seconds: one hidden layer over log-scaled n-gram counts.

DIET without transformer layers is the same kind of network, but it trains through TensorFlow on
every token's features and took nearly all of `make train` (over five minutes on two cores). This
one reads the sentence-level counts the two CountVectorsFeaturizers give, trains with Adam in
numpy, in single precision, and updates only the first-layer rows a batch touches: under a second
per epoch. Serving is two matrix products. Held-out and cross-validation figures against DIET:
docs/nlu.md.

The trained weights are stored as plain arrays (no pickle), so loading a model runs no code.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_WEIGHTS = "weights.npz"
_LABELS = "labels.json"
_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPSILON = 1e-8
# Single precision: each batch streams the first layer's touched rows (and Adam's moments for them)
# through memory a dozen times, so half the bytes trained in half the time, to the same held-out
# scores (docs/nlu.md, "Training time and the intent classifier").
_DTYPE = np.float32


@dataclass(frozen=True)
class Network:
    """Weights of the trained network: counts → ReLU hidden layer → softmax over the intents."""

    hidden_weights: np.ndarray  # features × hidden
    hidden_bias: np.ndarray
    output_weights: np.ndarray  # hidden × intents
    output_bias: np.ndarray

    def probabilities(self, counts: sp.csr_matrix) -> np.ndarray:
        hidden = np.maximum(_log_scaled(counts) @ self.hidden_weights + self.hidden_bias, 0.0)
        return _softmax(hidden @ self.output_weights + self.output_bias)


def _log_scaled(counts: sp.csr_matrix) -> sp.csr_matrix:
    """log(1 + count): a word said three times is not three times the evidence. (Made from copies
    of the counts' arrays in one step: converting the matrix, then `log1p`, built two matrices.)"""
    scaled = np.log1p(counts.data.astype(_DTYPE))
    return sp.csr_matrix((scaled, counts.indices.copy(), counts.indptr.copy()), shape=counts.shape)


def sentence_counts(messages: list[Message], width: int | None = None) -> sp.csr_matrix:
    """One row per message: the sparse sentence features of its text side by side, as the second
    half of `Message.get_sparse_features(TEXT)` has them.

    That call also combines the sequence features, which are not used here, and deep-copies each
    matrix first; stacking the parts with scipy (`hstack` per message, then `vstack`) went through
    COO and block matrices each time, 6% of the Rasa server's CPU under 8 concurrent conversations
    (py-spy, 2026-12-01). Here the rows are written straight from the parts' coordinates. A message
    without features is an empty row; `width` is the row length when no message has any.
    """
    columns: list[np.ndarray] = [np.zeros(0, dtype=np.int32)]
    counts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    row_ends, stored = [0], 0
    for message in messages:
        offset = 0
        for feature in message.features:
            if feature.attribute == TEXT and feature.is_sparse() and feature.type == FEATURE_TYPE_SENTENCE:
                part = feature.features.tocoo(copy=False)  # the featurizers store COO: no conversion
                columns.append(part.col + offset)
                counts.append(part.data)
                offset += part.shape[1]
                stored += part.nnz
        row_ends.append(stored)
        width = offset or width
    return sp.csr_matrix((np.concatenate(counts), np.concatenate(columns), row_ends), shape=(len(messages), width or 0))


def _softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int, shape: tuple[int, ...]) -> np.ndarray:
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, shape).astype(_DTYPE)


class _Adam:
    """Adam over one array; `step(gradient, rows)` updates only those rows (lazy, as for sparse input)."""

    def __init__(self, array: np.ndarray, learning_rate: float) -> None:
        self.array, self.learning_rate = array, learning_rate
        self.mean, self.variance = np.zeros_like(array), np.zeros_like(array)

    def step(self, gradient: np.ndarray, step: int, rows: np.ndarray | slice = slice(None)) -> None:
        # In place, with two scratch arrays where the textbook expressions make a new array of the
        # first layer's touched rows at every operation; the arithmetic is theirs to the last bit.
        beta1, beta2 = _ADAM_BETAS
        scratch = np.multiply(gradient, 1 - beta1)
        mean = self.mean[rows]
        mean *= beta1
        mean += scratch
        np.multiply(gradient, 1 - beta2, out=scratch)
        scratch *= gradient
        variance = self.variance[rows]
        variance *= beta2
        variance += scratch
        self.mean[rows], self.variance[rows] = mean, variance
        rate = self.learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        np.sqrt(variance, out=scratch)
        scratch += _ADAM_EPSILON
        update = mean * rate  # `mean` may be a view of the moments: not written to
        update /= scratch
        self.array[rows] -= update


def train_network(
    counts: sp.csr_matrix,
    labels: np.ndarray,
    n_labels: int,
    *,
    hidden_size: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    l2: float,
    seed: int,
) -> Network:
    """Cross-entropy training with mini-batch Adam; `labels` are indices into the intents."""
    rng = np.random.default_rng(seed)
    inputs = _log_scaled(counts)
    n_examples, n_features = inputs.shape
    w1 = _glorot(rng, n_features, hidden_size, (n_features, hidden_size))
    b1 = _glorot(rng, n_features, hidden_size, (hidden_size,))
    w2 = _glorot(rng, hidden_size, n_labels, (hidden_size, n_labels))
    b2 = _glorot(rng, hidden_size, n_labels, (n_labels,))
    optimisers = [_Adam(array, learning_rate) for array in (w1, b1, w2, b2)]
    targets = np.eye(n_labels, dtype=_DTYPE)[labels]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n_examples)
        for start in range(0, n_examples, batch_size):
            batch = order[start : start + batch_size]
            x, size = inputs[batch], len(batch)
            # Only the features present in this batch get a first-layer gradient.
            rows, columns = np.unique(x.indices, return_inverse=True)
            x_seen = sp.csr_matrix((x.data, columns, x.indptr), shape=(size, len(rows)))
            w1_seen = w1[rows]  # a copy (fancy indexing): taken once for the forward pass and the decay
            pre_hidden = x_seen @ w1_seen + b1
            hidden = np.maximum(pre_hidden, 0.0)
            output_error = (_softmax(hidden @ w2 + b2) - targets[batch]) / size
            hidden_error = (output_error @ w2.T) * (pre_hidden > 0)
            step += 1
            optimisers[0].step(x_seen.T @ hidden_error + (l2 / size) * w1_seen, step, rows)
            optimisers[1].step(hidden_error.sum(axis=0), step)
            optimisers[2].step(hidden.T @ output_error + l2 * w2 / size, step)
            optimisers[3].step(output_error.sum(axis=0), step)
    return Network(w1, b1, w2, b2)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FeedForwardIntentClassifier(IntentClassifier, GraphComponent):
    """Sets `intent` and `intent_ranking` from the sentence-level sparse features of the text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "hidden_size": 256,
            "epochs": 20,
            "batch_size": 64,
            "learning_rate": 0.001,
            "l2": 0.0001,
            "random_seed": 7,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        network: Network | None = None,
        intents: list[str] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.network, self.intents = network, intents or []

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FeedForwardIntentClassifier:
        return cls(config, model_storage, resource)

    def _counts(self, messages: list[Message]) -> sp.csr_matrix:
        width = self.network.hidden_weights.shape[0] if self.network is not None else None
        return sentence_counts(messages, width)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [example for example in training_data.intent_examples if example.get(TEXT)]
        if not examples:
            logger.debug("No intent examples: the intent classifier is left untrained.")
            self.persist()
            return self._resource
        self.intents = sorted({example.get(INTENT) for example in examples})
        labels = np.searchsorted(self.intents, [example.get(INTENT) for example in examples])
        options = {key: self.config[key] for key in ("hidden_size", "epochs", "batch_size", "learning_rate", "l2")}
        self.network = train_network(
            self._counts(examples), labels, len(self.intents), seed=self.config["random_seed"], **options
        )
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self.network is None or not messages:
            return messages
        probabilities = self.network.probabilities(self._counts(messages))
        for message, row in zip(messages, probabilities, strict=True):
            ranking = [
                {"name": self.intents[index], "confidence": float(row[index])}
                for index in np.argsort(-row)[: self.config["ranking_length"]]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _LABELS).write_text(json.dumps(self.intents, ensure_ascii=False), encoding="utf-8")
            if self.network is not None:
                np.savez(directory / _WEIGHTS, **asdict(self.network))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FeedForwardIntentClassifier:
        """The stored classifier; a damaged file fails the model load rather than serving no intents."""
        with model_storage.read_from(resource) as directory:
            intents = json.loads((directory / _LABELS).read_text(encoding="utf-8"))
            if not intents:
                return cls(config, model_storage, resource)
            with np.load(directory / _WEIGHTS, allow_pickle=False) as arrays:
                network = Network(**{name: arrays[name] for name in arrays.files})
        return cls(config, model_storage, resource, network, intents)
