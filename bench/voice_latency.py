"""Voice webhook turn latency (signed webhook in, TwiML out) at 1, 8 and 32 concurrent calls.

Needs the assistant running (`make run`). Each simulated call: the greeting webhook, a spoken
progress request, the ID number on the keypad, the last four digits (a database turn), then the
status callback. A webhook that fails (an HTTP error, a timeout, or the apology the caller hears
when Rasa does not answer) is counted as an error and ends its call. Figures are medians and
percentiles of one run.

Run: .venv/bin/python -m bench.voice_latency [--calls-per-line 10] [--levels 1,8,32]
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

from bench.http_client import Client, HTTPError
from bench.report import voice_table
from bench.stats import Level, scaled, summarise
from bot.cards.demo import DEMO_CARDHOLDERS
from bot.config import merged_environment
from webhooks.voice_prompts import PROMPTS

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.status.value == "shipped")
OTHER_PHONE = "+8613000000000"  # not the registered number, so the last four digits are asked
INPUTS = [  # the URLs the hotline's own TwiML links, step by step
    ("/twilio/voice/turn?lang=zh&silent=0&greeting=1&step=1", {"SpeechResult": "我想查一下社保卡办理进度"}),
    ("/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=2", {"Digits": HOLDER.id_number}),
    ("/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=3", {"Digits": HOLDER.phone[-4:]}),
]
CONCURRENCY = (1, 8, 32)
TIMEOUT_S = 20  # past Twilio's 15 s: a webhook that slow has failed the caller anyway
APOLOGIES = tuple(PROMPTS["unavailable"].values())


@dataclass
class VoiceLevel:
    """One concurrency level: seconds per answered webhook (all, and the caller turns that go
    through Rasa), failed webhooks, and the wall time."""

    webhooks: list[float] = field(default_factory=list)
    caller_turns: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def figures(self) -> Level:
        """Caller turns' latency; webhooks per second; the slowest of all webhooks."""
        caller = summarise(self.caller_turns, self.errors, self.elapsed_s)
        every = summarise(self.webhooks, self.errors, self.elapsed_s)
        return Level(every.turns, every.turns_per_s, caller.p50_ms, caller.p95_ms, caller.p99_ms, every.slowest_ms,
                     self.errors)  # fmt: skip


def answered(status: int, twiml: str) -> bool:
    """Whether a webhook got a real answer: 200 or 204, and not the apology that hands the caller over."""
    return status in (200, 204) and not any(apology in twiml for apology in APOLOGIES)


def one_line(base: str, token: str, calls: int) -> VoiceLevel:
    """Calls placed one after another on one line."""
    validator = RequestValidator(token)
    line = VoiceLevel()
    with Client(base, timeout=TIMEOUT_S) as http:
        for _ in range(calls):
            common = {"CallSid": "CA" + secrets.token_hex(16), "From": OTHER_PHONE, "To": "+861012345678"}
            steps = [("/twilio/voice", {}), *INPUTS, ("/twilio/status", {"CallStatus": "completed"})]
            for step, (path, extra) in enumerate(steps):
                form = {**common, **extra}
                headers = {"X-Twilio-Signature": validator.compute_signature(base + path, form)}
                start = time.perf_counter()
                try:
                    response = http.post_form(path, form, headers)
                    ok = answered(response.status, response.text)
                except HTTPError:
                    ok = False
                if not ok:
                    line.errors += 1
                    break
                line.webhooks.append(time.perf_counter() - start)
                if 1 <= step <= len(INPUTS):
                    line.caller_turns.append(line.webhooks[-1])
    return line


def run(base: str, token: str, lines: int, calls_per_line: int) -> VoiceLevel:
    """`lines` calls at once, each line placing `calls_per_line` calls in turn."""
    start = time.perf_counter()
    with ThreadPoolExecutor(lines) as pool:
        results = list(pool.map(lambda _: one_line(base, token, calls_per_line), range(lines)))
    merged = VoiceLevel(elapsed_s=time.perf_counter() - start)
    for result in results:
        merged.webhooks += result.webhooks
        merged.caller_turns += result.caller_turns
        merged.errors += result.errors
    return merged


def measure(base: str, token: str, calls_per_line: int, levels: Sequence[int] = CONCURRENCY) -> dict[int, VoiceLevel]:
    """A warm-up call, then a run at each level (fewer calls per line above 8, see `scaled`)."""
    one_line(base, token, 1)
    measured = {}
    for lines in levels:
        print(f"  {lines} concurrent calls", flush=True)
        measured[lines] = run(base, token, lines, scaled(calls_per_line, lines))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-line", type=int, default=10, help="calls per line, up to 8 lines at once")
    parser.add_argument("--levels", default=",".join(map(str, CONCURRENCY)), help="concurrent calls, comma-separated")
    args = parser.parse_args()
    env = merged_environment()
    base = f"http://127.0.0.1:{env.get('WEB_PORT') or 8000}"
    levels = [int(level) for level in args.levels.split(",")]
    print(voice_table(measure(base, env["TWILIO_AUTH_TOKEN"], args.calls_per_line, levels)))


if __name__ == "__main__":
    main()
