"""`model deploy` against fakes of Rasa's HTTP API: the score gate, one server at a time, rollback, the record.

Scores come from a stand-in scorer here; tests/e2e/test_model_deploy.py scores and swaps real models.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import ROOT
from bot.training.deploy import (
    DEPLOY_LOCK,
    DeployBusy,
    DeployError,
    DeployRefused,
    ScoreRow,
    compare_scores,
    deploy,
    deploy_lock,
)
from bot.training.trained_model import model_path, read_deployed, record_served
from tests.support import run_cli

TOKEN = "test-token"
PASSWORD = "s3cret-pw"


def with_password(url: str) -> str:
    """`url` with a user and password in it, as RASA_URLS may hold them."""
    return url.replace("http://", f"http://deployer:{PASSWORD}@")


class FakeRasa:
    """Rasa's /status, PUT /model and /model/parse, behind the token; `events` is shared by every fake."""

    def __init__(self, model: str, events: list[tuple[str, str, str]], *, refuses: set[str] = frozenset()) -> None:
        self.model, self.events, self.refuses = model, events, refuses
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: object = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if parse_qs(urlsplit(self.path).query).get("token") == [TOKEN]:
                    return True
                self._reply(401, {"reason": "NotAuthenticated"})
                return False

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self):
                if self._authorised():
                    self._reply(200, {"model_file": fake.model})

            def do_PUT(self):
                if not self._authorised():
                    return
                name = Path(self._body()["model_file"]).name
                fake.events.append((fake.url, "load", name))
                if name in fake.refuses:
                    self._reply(500, {"reason": "LoadingError"})
                    return
                fake.model = name
                self._reply(204)

            def do_POST(self):
                if self._authorised():
                    self._body()
                    fake.events.append((fake.url, "parse", fake.model))
                    self._reply(200, {"intent": {"name": "greet", "confidence": 0.99}})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def models(tmp_path) -> tuple[Path, Path, Path]:
    """A models folder with the running model and one for the current training inputs (so nothing trains)."""
    folder = tmp_path / "models"
    folder.mkdir()
    old, new = folder / "model-0ld0ld0ld0ld0ld0.tar.gz", model_path(folder)
    old.write_bytes(b"old weights")
    new.write_bytes(b"new weights")
    return folder, old, new


@pytest.fixture
def servers(models):
    _, old, _ = models
    events: list[tuple[str, str, str]] = []
    fakes = [FakeRasa(old.name, events), FakeRasa(old.name, events)]
    yield fakes, events
    for fake in fakes:
        fake.stop()


def scorer(table: dict[str, dict[str, float]], calls: list[str]):
    def score(model: Path) -> dict[str, float]:
        calls.append(model.name)
        return table[model.name]

    return score


def test_a_model_that_scores_worse_is_refused_and_nothing_changes(models, servers, tmp_path):
    folder, old, new = models
    fakes, events = servers
    scores = {
        old.name: {"Mandarin": 0.99, "test conversations": 1.0},
        new.name: {"Mandarin": 0.99, "test conversations": 0.875},
    }
    with pytest.raises(DeployRefused) as refused:
        deploy([f.url for f in fakes], TOKEN, models_dir=folder, record_path=tmp_path / "deployed.json",
               score=scorer(scores, []), say=lambda _: None)  # fmt: skip
    assert "test conversations" in refused.value.table and "WORSE" in refused.value.table
    assert "-0.125" in refused.value.table
    assert [e for e in events if e[1] == "load"] == []
    assert [f.model for f in fakes] == [old.name, old.name]
    assert not (tmp_path / "deployed.json").exists()


def test_each_server_loads_the_model_and_answers_before_the_next(models, servers, tmp_path):
    folder, old, new = models
    fakes, events = servers
    record, calls = tmp_path / "deployed.json", []
    record_served(old, record)  # as `make run` does: the running model, with no scores yet
    scores = {old.name: {"Mandarin": 0.990, "English": 0.97}, new.name: {"Mandarin": 0.985, "English": 0.98}}
    said: list[str] = []
    urls = [with_password(f.url) for f in fakes]
    result = deploy(urls, TOKEN, models_dir=folder, record_path=record, tolerance=0.01,
                    score=scorer(scores, calls), say=said.append)  # fmt: skip
    assert result.deployed and result.model == new
    a, b = fakes[0].url, fakes[1].url
    # The second server is touched only once the first runs the new model and understands a message with it.
    assert events == [(a, "load", new.name), (a, "parse", new.name), (b, "load", new.name), (b, "parse", new.name)]
    assert calls == [old.name, new.name]
    deployed = read_deployed(record)
    assert deployed.model == new.name and deployed.fingerprint == new.name[6:-7]
    assert deployed.scores == scores[new.name] and deployed.servers == [a, b]
    assert any("Mandarin" in line and "-0.005" in line for line in said)
    assert any(line.startswith(f"{a}: running {new.name}") for line in said)
    assert PASSWORD not in "\n".join(said) + record.read_text()

    again = deploy([f.url for f in fakes], TOKEN, models_dir=folder, record_path=record,
                   score=scorer(scores, calls), say=said.append)  # fmt: skip
    assert not again.deployed and calls == [old.name, new.name]  # the recorded scores serve; nothing reloads
    assert read_deployed(record) == deployed


