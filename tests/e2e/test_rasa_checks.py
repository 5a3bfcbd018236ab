"""Rasa's own checks on the data and the trained model: data validation and test stories."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ROOT

pytestmark = pytest.mark.e2e
RASA = str(Path(sys.executable).with_name("rasa"))


def test_training_data_is_valid():
    result = subprocess.run([RASA, "data", "validate", "--fail-on-warnings"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_test_stories_pass(trained_model, tmp_path):
    result = subprocess.run(
        [RASA, "test", "core", "--model", str(trained_model), "--stories", "tests/stories",
         "--fail-on-prediction-errors", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )  # fmt: skip
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8") if result.returncode else ""
    assert result.returncode == 0, failed[-4000:] or result.stderr[-3000:]
