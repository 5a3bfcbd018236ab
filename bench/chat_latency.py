"""Chat turn latency through Rasa's REST channel, 1 and 8 concurrent conversations, side by side.

Needs the assistant running (`make run`) with the demo cardholders. Each conversation repeats:
a greeting (a response straight from a rule), an information question (a custom action that
does not touch the database), a progress request and the ID number (form steps), and the name
(the identity check and the progress answer, both reading the card database). Latency is measured
per turn kind; figures are medians and percentiles of one run, so compare them within a run.

Run: .venv/bin/python -m bench.chat_latency [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.stats import percentile
from bot.demo import DEMO_CARDHOLDERS
from webhooks.settings import load_web_settings

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.status.value == "ready_for_pickup")
SCRIPT = [
    ("plain", "你好"),
    ("action", "异地就医要先备案吗"),
    ("form", "查一下社保卡进度"),
    ("form", HOLDER.id_number),
    ("database", HOLDER.name),
]


def conversation(url: str, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    with requests.Session() as http:
        for _ in range(rounds):
            sender = "bench-" + uuid.uuid4().hex[:12]  # a fresh conversation each round
            for kind, text in SCRIPT:
                start = time.perf_counter()
                reply = http.post(url, json={"sender": sender, "message": text}, timeout=30)
                timings[kind].append(time.perf_counter() - start)
                if not reply.ok or not reply.json():
                    raise RuntimeError(f"no reply to a {kind} turn: HTTP {reply.status_code}")
    return timings


def run(url: str, concurrency: int, rounds: int) -> tuple[dict[str, list[float]], float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda _: conversation(url, rounds), range(concurrency)))
    elapsed = time.perf_counter() - start
    merged: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for kind, values in result.items():
            merged[kind] += values
    return merged, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds of the script per conversation")
    args = parser.parse_args()
    web = load_web_settings()
    url = f"{web.rasa_url}/webhooks/rest/webhook"
    conversation(url, 1)  # warm up: first turns load lazily
    print("| concurrent | turn | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    summary = []
    for concurrency in (1, 8):
        timings, elapsed = run(url, concurrency, args.rounds)
        turns = sum(len(v) for v in timings.values())
        for kind in ("plain", "action", "form", "database"):
            values = [v * 1000 for v in timings[kind]]
            print(
                f"| {concurrency} | {kind} | {len(values)} | {statistics.median(values):.0f} | "
                f"{percentile(values, 0.95):.0f} | {percentile(values, 0.99):.0f} |"
            )
        everything = [v * 1000 for values in timings.values() for v in values]
        median = {kind: statistics.median(values) for kind, values in timings.items()}
        summary.append(
            (concurrency, turns / elapsed, percentile(everything, 0.95), median["database"] / median["plain"],
             median["database"] / median["action"])
        )  # fmt: skip
    print()
    print("| concurrent | turns/s | p95 all turns ms | database/plain median | database/action median |")
    print("|---|---|---|---|---|")
    for concurrency, throughput, p95, to_plain, to_action in summary:
        print(f"| {concurrency} | {throughput:.1f} | {p95:.0f} | {to_plain:.2f} | {to_action:.2f} |")


if __name__ == "__main__":
    main()
