"""What `python -m rasa_addons` does to the process before Rasa is imported."""

import sys

import pytest

from rasa_addons.__main__ import skip_jax


def test_jax_cannot_be_imported_after_skip_jax(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "jax", raising=False)  # restored afterwards, whatever skip_jax did
    skip_jax()
    with pytest.raises(ImportError):
        from jax import xla_computation  # noqa: F401  (what TensorFlow's TFLite helpers try)


def test_an_already_imported_jax_is_left_alone(monkeypatch: pytest.MonkeyPatch):
    sentinel = object()
    monkeypatch.setitem(sys.modules, "jax", sentinel)
    skip_jax()
    assert sys.modules["jax"] is sentinel
