"""A running assistant for end-to-end tests: trained model, action server and Rasa on loopback.

The model is trained once for the current training inputs and kept in models/ (named by their
fingerprint), so only the first run after a data change pays for training.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from bot.config import ROOT, load_settings
from bot.db import make_engine, make_session_factory
from bot.demo import seed_demo
from bot.migrate import upgrade
from bot.model import ensure_trained
from tests.support import free_port

VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 180
# As in the Procfile: the action server writes JSON log lines, so tests can follow a request id.
ACTION_SERVER = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--logging-config_file", "bot/logging.yml"]


def wait_until(check, timeout: float, what: str, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a process exited with {process.returncode}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


@dataclass
class Stack:
    rasa_url: str
    token: str
    env: dict[str, str]
    logs: Path | None = None  # holds actions.log (JSON lines) and rasa.log

    def say(self, sender: str, message: str, metadata: dict | None = None) -> list[str]:
        """Send one message over the REST channel; the bot's text replies."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return [m.get("text", "") for m in response.json()]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60
        )

    def card(self, id_number: str) -> dict:
        result = self.cli("cards", "show", id_number, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def flags(self) -> list[dict]:
        return json.loads(self.cli("flags", "list", "--json").stdout)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    return ensure_trained()


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory) -> Stack:
    """Action server and Rasa over a fresh SQLite card database holding the demo cardholders."""
    work = tmp_path_factory.mktemp("stack")
    actions_port, rasa_port, token = free_port(), free_port(), "e2e-token"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'cards.db'}",
        "ID_HASH_KEY": "e2e-hash-key",
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "TRACKER_SQLITE_PATH": str(work / "tracker.db"),
    }
    settings = load_settings(env, env_file=None)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine).begin() as session:
        seed_demo(session, settings=settings, now=dt.datetime.now(dt.timezone.utc))
    engine.dispose()
    logs = {name: open(work / f"{name}.log", "wb") for name in ("actions", "rasa")}
    processes = [
        subprocess.Popen(
            [*ACTION_SERVER, "-p", str(actions_port)],
            cwd=ROOT,
            env=env,
            stdout=logs["actions"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--enable-api",
                "--auth-token",
                token,
                "-i",
                "127.0.0.1",
                "-p",
                str(rasa_port),
                "-m",
                str(trained_model),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=logs["rasa"],
            stderr=subprocess.STDOUT,
        ),
    ]
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    try:
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{actions_port}/health", timeout=2).ok,
            STARTUP_TIMEOUT,
            "action server",
            processes,
        )
        wait_until(
            lambda: "model_file" in requests.get(f"{rasa_url}/status", params={"token": token}, timeout=2).json(),
            STARTUP_TIMEOUT,
            "Rasa",
            processes,
        )
        yield Stack(rasa_url=rasa_url, token=token, env=env, logs=work)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()
