"""Held-out intent quality: macro-F1 per test set (Mandarin, English, hard, wild) for a trained model.

Run: .venv/bin/python -m bench.nlu_eval MODEL.tar.gz [--errors]
The test sets in tests/nlu_heldout/ were written apart from the training data and never trained on;
rasa_addons/model_scores.py scores them (`model deploy` gates on the same scores).
"""

from __future__ import annotations

import argparse
import asyncio

from rasa.core.agent import Agent

from rasa_addons.model_scores import evaluate_nlu

TARGETS = {"Mandarin": 0.98, "English": 0.96, "hard": 0.90, "wild Mandarin": 0.95, "wild English": 0.95}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--errors", action="store_true", help="print every misclassified message")
    args = parser.parse_args()
    results = asyncio.run(evaluate_nlu(Agent.load(args.model)))
    if args.errors:
        for result in results:
            for text, wanted, got in result.errors:
                print(f"[{result.name}] {text!r}: want {wanted}, got {got}")
    print("| test set | messages | intent macro-F1 | target | median parse ms |")
    print("|---|---|---|---|---|")
    for result in results:
        target = TARGETS[result.name]
        print(f"| {result.name} | {result.messages} | {result.f1:.3f} | {target:.2f} | {result.median_ms:.1f} |")


if __name__ == "__main__":
    main()
