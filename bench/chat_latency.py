"""Chat turn latency and throughput at 1, 8, 32 and 64 concurrent conversations.

Needs the assistant running (`make run`) with the demo cardholders; `make bench` starts one itself.
Each conversation repeats: a greeting (a response straight from a rule), an information question
(a custom action that does not touch the database), a progress request and the ID number (form
steps), and the name (the identity check and the progress answer, both reading the card
database). Latency is measured per turn kind, through Rasa's signed channel as the web app talks
to it (default) or through the web app's chat endpoint (`--via-web`, the full stack); figures are
medians and percentiles of one run, so compare them within a run. The stock Rasa bot of `make bench`
is measured through Rasa's own REST channel. A turn that gets no answer (an HTTP error, a timeout,
no reply, or the web app's apology when Rasa did not answer) is counted as an error, not timed.

Run: .venv/bin/python -m bench.chat_latency [--rounds 15] [--via-web] [--levels 1,8,32,64]
"""

from __future__ import annotations

import argparse
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.http_client import Client, HTTPError, origin_and_path
from bench.report import chat_tables
from bench.stats import Level, scaled, summarise
from bot.cards.demo import DEMO_CARDHOLDERS
from bot.channels.signed import WEBHOOK_PATH, signed_message
from bot.config import merged_environment
from webhooks import messages
from webhooks.settings import load_web_settings

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.status.value == "ready_for_pickup")
SCRIPT = [
    ("plain", "你好"),
    ("action", "异地就医要先备案吗"),
    ("form", "查一下社保卡进度"),
    ("form", HOLDER.id_number),
    ("database", HOLDER.name),
]
CONCURRENCY = (1, 8, 32, 64)
TIMEOUT_S = 30  # the web app's gunicorn gives up on a request after 30 s too
# What the web app says when Rasa does not answer: the start of its apology, in each language.
APOLOGIES = tuple(text.split("{hotline}")[0] for text in messages.UNAVAILABLE.values())
# A long conversation: questions that need no identity, asked over and over in one session.
LONG_SCRIPT = ["你好", "异地就医要先备案吗", "补办社保卡要带什么", "社保卡怎么激活", "How do I replace my card?"]
LONG_TURNS = 52
# Turns whose latency stands for "turn 5" and "turn 50" (1-based), the medians of a few around each.
EARLY_TURNS, LATE_TURNS = range(3, 8), range(48, 53)
Timings = dict[str, list[float]]


def open_chat(http: Client, message_path: str) -> None:
    """Load the chat page as a browser does: its session cookie, and its CSRF token for every message."""
    page = http.get(message_path.removesuffix("chat/message")).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    if token:
        http.headers["X-CSRFToken"] = token.group(1)


def _post(http: Client, path: str, sender: str, text: str, *, via_web: bool, key: str | None):
    """One turn: signed to the Rasa server at `path` when there is a `key`, else to the web app's or a
    stock Rasa's endpoint at `path`."""
    if key:
        body, headers = signed_message(key, sender, text)
        return http.post(path.rstrip("/") + WEBHOOK_PATH, body, headers)
    return http.post_json(path, {"message": text} if via_web else {"sender": sender, "message": text})


def answered(status: int, body: object, *, via_web: bool) -> bool:
    """Whether a turn got a real answer: HTTP 200 and at least one reply, and through the web app
    not the apology it gives when Rasa does not answer in time."""
    if status != 200:
        return False
    if not via_web:
        return isinstance(body, list) and bool(body)
    replies = body.get("replies") if isinstance(body, dict) else None
    return bool(replies) and not any(str(reply).startswith(APOLOGIES) for reply in replies)


def _turn(http: Client, path: str, sender: str, text: str, *, via_web: bool, key: str | None) -> bool:
    try:
        reply = _post(http, path, sender, text, via_web=via_web, key=key)
        return answered(reply.status, reply.json(), via_web=via_web)
    except (HTTPError, ValueError):
        return False


@dataclass
class ChatLevel:
    """One concurrency level: seconds per answered turn by kind, failed turns, and the wall time."""

    timings: Timings = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    elapsed_s: float = 0.0

    def latencies(self) -> list[float]:
        return [v for values in self.timings.values() for v in values]

    def figures(self) -> Level:
        return summarise(self.latencies(), self.errors, self.elapsed_s)


