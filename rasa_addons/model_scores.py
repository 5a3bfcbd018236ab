"""Held-out scores of a trained model: intent macro-F1 on each held-out set, and the test conversations.

Run: .venv/bin/python -m rasa_addons.model_scores MODEL.tar.gz  (prints the scores as one JSON object)

`python -m bot model deploy` runs this for the model being served and for the new one, and refuses
the new one if a score drops. The test sets in tests/nlu_heldout/ were written apart from the
training data and are never trained on; the conversations are Rasa's test stories
(tests/stories/): the share of them in which the model predicts every action right.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "nlu_heldout"
STORIES = ROOT / "tests" / "stories"
TEST_SETS = {
    "Mandarin": "zh.yml",
    "English": "en.yml",
    "hard": "hard.yml",
    "wild Mandarin": "wild_zh.yml",  # real-world phrasings: stories, dialects, elderly, run-ons
    "wild English": "wild_en.yml",
}
CONVERSATIONS = "test conversations"


@dataclass(frozen=True)
class SetResult:
    name: str
    messages: int
    f1: float
    median_ms: float
    errors: list[tuple[str, str, str]]  # text, wanted, got


async def evaluate_nlu(agent: Agent) -> list[SetResult]:
    """Intent macro-F1 of `agent` on each held-out set, with its misclassified messages."""
    results = []
    for name, filename in TEST_SETS.items():
        examples = load_data(str(HELDOUT / filename)).intent_examples
        truth, predicted, timings, errors = [], [], [], []
        for example in examples:
            start = time.perf_counter()
            parsed = await agent.parse_message(example.get("text"))
            timings.append(time.perf_counter() - start)
            truth.append(example.get("intent"))
            predicted.append(parsed["intent"]["name"])
            if truth[-1] != predicted[-1]:
                errors.append((example.get("text"), truth[-1], predicted[-1]))
        f1 = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        results.append(SetResult(name, len(examples), float(f1), statistics.median(timings) * 1000, errors))
    return results


async def conversation_accuracy(agent: Agent) -> float:
    """The share of test stories in which every predicted action is the expected one."""
    from rasa.core.test import test

    with tempfile.TemporaryDirectory() as out:
        result = await test(str(STORIES), agent, out_directory=out, disable_plotting=True, warnings=False)
    return float(result["report"]["conversation_accuracy"]["accuracy"])


async def model_scores(model: Path) -> dict[str, float]:
    """Every held-out score of the model, by name (each from 0 to 1, higher is better)."""
    agent = Agent.load(str(model))
    scores = {result.name: round(result.f1, 4) for result in await evaluate_nlu(agent)}
    scores[CONVERSATIONS] = round(await conversation_accuracy(agent), 4)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    args = parser.parse_args()
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)  # stdout carries the scores alone
    configure_structlog(logging.WARNING)
    print(json.dumps(asyncio.run(model_scores(args.model))))


if __name__ == "__main__":
    main()
