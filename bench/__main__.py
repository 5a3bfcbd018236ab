"""`make bench`: the whole benchmark report, ours side by side with stock Rasa, in one run.

Trains both bots from scratch (an empty training cache) into a temporary directory, starts ours
with `make run` on free ports over a temporary database, times it to a healthy /healthz, runs the
chat and voice benchmarks (the scale curve: 1, 8, 32 and 64 conversations at once, 1, 8 and 32
calls) while sampling each process's memory, stops it, then does the same for a minimal stock
Rasa bot, and writes the measured block of docs/benchmarks.md and the scale curve's plot beside it.
Nothing under var/ or models/ is touched, except that a missing model is trained as `make run` would.

Run: .venv/bin/python -m bench [--quick] [--skip-training] [--output docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

from bench import chat_latency, plot, stock, voice_latency
from bench.report import Results, figures, render, write_report
from bench.system import MemorySampler, describe_machine
from bot.config import ROOT, merged_environment
from bot.training.trained_model import TRAIN_COMMAND, ensure_trained

RASA = Path(sys.executable).with_name("rasa")
STARTUP_TIMEOUT = 300
QUICK_EPOCHS = 30  # a quick run trains the stock bot this briefly: it checks the benchmark, not the bot
REPORT = ROOT / "docs" / "benchmarks.md"
# Ours straight at Rasa's channel beside stock, without the web app: a like-for-like check, not the curve.
RASA_LEVELS = (1, 8)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def role_of(command: list[str]) -> str | None:
    """Which of our processes a command line is; shells the supervisor starts them through do not count."""
    if not command or Path(command[0]).name in {"sh", "bash", "dash", "make", "supervisord"}:
        return None
    text = " ".join(command)
    if "rasa_sdk" in text or "-m actions" in text:
        return "actions"
    if "gunicorn" in text:
        return "web"
    if ("bin/rasa" in text or "-m rasa_addons" in text) and " run" in text:
        return "rasa"
    return None


def train(command: Sequence[str], project: Path, out: Path, name: str, cache: Path) -> float:
    """Seconds a training `command` takes in `project` with an empty cache (Rasa would otherwise reuse parts)."""
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache)}
    start = time.perf_counter()
    subprocess.run(
        [*command, "--out", str(out), "--fixed-model-name", name],
        cwd=project,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _answers(url: str, **params: str) -> dict | None:
    """The JSON body of a 200 answer, or None."""
    try:
        response = requests.get(url, params=params, timeout=2)
        return response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


def wait_for(check: Callable[[], bool], process: subprocess.Popen, what: str) -> float:
    """Seconds until `check` passes; an error if the process exits or it takes too long."""
    start = time.perf_counter()
    while time.perf_counter() - start < STARTUP_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready")
        if check():
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {STARTUP_TIMEOUT} s")


@contextmanager
def started(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A process group of our own, stopped with SIGTERM (then SIGKILL) at the end."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _rasa_loaded(url: str, token: str) -> Callable[[], bool]:
    return lambda: bool((_answers(f"{url}/status", token=token) or {}).get("model_file"))


def bench_ours(results: Results, work: Path) -> None:
    ports = {"WEB_PORT": free_port(), "RASA_PORT": free_port(), "ACTIONS_PORT": free_port()}
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "DATABASE_URL": f"sqlite:///{work / 'cards.db'}",
        "TRACKER_SQLITE_PATH": str(work / "tracker.db"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        "CHAT_TURNS_PER_MINUTE": "1000000",  # the load comes from one address: no per-address limit
    }
    secrets = merged_environment(env)
    rasa_url, web_url = f"http://127.0.0.1:{ports['RASA_PORT']}", f"http://127.0.0.1:{ports['WEB_PORT']}"
    print(f"starting `make run` (log: {work / 'make-run.log'})", flush=True)
    start = time.perf_counter()
    with started(["make", "run"], ROOT, env, work / "make-run.log") as process:
        with MemorySampler(process.pid, role_of) as memory:
            rasa_ready = _rasa_loaded(rasa_url, secrets["RASA_TOKEN"])
            wait_for(rasa_ready, process, "Rasa")
            results.rasa_ready_s["ours"] = time.perf_counter() - memory.started.get("rasa", start)
            wait_for(lambda: _answers(f"{web_url}/healthz") is not None, process, "make run")
            results.make_run_healthy_s = time.perf_counter() - start
            print("chat through Rasa's signed channel", flush=True)
            results.chat_rasa = chat_latency.measure(
                rasa_url, results.rounds, levels=RASA_LEVELS, key=secrets["RASA_TOKEN"]
            )
            chat_url = f"{web_url}/chat/message"
            print("long conversations through the web app", flush=True)
            results.long_chat = chat_latency.long_conversations(chat_url, results.long_conversations, via_web=True)
            print("chat through the web app", flush=True)
            results.chat_web = chat_latency.measure(chat_url, results.rounds, via_web=True)
            print("voice webhooks", flush=True)
            results.voice = voice_latency.measure(web_url, secrets["TWILIO_AUTH_TOKEN"], results.calls_per_line)
    results.memory_mib["ours"] = dict(memory.peaks)


def bench_stock(results: Results, work: Path) -> None:
    project = stock.write_bot(work / "stock", epochs=QUICK_EPOCHS if results.quick else None)
    print("training the stock bot", flush=True)
    stock_training = (str(RASA), "train")  # stock Rasa, TensorFlow and all: the stock bot uses DIET and TED
    results.training_s["stock"] = train(stock_training, project, project / "models", "stock", work / "stock-cache")
    port, token = free_port(), "bench-stock"
    serve = ["-m", "models/stock.tar.gz", "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
    command = [str(RASA), "run", "--enable-api", "--auth-token", token, "-i", "127.0.0.1", "-p", str(port), *serve]
    url = f"http://127.0.0.1:{port}"
    with started(command, project, dict(os.environ), work / "stock-rasa.log") as process:
        with MemorySampler(process.pid, lambda c: "rasa" if role_of(c) == "rasa" else None) as memory:
            results.rasa_ready_s["stock"] = wait_for(_rasa_loaded(url, token), process, "stock Rasa")
            print("stock chat turns", flush=True)
            results.chat_stock = chat_latency.measure(f"{url}/webhooks/rest/webhook", results.rounds, stock.SCRIPT)
    results.memory_mib["stock"] = dict(memory.peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="chat script rounds per conversation, up to 8 at once")
    parser.add_argument("--calls-per-line", type=int, default=10, help="voice calls per line, up to 8 lines at once")
    parser.add_argument("--quick", action="store_true", help="a few turns only: checks the benchmark works")
    parser.add_argument("--skip-training", action="store_true", help="do not time our training (it takes minutes)")
    parser.add_argument("--output", type=Path, default=REPORT, help="report to update (default docs/benchmarks.md)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.calls_per_line = 1, 1
    began = time.perf_counter()
    results = Results(describe_machine(), rounds=args.rounds, calls_per_line=args.calls_per_line, quick=args.quick,
                      long_conversations=1 if args.quick else 5)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        if not args.skip_training:
            print("training our model from scratch", flush=True)
            results.training_s["ours"] = train(TRAIN_COMMAND, ROOT, work / "models", "ours", work / "cache")
        ensure_trained()  # what `make run` serves
        bench_ours(results, work)
        bench_stock(results, work)
    picture = args.output.parent / plot.NAME
    plot.write_plot(picture, figures(results.chat_web), figures(results.chat_stock), figures(results.voice))
    results.plot = picture.name
    results.duration_s = time.perf_counter() - began
    write_report(args.output, render(results))
    print(f"wrote {args.output} and {picture}")


if __name__ == "__main__":
    main()
