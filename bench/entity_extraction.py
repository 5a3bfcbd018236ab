"""Held-out number extraction: how many ID and phone numbers come out exactly, and how fast.

Run: .venv/bin/python -m bench.entity_extraction [tests/nlu_heldout/entities.yml]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

from bot.language.extraction import extract_numbers

DEFAULT_CASES = Path(__file__).resolve().parent.parent / "tests" / "nlu_heldout" / "entities.yml"


def main(path: Path = DEFAULT_CASES) -> int:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    exact = {"id_number": [0, 0], "phone_number": [0, 0]}
    all_exact = 0
    timings = []
    for case in cases:
        start = time.perf_counter()
        found = extract_numbers(case["text"])
        timings.append(time.perf_counter() - start)
        got = {
            "id_number": found.id_numbers[0] if found.id_numbers else None,
            "phone_number": found.phone_numbers[0] if found.phone_numbers else None,
        }
        ok = True
        for kind, counts in exact.items():
            if case.get(kind) is not None:
                counts[1] += 1
                counts[0] += got[kind] == case[kind]
            ok &= got[kind] == case.get(kind)
        all_exact += ok
        if not ok:
            print(f"miss: {case['text']!r} -> {got}")
    print(f"cases: {len(cases)}; every value exact (incl. no false numbers): {all_exact}/{len(cases)}")
    for kind, (hit, total) in exact.items():
        print(f"{kind}: {hit}/{total} exact")
    print(f"median {statistics.median(timings) * 1e3:.3f} ms, max {max(timings) * 1e3:.3f} ms per message")
    return 0 if all_exact == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CASES))
