"""Serving a model that needs no TensorFlow without importing it: about 280 MiB less per Rasa server.

Rasa 3.6 imports TensorFlow at start whatever the model holds (`rasa.core.policies.policy` imports
`rasa.utils.train_utils`, which imports the Keras callbacks; loading a model imports every default
component, DIET and TED included). Our pipeline and policies use none of it, yet TensorFlow alone
takes a process from about 110 to 500 MiB resident.

`install()` makes `tensorflow`, `keras` and TensorFlow's add-on packages importable as placeholders:
a module attribute is `Absent`, a class that can be subclassed, indexed, iterated (empty) and used
as a decorator (it leaves the function as it is), so Rasa's modules that define TensorFlow layers
import without running any of it. Nothing on the serving path of a model without TensorFlow
components calls them. A model that has such a component (DIET, TED, a response selector, a
language-model featurizer) is refused when it is loaded, with the component named, rather than
failing at its first message. `RASA_WITH_TENSORFLOW=1` starts Rasa with the real TensorFlow.

Training goes without it too: importing TensorFlow took 6 s of each `make train`. A configuration
that names such a component is refused before anything is trained, in the same words.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterable
from typing import Any

from rasa.shared.exceptions import RasaException

# Top-level packages replaced by placeholders (TensorFlow, Keras, and what Rasa imports beside them).
PACKAGES = frozenset({"tensorflow", "keras", "tensorboard", "tensorflow_addons", "tensorflow_hub", "tensorflow_text"})
ENVIRONMENT_SWITCH = "RASA_WITH_TENSORFLOW"


class ModelNeedsTensorFlow(RasaException):
    """The model to load has components that run on TensorFlow, which this process does not have."""


class _AbsentType(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Absent

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]  # @tf.function, @register_keras_serializable(): the function stays as it is
        return Absent

    def __iter__(cls) -> Any:
        return iter(())

    def __bool__(cls) -> bool:
        return False

    def __getitem__(cls, item: Any) -> Any:
        return Absent

    def __or__(cls, other: Any) -> Any:
        return Absent

    __ror__ = __or__


class Absent(metaclass=_AbsentType):
    """What every attribute of a placeholder module is."""


class _Placeholder(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Absent


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _Placeholder(spec.name)
        module.__path__ = []
        module.__version__ = "0+absent"
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _needs_tensorflow(component: type) -> bool:
    """Whether a class, or a class it derives from, lives in a module that uses TensorFlow."""
    for cls in component.__mro__:
        module = sys.modules.get(cls.__module__)
        for value in vars(module).values() if module else ():
            if isinstance(value, _Placeholder) or (isinstance(value, type) and issubclass(value, Absent)):
                return True
    return False


def components_needing_tensorflow(components: Iterable[type]) -> list[str]:
    """Names of the components that need TensorFlow, in order, once each."""
    return list(dict.fromkeys(component.__name__ for component in components if _needs_tensorflow(component)))


def _refusal(needing: list[str], what: str) -> ModelNeedsTensorFlow:
    return ModelNeedsTensorFlow(
        f"this {what} uses {', '.join(needing)}, which run on TensorFlow; this Rasa process was "
        f"started without it: set {ENVIRONMENT_SWITCH}=1 and start it again"
    )


def _refuse_models_needing_tensorflow() -> None:
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    load_archive = LocalModelStorage.from_model_archive.__func__  # type: ignore[attr-defined]

    def checked(cls: type, *args: Any, **kwargs: Any) -> Any:
        storage, metadata = load_archive(cls, *args, **kwargs)
        needing = components_needing_tensorflow(node.uses for node in metadata.predict_schema.nodes.values())
        if needing:
            raise _refusal(needing, "model")
        return storage, metadata

    LocalModelStorage.from_model_archive = classmethod(checked)  # type: ignore[method-assign, assignment]


def _refuse_configurations_needing_tensorflow() -> None:
    """`rasa train` checks the configuration's graph with `rasa.engine.validation.validate` before training."""
    import rasa.engine.validation

    validate = rasa.engine.validation.validate

    def checked(model_configuration: Any) -> None:
        needing = components_needing_tensorflow(node.uses for node in model_configuration.train_schema.nodes.values())
        if needing:
            raise _refusal(needing, "configuration")
        validate(model_configuration)

    rasa.engine.validation.validate = checked


def install() -> None:
    """Run without TensorFlow: placeholders for its packages, and a check on every model loaded or
    configuration trained."""
    if any(name.partition(".")[0] in PACKAGES for name in sys.modules):
        raise RuntimeError("TensorFlow is already imported: install() must run before Rasa is imported")
    sys.meta_path.insert(0, _PlaceholderFinder())
    _refuse_models_needing_tensorflow()
    _refuse_configurations_needing_tensorflow()
