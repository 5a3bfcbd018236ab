"""Chat turn latency, 1 and 8 concurrent conversations, side by side.

Needs the assistant running (`make run`) with the demo cardholders; `make bench` starts one itself.
Each conversation repeats: a greeting (a response straight from a rule), an information question
(a custom action that does not touch the database), a progress request and the ID number (form
steps), and the name (the identity check and the progress answer, both reading the card
database). Latency is measured per turn kind, through Rasa's signed channel as the web app talks
to it (default) or through the web app's chat endpoint (`--via-web`, the full stack); figures are
medians and percentiles of one run, so compare them within a run. The stock Rasa bot of `make bench`
is measured through Rasa's own REST channel.

Run: .venv/bin/python -m bench.chat_latency [--rounds 15] [--via-web]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.stats import percentile
from bot.cards.demo import DEMO_CARDHOLDERS
from bot.channels.signed import post_message
from bot.config import merged_environment
from webhooks.settings import load_web_settings

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.status.value == "ready_for_pickup")
SCRIPT = [
    ("plain", "你好"),
    ("action", "异地就医要先备案吗"),
    ("form", "查一下社保卡进度"),
    ("form", HOLDER.id_number),
    ("database", HOLDER.name),
]
KINDS = ("plain", "action", "form", "database")
CONCURRENCY = (1, 8)
# A long conversation: questions that need no identity, asked over and over in one session.
LONG_SCRIPT = ["你好", "异地就医要先备案吗", "补办社保卡要带什么", "社保卡怎么激活", "How do I replace my card?"]
LONG_TURNS = 52
# Turns whose latency stands for "turn 5" and "turn 50" (1-based), the medians of a few around each.
EARLY_TURNS, LATE_TURNS = range(3, 8), range(48, 53)
Timings = dict[str, list[float]]


def open_chat(http: requests.Session, message_url: str) -> None:
    """Load the chat page as a browser does: its session cookie, and its CSRF token for every message."""
    page = http.get(message_url.removesuffix("chat/message"), timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    if token:
        http.headers["X-CSRFToken"] = token.group(1)


def _post(http: requests.Session, url: str, sender: str, text: str, *, via_web: bool, key: str | None):
    """One turn: signed to Rasa at base `url` when there is a `key`, else to the web app or a stock REST URL."""
    if key:
        return post_message(http, url, key, sender, text, timeout=30)
    body = {"message": text} if via_web else {"sender": sender, "message": text}
    return http.post(url, json=body, timeout=30)


def conversation(
    url: str,
    rounds: int,
    script: Sequence[tuple[str, str]] = SCRIPT,
    *,
    via_web: bool = False,
    key: str | None = None,
) -> Timings:
    """Seconds per turn kind for `rounds` fresh conversations, one after another."""
    timings: Timings = defaultdict(list)
    for _ in range(rounds):
        with requests.Session() as http:  # the web app keeps its conversation in the session cookie
            if via_web:
                open_chat(http, url)
            sender = "bench-" + uuid.uuid4().hex[:12]
            for kind, text in script:
                start = time.perf_counter()
                reply = _post(http, url, sender, text, via_web=via_web, key=key)
                timings[kind].append(time.perf_counter() - start)
                if not reply.ok or not reply.json():
                    raise RuntimeError(f"no reply to a {kind} turn: HTTP {reply.status_code}")
    return timings


def run(
    url: str,
    concurrency: int,
    rounds: int,
    script: Sequence[tuple[str, str]] = SCRIPT,
    *,
    via_web: bool = False,
    key: str | None = None,
) -> tuple[Timings, float]:
    """`concurrency` conversations at once; their merged timings and the wall time taken."""
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(
            pool.map(lambda _: conversation(url, rounds, script, via_web=via_web, key=key), range(concurrency))
        )
    elapsed = time.perf_counter() - start
    merged: Timings = defaultdict(list)
    for result in results:
        for kind, values in result.items():
            merged[kind] += values
    return merged, elapsed


def measure(
    url: str,
    rounds: int,
    script: Sequence[tuple[str, str]] = SCRIPT,
    *,
    via_web: bool = False,
    key: str | None = None,
) -> dict[int, tuple[Timings, float]]:
    """A warm-up conversation, then a run at each concurrency level.

    `url` is the web app's chat endpoint (`via_web`), our Rasa's base URL (with the channel `key`)
    or a stock Rasa's REST webhook.
    """
    conversation(url, 1, script, via_web=via_web, key=key)  # first turns load lazily
    return {c: run(url, c, rounds, script, via_web=via_web, key=key) for c in CONCURRENCY}


def long_conversations(
    url: str, conversations: int, *, via_web: bool = False, key: str | None = None
) -> dict[str, list[float]]:
    """Seconds per turn early and late in conversations of LONG_TURNS turns, one after another.

    Rasa reads a conversation from its tracker store on every turn, so a turn late in a long
    conversation costs more unless the store reads only what is new.
    """
    timings: dict[str, list[float]] = {"early": [], "late": []}
    for _ in range(conversations):
        with requests.Session() as http:
            if via_web:
                open_chat(http, url)
            sender = "bench-long-" + uuid.uuid4().hex[:12]
            for turn in range(1, LONG_TURNS + 1):
                start = time.perf_counter()
                reply = _post(http, url, sender, LONG_SCRIPT[turn % len(LONG_SCRIPT)], via_web=via_web, key=key)
                elapsed = time.perf_counter() - start
                if not reply.ok or not reply.json():
                    raise RuntimeError(f"no reply to turn {turn} of a long conversation: HTTP {reply.status_code}")
                if turn in EARLY_TURNS:
                    timings["early"].append(elapsed)
                elif turn in LATE_TURNS:
                    timings["late"].append(elapsed)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds of the script per conversation")
    parser.add_argument("--via-web", action="store_true", help="through the web app's /chat/message")
    args = parser.parse_args()
    key = None
    if args.via_web:
        url = f"http://127.0.0.1:{merged_environment().get('WEB_PORT') or 8000}/chat/message"
    else:
        web = load_web_settings()
        url, key = web.rasa_url, web.rasa_token
    print("| concurrent | turn | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    summary = []
    for concurrency, (timings, elapsed) in measure(url, args.rounds, via_web=args.via_web, key=key).items():
        turns = sum(len(v) for v in timings.values())
        for kind in KINDS:
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
