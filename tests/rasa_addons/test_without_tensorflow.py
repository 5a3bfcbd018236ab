"""Serving and training without TensorFlow: our model loads and answers, a model or a configuration that
needs TensorFlow is refused by name.

Each check runs in a fresh interpreter: the placeholders must be in place before Rasa is imported,
and this test process has imported the real TensorFlow already.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from rasa_addons.__main__ import runs_without_tensorflow

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_serving_and_training_go_without_tensorflow_and_the_switch_brings_it_back():
    assert runs_without_tensorflow(["run", "--enable-api"], {})
    assert not runs_without_tensorflow(["run", "--enable-api"], {"RASA_WITH_TENSORFLOW": "1"})
    assert runs_without_tensorflow(["run"], {"RASA_WITH_TENSORFLOW": "0"})
    assert runs_without_tensorflow(["train", "--out", "models"], {})
    assert not runs_without_tensorflow(["train"], {"RASA_WITH_TENSORFLOW": "1"})
    assert not runs_without_tensorflow(["test", "nlu"], {})
    assert not runs_without_tensorflow([], {})


def test_our_model_is_served_without_importing_tensorflow(trained_model):
    result = run_python(
        f"""
import asyncio, sys
from rasa_addons import without_tensorflow
without_tensorflow.install()
from rasa.core.agent import Agent
agent = Agent.load({str(trained_model)!r})
parsed = asyncio.run(agent.parse_message("我的社保卡丢了"))
real = [name for name, module in sys.modules.items()
        if name.partition(".")[0] == "tensorflow" and not isinstance(module, without_tensorflow._Placeholder)]
print(parsed["intent"]["name"], "rasa.utils.tensorflow.models" in sys.modules, real)
"""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Rasa's TensorFlow code was imported (against placeholders), yet no real TensorFlow module was.
    assert result.stdout.split("\n")[-2] == "report_loss True []"


def needing_tensorflow_copy(model: Path, directory: Path) -> Path:
    """A copy of `model` whose prediction graph names DIET as its intent classifier."""
    copy = directory / "needs-tensorflow.tar.gz"
    with tarfile.open(model) as source, tarfile.open(copy, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name.lstrip("/") == "metadata.json":
                metadata = json.loads(data)
                for node in metadata["predict_schema"]["nodes"].values():
                    if node["uses"] == "nlu.intent_classifier.FeedForwardIntentClassifier":
                        node["uses"] = "rasa.nlu.classifiers.diet_classifier.DIETClassifier"
                data = json.dumps(metadata).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return copy


def test_a_model_that_needs_tensorflow_is_refused_with_its_component_named(trained_model, tmp_path):
    model = needing_tensorflow_copy(trained_model, tmp_path)
    result = run_python(
        f"""
from rasa_addons import without_tensorflow
without_tensorflow.install()
from rasa.core.agent import Agent
try:
    Agent.load({str(model)!r})
except without_tensorflow.ModelNeedsTensorFlow as refusal:
    print("refused:", refusal)
"""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: this model uses DIETClassifier" in result.stdout
    assert "RASA_WITH_TENSORFLOW=1" in result.stdout


CONFIGURATION_CHECK = """
from rasa_addons import without_tensorflow
without_tensorflow.install()
import rasa.engine.validation
from rasa.engine.recipes.recipe import Recipe
from rasa.shared.data import TrainingType
from rasa.shared.importers.importer import TrainingDataImporter
importer = TrainingDataImporter.load_from_config({config!r}, "domain.yml", ["data"])
configuration = Recipe.recipe_for_name("default.v1").graph_config_for_recipe(
    importer.get_config(), {{}}, training_type=TrainingType.BOTH
)
try:
    rasa.engine.validation.validate(configuration)
    print("valid")
except without_tensorflow.ModelNeedsTensorFlow as refusal:
    print("refused:", refusal)
"""


def test_a_configuration_that_needs_tensorflow_is_refused_before_training(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        (ROOT / "config.yml")
        .read_text(encoding="utf-8")
        .replace(
            "  - name: nlu.intent_classifier.FeedForwardIntentClassifier\n",
            "  - name: DIETClassifier\n    epochs: 1\n  - name: nlu.intent_classifier.FeedForwardIntentClassifier\n",
        )
        + "  - name: TEDPolicy\n",
        encoding="utf-8",
    )
    result = run_python(CONFIGURATION_CHECK.format(config=str(config)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: this configuration uses DIETClassifier, TEDPolicy" in result.stdout
    assert "RASA_WITH_TENSORFLOW=1" in result.stdout


def test_our_configuration_trains_without_tensorflow():
    result = run_python(CONFIGURATION_CHECK.format(config="config.yml"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == "valid"


def test_tensorflow_components_are_told_from_the_others():
    result = run_python(
        """
from rasa_addons import without_tensorflow
without_tensorflow.install()
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.selectors.response_selector import ResponseSelector
from nlu.components import NumberEntityExtractor, TextNormaliser
from nlu.featurizers import SentenceCountsFeaturizer
from nlu.intent_classifier import FeedForwardIntentClassifier
print(without_tensorflow.components_needing_tensorflow([
    TextNormaliser, CountVectorsFeaturizer, SentenceCountsFeaturizer, FeedForwardIntentClassifier,
    NumberEntityExtractor,
    FallbackClassifier, RulePolicy, MemoizationPolicy, DIETClassifier, TEDPolicy, ResponseSelector,
]))
"""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == "['DIETClassifier', 'TEDPolicy', 'ResponseSelector']"


def test_placing_them_after_tensorflow_is_imported_is_an_error():
    result = run_python(
        """
import tensorflow
from rasa_addons import without_tensorflow
try:
    without_tensorflow.install()
except RuntimeError as error:
    print("error:", error)
"""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "error: TensorFlow is already imported" in result.stdout


@pytest.mark.parametrize("use", ["subclass", "decorator", "index", "iterate"])
def test_a_placeholder_stands_in_for_what_module_level_code_does_with_tensorflow(use):
    result = run_python(
        f"""
from rasa_addons import without_tensorflow
without_tensorflow.install()
import tensorflow as tf
use = {use!r}
if use == "subclass":
    class Layer(tf.keras.layers.Layer):
        pass
    print(issubclass(Layer, without_tensorflow.Absent))
elif use == "decorator":
    @tf.function
    def f():
        return 1
    @tf.keras.utils.register_keras_serializable()
    def g():
        return 2
    print(f() == 1 and g() == 2)
elif use == "index":
    print(tf.Tensor[0] is without_tensorflow.Absent)
else:
    print(list(tf.config.list_physical_devices("GPU")) == [])
"""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("True")
