"""Voice webhook turn latency (signed webhook in, TwiML out), 1 and 8 concurrent calls.

Needs the assistant running (`make run`). Each simulated call: the greeting webhook, a spoken
progress request, the ID number on the keypad, the last four digits (a database turn), then the
status callback. Figures are medians and percentiles of one run.

Run: .venv/bin/python -m bench.voice_latency [--calls-per-line 10]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from twilio.request_validator import RequestValidator

from bench.stats import percentile
from bot.cards.demo import DEMO_CARDHOLDERS
from bot.config import merged_environment

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.status.value == "shipped")
OTHER_PHONE = "+8613000000000"  # not the registered number, so the last four digits are asked
INPUTS = [  # the URLs the hotline's own TwiML links, step by step
    ("/twilio/voice/turn?lang=zh&silent=0&greeting=1&step=1", {"SpeechResult": "我想查一下社保卡办理进度"}),
    ("/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=2", {"Digits": HOLDER.id_number}),
    ("/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=3", {"Digits": HOLDER.phone[-4:]}),
]
TWILIO_LIMIT_MS = 15000


def one_line(base: str, token: str, calls: int) -> list[float]:
    """Calls placed one after another on one line; the latency of every webhook turn."""
    validator = RequestValidator(token)
    timings: list[float] = []
    with requests.Session() as http:
        for _ in range(calls):
            common = {"CallSid": "CA" + secrets.token_hex(16), "From": OTHER_PHONE, "To": "+861012345678"}
            steps = [("/twilio/voice", {}), *INPUTS, ("/twilio/status", {"CallStatus": "completed"})]
            for path, extra in steps:
                form = {**common, **extra}
                headers = {"X-Twilio-Signature": validator.compute_signature(base + path, form)}
                start = time.perf_counter()
                response = http.post(base + path, data=form, headers=headers, timeout=20)
                timings.append(time.perf_counter() - start)
                if response.status_code not in (200, 204):
                    raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return timings


def measure(base: str, token: str, calls_per_line: int) -> dict[int, dict[str, list[float]]]:
    """Milliseconds per webhook at 1 and 8 concurrent lines: all webhooks, and the caller turns alone."""
    one_line(base, token, 1)  # warm up
    measured = {}
    for lines in (1, 8):
        with ThreadPoolExecutor(lines) as pool:
            results = list(pool.map(lambda _: one_line(base, token, calls_per_line), range(lines)))
        measured[lines] = {
            label: [v * 1000 for result in results for call in _calls(result) for v in call[pick]]
            for label, pick in (("all webhooks", slice(None)), ("caller turns (via Rasa)", slice(1, 4)))
        }
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-line", type=int, default=10)
    args = parser.parse_args()
    env = merged_environment()
    base = f"http://127.0.0.1:{env.get('WEB_PORT') or 8000}"
    token = env["TWILIO_AUTH_TOKEN"]
    print("| concurrent calls | turns | p50 ms | p95 ms | p99 ms | max ms | over 15 s |")
    print("|---|---|---|---|---|---|---|")
    for lines, kinds in measure(base, token, args.calls_per_line).items():
        for label, values in kinds.items():
            over = sum(v > TWILIO_LIMIT_MS for v in values)
            print(
                f"| {lines}, {label} | {len(values)} | {statistics.median(values):.0f} | "
                f"{percentile(values, 0.95):.0f} | {percentile(values, 0.99):.0f} | {max(values):.0f} | {over} |"
            )


def _calls(timings: list[float]) -> list[list[float]]:
    """One line's timings split per call (greeting, three caller turns, status callback)."""
    size = len(INPUTS) + 2
    return [timings[i : i + size] for i in range(0, len(timings), size)]


if __name__ == "__main__":
    main()
