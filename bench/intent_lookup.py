"""What reading a turn's intent from Rasa costs the web app, side by side in one run.

The REST channel's reply does not say what Rasa understood, so after each turn the web app reads
the conversation's events since the last restart from Rasa's tracker API (webhooks/rasa_client.py,
`latest_turn`). Each round of the chat script is sent with one of three follow-ups, rotating so
all three see the same load: none, the tracker without events (`latest_message` only, which misses
Rasa's own fallback), and the events the web app reads. Times are per turn, message plus follow-up.

Run (assistant running): .venv/bin/python -m bench.intent_lookup [--rounds 9]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from bench.chat_latency import CONCURRENCY, SCRIPT
from webhooks.rasa_client import RasaClient
from webhooks.settings import load_web_settings

MODES = ("no lookup", "latest_message only", "turn events (used)")


def _line(client: RasaClient, token: str, rounds: int, offset: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    for number in range(rounds):
        mode = MODES[(number + offset) % len(MODES)]
        sender = "bench-" + uuid.uuid4().hex[:12]
        for _, text in SCRIPT:
            start = time.perf_counter()
            client.send(sender, text)
            if mode == MODES[1]:
                client.tracker(sender, token, include_events="NONE")
            elif mode == MODES[2]:
                client.latest_turn(sender, token)
            timings[mode].append(time.perf_counter() - start)
    return timings


def measure(rasa_url: str, token: str, rounds: int) -> dict[int, dict[str, list[float]]]:
    """Milliseconds per turn for each mode, at each concurrency level."""
    measured = {}
    for concurrency in CONCURRENCY:
        clients = [RasaClient(rasa_url, timeout=30) for _ in range(concurrency)]
        _line(clients[0], token, len(MODES), 0)  # warm up
        with ThreadPoolExecutor(concurrency) as pool:
            lines = [pool.submit(_line, client, token, rounds, i) for i, client in enumerate(clients)]
            results = [line.result() for line in lines]
        merged: dict[str, list[float]] = defaultdict(list)
        for result in results:
            for mode, values in result.items():
                merged[mode] += [v * 1000 for v in values]
        measured[concurrency] = {mode: merged[mode] for mode in MODES}
    return measured


def main() -> None:
    from bench.report import intent_lookup_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds per conversation line (a multiple of 3)")
    args = parser.parse_args()
    web = load_web_settings()
    print(intent_lookup_table(measure(web.rasa_url, web.rasa_token, args.rounds)))


if __name__ == "__main__":
    main()
