"""Starting and talking to the assistant's processes in end-to-end tests (shared by every stack)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from bot.channels.signed import post_message
from bot.config import ROOT

STARTUP_TIMEOUT = 180


def wait_until(check: Callable[[], bool], timeout: float, what: str, processes: list[subprocess.Popen]) -> None:
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

    def say(self, sender: str, message: str, metadata: dict | None = None, *, rasa_url: str | None = None) -> list[str]:
        """Send one message over the signed channel (of `rasa_url`, else this stack's Rasa), as the web app
        does; the text replies."""
        with requests.Session() as http:
            response = post_message(http, rasa_url or self.rasa_url, self.token, sender, message, metadata, timeout=30)
        response.raise_for_status()
        return [m.get("text", "") for m in response.json()]

    def tracker(self, sender: str, *, rasa_url: str | None = None) -> dict:
        """The conversation as Rasa's HTTP API has it (read from the tracker store)."""
        url = f"{rasa_url or self.rasa_url}/conversations/{sender}/tracker"
        response = requests.get(url, params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()

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


class WebChat:
    """A browser on the chat page of a web app running at `base_url`: its session cookie and CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.base_url, self.http = base_url, requests.Session()
        page = self.http.get(f"{base_url}/", timeout=30).text
        self.http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def say(self, message: str) -> list[str]:
        """The replies to `message`; requests.HTTPError on an answer other than 200."""
        response = self.http.post(f"{self.base_url}/chat/message", json={"message": message}, timeout=30)
        response.raise_for_status()
        return response.json()["replies"]


def start(command: list[str], env: dict[str, str], log: Path, *, own_group: bool = False) -> subprocess.Popen:
    """A process of the stack, its output appended to `log`; `own_group` so it can be killed with its workers."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=own_group
        )


def action_server_command(port: int) -> list[str]:
    """As in the Procfile: the action server writes JSON log lines, so tests can follow a request id."""
    return [sys.executable, "-m", "actions", "--logging-config_file", "bot/platform/logging.yml", "-p", str(port)]


def rasa_command(port: int, *, model: Path) -> list[str]:
    """`rasa run` as the Procfile runs it: signed channel and HTTP API on loopback, behind RASA_TOKEN
    (taken from the environment, never the command line)."""
    return [
        sys.executable, "-m", "rasa_addons", "run", "--enable-api",
        "-i", "127.0.0.1", "-p", str(port), "-m", str(model),
        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
    ]  # fmt: skip


def wait_for_action_server(port: int, processes: list[subprocess.Popen]) -> None:
    url = f"http://127.0.0.1:{port}/health"
    wait_until(lambda: requests.get(url, timeout=2).ok, STARTUP_TIMEOUT, "action server", processes)


def wait_for_rasa(rasa_url: str, token: str, processes: list[subprocess.Popen]) -> None:
    def ready() -> bool:
        return "model_file" in requests.get(f"{rasa_url}/status", params={"token": token}, timeout=2).json()

    wait_until(ready, STARTUP_TIMEOUT, "Rasa", processes)


def stop(*processes: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL for any process still running after 20 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
