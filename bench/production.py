"""Production mode's scale curve: `Procfile.production` with two Rasa servers beside the same with one.

`make run-prod` runs two Rasa servers behind the web app, sharing conversations through
PostgreSQL and a Redis lock store. This starts that Procfile under the supervisor twice, one after
the other, over throwaway PostgreSQL databases and its own Redis key prefix (all removed at the
end): once as it is, once without its second Rasa server. Each gets the chat script of
`bench.chat_latency` through the web app at every concurrency level, so the table shows what the
second server adds on this machine. Needs PostgreSQL and Redis on their local ports (or
BENCH_POSTGRES, BENCH_REDIS_HOST, BENCH_REDIS_PORT) and a trained model; it leaves var/ alone.

Run: .venv/bin/python -m bench.production [--rounds 15] [--levels 1,8,32,64]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import psycopg2
import redis

from bench.__main__ import _answers, free_port, started, wait_for
from bench.chat_latency import CONCURRENCY, ChatLevel, measure
from bench.report import _table
from bench.stats import Level
from bot.cards.demo import seed_demo_database
from bot.config import GENERATED_SECRETS, ROOT
from bot.training.trained_model import ensure_trained

POSTGRES = os.environ.get("PRODUCTION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REDIS_HOST = os.environ.get("PRODUCTION_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("PRODUCTION_TEST_REDIS_PORT", "6379"))
REDIS_DB = 1


def admin(sql: str) -> None:
    """One statement on the server's maintenance database, outside a transaction."""
    connection = psycopg2.connect(f"{POSTGRES}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def production_env(tag: str, actions_port: int) -> dict[str, str]:
    """A complete production environment with fresh secrets (nothing read from .env)."""
    return {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "RASA_URLS", "TRACKER_SQLITE_PATH"}},
        "APP_ENV": "production",
        **{name: make() for name, make in GENERATED_SECRETS.items()},
        "DATABASE_URL": f"{POSTGRES}/cards_{tag}",
        "TRACKER_STORE_URL": f"{POSTGRES}/tracker_{tag}",
        "LOCK_STORE_URL": REDIS_HOST,
        "LOCK_STORE_PORT": str(REDIS_PORT),
        "LOCK_STORE_DB": str(REDIS_DB),
        "LOCK_STORE_PASSWORD": "",
        "LOCK_STORE_KEY_PREFIX": f"t{tag}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
    }


@contextlib.contextmanager
def production_stack_databases(actions_port: int) -> Iterator[dict[str, str]]:
    """A production environment over fresh card and tracker databases and Redis keys, removed after."""
    tag = f"{os.getpid()}x{secrets.token_hex(4)}"
    admin(f"CREATE DATABASE cards_{tag}")
    admin(f"CREATE DATABASE tracker_{tag}")
    try:
        yield production_env(tag, actions_port)
    finally:
        drop_stack_databases(tag)


def drop_stack_databases(tag: str) -> None:
    admin(f"DROP DATABASE IF EXISTS cards_{tag} WITH (FORCE)")
    admin(f"DROP DATABASE IF EXISTS tracker_{tag} WITH (FORCE)")
    locks = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    for key in locks.scan_iter(f"t{tag}:*"):
        locks.delete(key)


@contextlib.contextmanager
def benchmark_environment(model: Path) -> Iterator[dict[str, str]]:
    """`production_stack_databases` with the demo cardholders, free ports and `model`, for one stack."""
    ports = {name: str(free_port()) for name in ("WEB_PORT", "RASA_PORT", "ACTIONS_PORT")}
    with production_stack_databases(int(ports["ACTIONS_PORT"])) as env:
        seed_demo_database(env)
        yield {
            **env,
            **ports,
            "RASA_MODEL": str(model),
            "CHAT_TURNS_PER_MINUTE": "1000000",  # every conversation comes from this one address
        }


def one_rasa(procfile: str) -> str:
    """The Procfile without its second Rasa server."""
    return "".join(line for line in procfile.splitlines(keepends=True) if not line.startswith("rasa2:"))


def run_stack(procfile: Path, env: dict[str, str], rasa_urls: str | None, rounds: int, levels: list[int],
              log: Path) -> dict[int, ChatLevel]:  # fmt: skip
    """Start `procfile` under the supervisor, wait for a healthy /healthz, and measure chat through the web app."""
    env = {**env, **({"RASA_URLS": rasa_urls} if rasa_urls else {})}
    web = f"http://127.0.0.1:{env['WEB_PORT']}"
    with started([sys.executable, "-m", "bot", "supervise", "run", str(procfile)], ROOT, env, log) as process:
        wait_for(lambda: _answers(f"{web}/healthz") is not None, process, procfile.name)
        return measure(f"{web}/chat/message", rounds, levels=levels, via_web=True)


def comparison_table(two: Mapping[int, Level], one: Mapping[int, Level]) -> str:
    """Turns/s and p95 with two Rasa servers and with one, level by level, and their ratios."""
    rows = []
    for level in sorted(two):
        a, b = two[level], one.get(level)
        rows.append((
            level,
            f"{a.turns_per_s:,.1f}", f"{b.turns_per_s:,.1f}" if b else "",
            f"{a.turns_per_s / b.turns_per_s:.2f}×" if b and b.turns_per_s else "",
            f"{a.p95_ms:,.0f}", f"{b.p95_ms:,.0f}" if b else "",
            f"{a.errors} / {b.errors}" if b else f"{a.errors} / ",
        ))  # fmt: skip
    header = ("concurrent conversations", "turns/s, two Rasa", "turns/s, one Rasa", "two / one",
              "p95 ms, two Rasa", "p95 ms, one Rasa", "errors two / one")  # fmt: skip
    return _table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds of the chat script per conversation, up to 8")
    parser.add_argument("--levels", default=",".join(map(str, CONCURRENCY)), help="concurrency levels, comma-separated")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    model = ensure_trained()
    procfile = ROOT / "Procfile.production"
    results: dict[str, dict[int, Level]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-prod-") as work:
        single = Path(work) / "Procfile.one-rasa"
        single.write_text(one_rasa(procfile.read_text()))
        for label, path in (("two", procfile), ("one", single)):
            print(f"{label} Rasa server(s): {path.name}", flush=True)
            with benchmark_environment(model) as env:
                rasa_urls = None if label == "two" else f"http://127.0.0.1:{env['RASA_PORT']}"
                run = run_stack(path, env, rasa_urls, args.rounds, levels, Path(work) / f"{label}.log")
            results[label] = {level: measured.figures() for level, measured in run.items()}
    print(comparison_table(results["two"], results["one"]))


if __name__ == "__main__":
    sys.exit(main())
