"""`model deploy`: a new model into the running Rasa servers without downtime, and only a better one.

Trains if the training inputs changed, scores the new model and the running one on the held-out
sets and the test conversations (rasa_addons/model_scores.py), and refuses the new one if any score
falls below the running model's by more than the tolerance. Otherwise each Rasa server loads it in
turn through Rasa's HTTP API (`PUT /model`) and must answer with it before the next is touched; if
one fails, the servers already changed go back to the running model. The servers share the tracker
and lock stores, so conversations carry on through the swap. One deployment runs at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from bot.config import ROOT, VAR_DIR
from bot.errors import BotError
from bot.platform.service_settings import shown_url
from bot.training.trained_model import (
    DEPLOYED_RECORD,
    MODELS_DIR,
    DeployedModel,
    ensure_trained,
    file_digest,
    read_deployed,
    write_deployed,
)

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 0.01  # a score may fall this much (a message or two of a held-out set) and no more
LOAD_TIMEOUT_SECONDS = 300  # 15-30 s measured on two busy cores; the server answers turns meanwhile
HEALTHY_TIMEOUT_SECONDS = 60
PROBE_MESSAGE = "你好"  # a parse that must come back with an intent once the model is loaded
DEPLOY_LOCK = VAR_DIR / "model-deploy.lock"

Scorer = Callable[[Path], dict[str, float]]


class DeployError(BotError):
    """The deployment could not be carried out (a server unreachable, a model that would not load)."""


class DeployBusy(BotError):
    """Another deployment holds the lock: two at once would load models into the servers in turns."""


class DeployRefused(BotError):
    """The new model scores worse than the running one; `table` says where."""

    def __init__(self, message: str, table: str) -> None:
        super().__init__(message)
        self.table = table


@contextlib.contextmanager
def deploy_lock(path: Path = DEPLOY_LOCK) -> Iterator[None]:
    """Hold the deployment lock (an flock on `path`) or raise DeployBusy naming the process that has it.

    The kernel drops an flock when its holder exits, however it exits, so a deployment that was
    killed leaves no lock behind, only the file, which says who held it last.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip() or "unknown"
            raise DeployBusy(
                f"another model deployment is running (process {holder}): nothing was changed; "
                "wait for it to finish, then deploy again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


@dataclass(frozen=True)
class ScoreRow:
    name: str
    running: float | None
    new: float | None

    def dropped(self, tolerance: float) -> bool:
        """True when the new model is worse by more than `tolerance` (or has no score where the old one had)."""
        if self.running is None:
            return False
        return self.new is None or self.new < self.running - tolerance


def compare_scores(running: dict[str, float], new: dict[str, float]) -> list[ScoreRow]:
    return [ScoreRow(name, running.get(name), new.get(name)) for name in dict.fromkeys([*running, *new])]


def score_table(rows: Sequence[ScoreRow], tolerance: float) -> str:
    """The scores side by side, each row saying whether it passes the gate."""

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [f"{'score':<22}{'running':>9}{'new':>9}{'change':>9}  verdict (tolerance {tolerance:.3f})"]
    for row in rows:
        change = "" if row.running is None or row.new is None else f"{row.new - row.running:+.3f}"
        verdict = "WORSE" if row.dropped(tolerance) else "ok"
        lines.append(f"{row.name:<22}{shown(row.running):>9}{shown(row.new):>9}{change:>9}  {verdict}")
    return "\n".join(lines)


def score_model(model: Path) -> dict[str, float]:
    """The model's held-out scores, computed in a child process (Rasa stays out of this package)."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "rasa_addons.model_scores", str(model)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise DeployError(f"scoring {model.name} failed (exit {result.returncode})")
    try:
        scores = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise DeployError(f"scoring {model.name} printed no scores") from None
    return {str(name): float(value) for name, value in scores.items()}


class RasaServer:
    """One Rasa server's HTTP API (the token goes as a query parameter, as Rasa expects it)."""

    def __init__(self, url: str, token: str, http: requests.Session) -> None:
        self.url, self._token, self._http = url.rstrip("/"), token, http
        self.name = shown_url(self.url)  # what messages and the record say: no credentials

    def running_model(self) -> str | None:
        """The file name of the model the server runs, or None if it has none or does not answer."""
        try:
            response = self._http.get(f"{self.url}/status", params={"token": self._token}, timeout=5)
            return response.json().get("model_file") if response.ok else None
        except (requests.RequestException, ValueError):
            return None

    def load(self, model: Path) -> None:
        try:
            response = self._http.put(
                f"{self.url}/model",
                params={"token": self._token},
                json={"model_file": str(model)},
                timeout=LOAD_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise DeployError(f"{self.name} did not load {model.name}: {type(error).__name__}") from None
        if response.status_code != 204:
            raise DeployError(f"{self.name} did not load {model.name}: HTTP {response.status_code}")

    def healthy_with(self, model: Path) -> bool:
        """True when the server runs `model` and understands a message with it."""
        if self.running_model() != model.name:
            return False
        try:
            response = self._http.post(
                f"{self.url}/model/parse", params={"token": self._token}, json={"text": PROBE_MESSAGE}, timeout=10
            )
            return response.ok and bool(response.json().get("intent", {}).get("name"))
        except (requests.RequestException, ValueError):
            return False


def wait_healthy(server: RasaServer, model: Path, timeout: float = HEALTHY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not server.healthy_with(model):
        if time.monotonic() > deadline:
            raise DeployError(f"{server.name} is not healthy with {model.name} after {timeout:.0f} s")
        time.sleep(0.5)


def roll_out(servers: Sequence[RasaServer], model: Path, *, previous: Path | None, say: Callable[[str], None]) -> None:
    """Load `model` into each server in turn, each healthy before the next; on a failure put back `previous`."""
    done: list[RasaServer] = []
    try:
        for server in servers:
            started = time.monotonic()
            server.load(model)
            wait_healthy(server, model)
            done.append(server)
            say(f"{server.name}: running {model.name} ({time.monotonic() - started:.1f} s)")
    except DeployError:
        if previous is not None and previous.exists():
            for server in done:
                try:
                    server.load(previous)
                    say(f"{server.name}: back on {previous.name}")
                except DeployError as error:
                    say(f"{server.name}: could not go back on {previous.name} ({error})")
        raise


@dataclass(frozen=True)
class DeployResult:
    model: Path
    deployed: bool  # False when every server already ran it
    table: str


def deploy(
    urls: Sequence[str],
    token: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    root: Path = ROOT,
    models_dir: Path = MODELS_DIR,
    record_path: Path = DEPLOYED_RECORD,
    lock_path: Path = DEPLOY_LOCK,
    score: Scorer = score_model,
    say: Callable[[str], None] = print,
) -> DeployResult:
    """Train if needed, gate on the held-out scores, then load the model into every server in turn;
    DeployBusy, before anything else, while another deployment runs."""
    if not urls:
        raise DeployError("no Rasa servers to deploy to")
    with deploy_lock(lock_path), requests.Session() as http:
        servers = [RasaServer(url, token, http) for url in urls]
        running_names = [server.running_model() for server in servers]
        if None in running_names:
            down = ", ".join(s.name for s, name in zip(servers, running_names, strict=True) if name is None)
            raise DeployError(f"not every Rasa server answers with a model ({down}); nothing was changed")
        record = read_deployed(record_path)
        running_name = record.model if record and record.model in running_names else running_names[0]
        running = models_dir / running_name
        try:
            new = ensure_trained(models_dir, root=root, keep=tuple(running_names))
        except subprocess.CalledProcessError as error:
            raise DeployError(f"training failed (rasa exited {error.returncode})") from None
        if not running.exists():
            raise DeployError(f"the running model {running_name} is not in {models_dir}: nothing to compare with")
        recorded = (  # scores measured when it was deployed (`make run` records a model without any)
            record is not None
            and bool(record.scores)
            and record.model == running_name
            and record.sha256 == file_digest(running)
        )
        if recorded:
            known = record.scores
        else:
            say(f"scoring the running model {running_name} …")
            known = score(running)
        if all(name == new.name for name in running_names):
            rows, deployed = compare_scores(known, known), False
        else:
            say(f"scoring the new model {new.name} …")
            rows, deployed = compare_scores(known, score(new)), True
        table = score_table(rows, tolerance)
        if any(row.dropped(tolerance) for row in rows):
            raise DeployRefused(f"{new.name} scores worse than the running {running_name}: not deployed", table)
        if deployed:
            say(table)
            roll_out(servers, new, previous=running, say=say)
        if deployed or not recorded:
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            unchanged = not deployed and record is not None and record.model == new.name
            write_deployed(
                DeployedModel(
                    model=new.name,
                    sha256=file_digest(new),
                    deployed_at=record.deployed_at if unchanged else now,  # the model keeps the time it went in
                    scores={row.name: row.new for row in rows if row.new is not None},
                    servers=[server.name for server in servers],
                ),
                record_path,
            )
    return DeployResult(new, deployed, table)