def test_a_server_that_cannot_load_it_puts_the_others_back(models, tmp_path):
    folder, old, new = models
    events: list[tuple[str, str, str]] = []
    fakes = [FakeRasa(old.name, events), FakeRasa(old.name, events, refuses={new.name})]
    scores = {old.name: {"Mandarin": 0.99}, new.name: {"Mandarin": 0.99}}
    try:
        with pytest.raises(DeployError, match="did not load"):
            deploy([f.url for f in fakes], TOKEN, models_dir=folder, record_path=tmp_path / "deployed.json",
                   score=scorer(scores, []), say=lambda _: None)  # fmt: skip
        assert [f.model for f in fakes] == [old.name, old.name]
        assert events[-1] == (fakes[0].url, "load", old.name)
        assert not (tmp_path / "deployed.json").exists()
    finally:
        for fake in fakes:
            fake.stop()


def test_a_server_that_does_not_answer_stops_the_deployment_before_anything(models, servers, tmp_path):
    folder, _, _ = models
    fakes, events = servers
    with pytest.raises(DeployError, match="not every Rasa server"):
        deploy([fakes[0].url, "http://127.0.0.1:9"], TOKEN, models_dir=folder, record_path=tmp_path / "d.json",
               score=scorer({}, []), say=lambda _: None)  # fmt: skip
    with pytest.raises(DeployError, match="not every Rasa server"):
        deploy([f.url for f in fakes], "wrong-token", models_dir=folder, record_path=tmp_path / "d.json",
               score=scorer({}, []), say=lambda _: None)  # fmt: skip
    assert events == []


def test_a_score_missing_from_the_new_model_counts_as_worse():
    rows = compare_scores({"Mandarin": 0.99, "hard": 0.95}, {"Mandarin": 0.99, "new set": 0.5})
    assert [(r.name, r.dropped(0.01)) for r in rows] == [("Mandarin", False), ("hard", True), ("new set", False)]
    assert ScoreRow("x", 0.90, 0.89).dropped(0.01) is False
    assert ScoreRow("x", 0.90, 0.8899).dropped(0.01) is True


def test_a_second_deployment_at_the_same_time_is_refused_before_anything(models, servers, tmp_path):
    folder, _, _ = models
    fakes, events = servers
    lock = tmp_path / "deploy.lock"
    with (
        deploy_lock(lock),
        pytest.raises(DeployBusy, match=f"another model deployment is running \\(process {os.getpid()}\\)"),
    ):
        deploy([f.url for f in fakes], TOKEN, models_dir=folder, record_path=tmp_path / "d.json", lock_path=lock,
               score=scorer({}, []), say=lambda _: None)  # fmt: skip
    assert events == [] and not (tmp_path / "d.json").exists()


def test_the_cli_refuses_a_second_deployment_and_a_killed_one_leaves_no_lock(capsys, monkeypatch):
    """Exit 2 and a clear message while another holds the lock; once that one is killed (kill -9, no
    clean-up), the next deployment gets past the lock (and here stops at a Rasa server that is down)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "from bot.training.deploy import deploy_lock\nimport sys, time\n"
         "with deploy_lock():\n    print('held', flush=True)\n    time.sleep(120)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        monkeypatch.setenv("RASA_URLS", with_password("http://127.0.0.1:9"))
        code, out, err = run_cli(capsys, "model", "deploy")
        assert code == 2 and out == ""
        assert err == (
            f"error: another model deployment is running (process {holder.pid}): nothing was changed; "
            "wait for it to finish, then deploy again\n"
        )
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert DEPLOY_LOCK.read_text().strip() == str(holder.pid)  # the file stays; the lock went with the process
    code, out, err = run_cli(capsys, "model", "deploy")
    assert code == 3
    assert "not every Rasa server answers with a model (http://127.0.0.1:9)" in err
    assert PASSWORD not in out + err