def conversation(
    url: str,
    rounds: int,
    script: Sequence[tuple[str, str]] = SCRIPT,
    *,
    via_web: bool = False,
    key: str | None = None,
) -> ChatLevel:
    """`rounds` fresh conversations, one after another. A failed turn counts as an error and ends
    its conversation (the script cannot go on), and the next round starts a fresh one."""
    level = ChatLevel()
    origin, path = origin_and_path(url)
    for _ in range(rounds):
        with Client(origin, timeout=TIMEOUT_S) as http:  # the web app keeps its conversation in a cookie
            if via_web:
                try:
                    open_chat(http, path)
                except HTTPError:
                    level.errors += 1
                    continue
            sender = "bench-" + uuid.uuid4().hex[:12]
            for kind, text in script:
                start = time.perf_counter()
                if not _turn(http, path, sender, text, via_web=via_web, key=key):
                    level.errors += 1
                    break
                level.timings[kind].append(time.perf_counter() - start)
    return level


def run(
    url: str,
    concurrency: int,
    rounds: int,
    script: Sequence[tuple[str, str]] = SCRIPT,
    *,
    via_web: bool = False,
    key: str | None = None,
) -> ChatLevel:
    """`concurrency` conversations at once, their results merged, with the wall time taken."""
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(
            pool.map(lambda _: conversation(url, rounds, script, via_web=via_web, key=key), range(concurrency))
        )
    merged = ChatLevel(elapsed_s=time.perf_counter() - start)
    for result in results:
        merged.errors += result.errors
        for kind, values in result.timings.items():
            merged.timings[kind] += values
    return merged


def measure(
    url: str,
    rounds: int,
    script: Sequence[tuple[str, str]] = SCRIPT,
    *,
    levels: Sequence[int] = CONCURRENCY,
    via_web: bool = False,
    key: str | None = None,
) -> dict[int, ChatLevel]:
    """A warm-up conversation, then a run at each concurrency level (fewer rounds above 8, see `scaled`).

    `url` is the web app's chat endpoint (`via_web`), our Rasa's base URL (with the channel `key`)
    or a stock Rasa's REST webhook.
    """
    conversation(url, 1, script, via_web=via_web, key=key)  # first turns load lazily
    measured = {}
    for level in levels:
        print(f"  {level} concurrent", flush=True)
        measured[level] = run(url, level, scaled(rounds, level), script, via_web=via_web, key=key)
    return measured


def long_conversations(
    url: str, conversations: int, *, via_web: bool = False, key: str | None = None
) -> dict[str, list[float]]:
    """Seconds per turn early and late in conversations of LONG_TURNS turns, one after another.

    Rasa reads a conversation from its tracker store on every turn, so a turn late in a long
    conversation costs more unless the store reads only what is new.
    """
    timings: dict[str, list[float]] = {"early": [], "late": []}
    origin, path = origin_and_path(url)
    for _ in range(conversations):
        with Client(origin, timeout=TIMEOUT_S) as http:
            if via_web:
                open_chat(http, path)
            sender = "bench-long-" + uuid.uuid4().hex[:12]
            for turn in range(1, LONG_TURNS + 1):
                start = time.perf_counter()
                if not _turn(http, path, sender, LONG_SCRIPT[turn % len(LONG_SCRIPT)], via_web=via_web, key=key):
                    raise RuntimeError(f"no answer to turn {turn} of a long conversation")
                elapsed = time.perf_counter() - start
                if turn in EARLY_TURNS:
                    timings["early"].append(elapsed)
                elif turn in LATE_TURNS:
                    timings["late"].append(elapsed)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds of the script per conversation, up to 8 at once")
    parser.add_argument("--via-web", action="store_true", help="through the web app's /chat/message")
    parser.add_argument("--levels", default=",".join(map(str, CONCURRENCY)), help="concurrency levels, comma-separated")
    args = parser.parse_args()
    key = None
    if args.via_web:
        url = f"http://127.0.0.1:{merged_environment().get('WEB_PORT') or 8000}/chat/message"
    else:
        web = load_web_settings()
        url, key = web.rasa_url, web.rasa_token
    levels = [int(level) for level in args.levels.split(",")]
    print(chat_tables(measure(url, args.rounds, levels=levels, via_web=args.via_web, key=key)))


if __name__ == "__main__":
    main()
