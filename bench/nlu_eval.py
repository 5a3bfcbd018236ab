"""Held-out intent quality: macro-F1 per test set (Mandarin, English, hard, wild) for a trained model.

Run: .venv/bin/python -m bench.nlu_eval MODEL.tar.gz [--errors]
The test sets in tests/nlu_heldout/ were written apart from the training data and never trained on.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import f1_score

HELDOUT = Path(__file__).resolve().parent.parent / "tests" / "nlu_heldout"
TEST_SETS = {
    "Mandarin": "zh.yml",
    "English": "en.yml",
    "hard": "hard.yml",
    "wild Mandarin": "wild_zh.yml",  # real-world phrasings: stories, dialects, elderly, run-ons
    "wild English": "wild_en.yml",
}
TARGETS = {"Mandarin": 0.98, "English": 0.96, "hard": 0.90, "wild Mandarin": 0.95, "wild English": 0.95}


async def evaluate(model: str, show_errors: bool) -> list[tuple[str, int, float, float]]:
    agent = Agent.load(model)
    rows = []
    for label, filename in TEST_SETS.items():
        examples = load_data(str(HELDOUT / filename)).intent_examples
        truth, predicted, timings = [], [], []
        for example in examples:
            start = time.perf_counter()
            parsed = await agent.parse_message(example.get("text"))
            timings.append(time.perf_counter() - start)
            truth.append(example.get("intent"))
            predicted.append(parsed["intent"]["name"])
            if show_errors and truth[-1] != predicted[-1]:
                print(f"[{label}] {example.get('text')!r}: want {truth[-1]}, got {predicted[-1]}")
        f1 = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        rows.append((label, len(examples), f1, statistics.median(timings) * 1000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--errors", action="store_true", help="print every misclassified message")
    args = parser.parse_args()
    rows = asyncio.run(evaluate(args.model, args.errors))
    print("| test set | messages | intent macro-F1 | target | median parse ms |")
    print("|---|---|---|---|---|")
    for label, count, f1, ms in rows:
        print(f"| {label} | {count} | {f1:.3f} | {TARGETS[label]:.2f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
