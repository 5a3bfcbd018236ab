"""The assistant in production mode against this machine's PostgreSQL and Redis, for tests.

Each run gets throwaway databases (card database and Rasa's tracker store) and its own Redis key
prefix, all removed afterwards; the server processes themselves are never touched. Processes are
started exactly as `Procfile.production` starts them (`python -m actions`, `deploy/rasa.sh`), and
tests may kill and restart them by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import redis

from bench.production import POSTGRES, REDIS_HOST, REDIS_PORT, production_stack_databases
from bot.cards.demo import seed_demo_database
from bot.config import ROOT
from tests.e2e.processes import (
    Stack,
    start,
    stop,
    wait_for_action_server,
    wait_for_rasa,
)
from tests.support import free_port


def services_missing() -> str | None:
    """Why the production tests cannot run here, or None when PostgreSQL and Redis both answer."""
    try:
        psycopg2.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
    except psycopg2.Error as error:
        return f"PostgreSQL at {POSTGRES} is not reachable ({type(error).__name__})"
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3).ping()
    except redis.RedisError as error:
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} is not reachable ({type(error).__name__})"
    return None


def require_services() -> None:
    """Skip with the reason, or fail when REQUIRE_PRODUCTION_TESTS is set (CI has both services)."""
    missing = services_missing()
    if missing and os.environ.get("REQUIRE_PRODUCTION_TESTS"):
        pytest.fail(f"production tests required but {missing}")
    if missing:
        pytest.skip(missing)


@dataclass
class ProductionStack(Stack):
    """Action server and Rasa servers in production mode; `rasa_urls` name every Rasa server."""

    work: Path = Path()
    model: Path = Path()
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for name, port in sorted(self.ports.items()) if name.startswith("rasa")]

    @property
    def card_database(self) -> str:
        return self.env["DATABASE_URL"].rsplit("/", 1)[1]

    def start_actions(self) -> None:
        command = [sys.executable, "-m", "actions", "-p", str(self.ports["actions"])]
        env = {**self.env, "ACTION_SERVER_SANIC_WORKERS": "2"}  # several action-server workers, as in production
        self.processes["actions"] = start(command, env, self.work / "actions.log", own_group=True)
        wait_for_action_server(self.ports["actions"], [self.processes["actions"]])

    def start_rasa(self, *names: str) -> None:
        """Start the named Rasa servers together, then wait for each to load the model."""
        for name in names:
            command = [str(ROOT / "deploy" / "rasa.sh"), str(self.ports[name])]
            self.processes[name] = start(command, self.env, self.work / f"{name}.log", own_group=True)
        for name in names:
            wait_for_rasa(f"http://127.0.0.1:{self.ports[name]}", self.token, [self.processes[name]])

    def kill(self, name: str) -> None:
        """SIGKILL to the process and its workers: none gets a chance to finish anything, as in a crash."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        """SIGTERM to each process group (the action server's workers too), SIGKILL after 20 s."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        stop(*self.processes.values())
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything the group leader left behind
            except ProcessLookupError:
                pass
        self.processes.clear()


def production_stack(model: Path, work: Path):
    """Generator behind the `production_stack` fixture: create, start, yield, then remove everything."""
    ports = {"actions": free_port(), "rasa_a": free_port(), "rasa_b": free_port()}
    with production_stack_databases(ports["actions"]) as databases:
        env = {**databases, "RASA_MODEL": str(model)}
        stack = ProductionStack(
            rasa_url=f"http://127.0.0.1:{ports['rasa_a']}",
            token=env["RASA_TOKEN"],
            env=env,
            work=work,
            model=model,
            ports=ports,
        )
        try:
            seed_demo_database(env)
            stack.start_actions()
            stack.start_rasa("rasa_a", "rasa_b")
            yield stack
        finally:
            stack.stop_all()
