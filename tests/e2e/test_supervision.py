"""A process that crashes is restarted, and only that one; no worker outlives its parent.

Before, `make run` ran the Procfile under honcho: `kill -9` of the action server stopped Rasa and the
web app too, and nothing came back by itself; killing the action server's parent left its Sanic
worker running as an orphan. Here the development Procfile runs under the real supervisor
(`python -m bot supervise run Procfile`) on free ports over a temporary database and var directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.cards.demo import DEMO_CARDHOLDERS
from bot.config import GENERATED_SECRETS
from tests.e2e.processes import Stack, seed_demo_database, start, wait_until
from tests.support import free_port

pytestmark = pytest.mark.e2e

RECOVERY_SECONDS = 30


# --- processes, as /proc shows them


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first); None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    return [child for child in _pids() if (fields := _stat(child)) and fields[1] == str(pid) and fields[0] != "Z"]


def in_session(sid: int) -> list[int]:
    """Living processes of session `sid` (the supervisor's programs keep it, in their own process groups)."""
    return [pid for pid in _pids() if (fields := _stat(pid)) and fields[3] == str(sid) and fields[0] != "Z"]


def listeners(port: int) -> set[int]:
    """Processes holding a listening TCP socket on `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    holders = set()
    for pid in _pids():
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                holders.add(pid)
        except OSError:
            continue
    return holders


def kill_listeners(port: int) -> set[int]:
    pids = listeners(port)
    assert pids, f"nothing listens on {port}"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def wait_gone(pids, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


# --- the action server's Sanic workers


@pytest.fixture
def two_worker_action_server(tmp_path):
    env = {
        **os.environ,
        **{name: make() for name, make in GENERATED_SECRETS.items()},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cards.db'}",
        "ACTION_SERVER_SANIC_WORKERS": "2",
    }
    port = free_port()
    command = [sys.executable, "-m", "actions", "-p", str(port)]
    server = start(command, env, tmp_path / "actions.log", own_group=True)
    try:
        url = f"http://127.0.0.1:{port}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok and len(children(server.pid)) == 2, 120, "actions", [server])
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def test_the_workers_die_with_their_parent(two_worker_action_server):
    workers = children(two_worker_action_server.pid)
    os.kill(two_worker_action_server.pid, signal.SIGKILL)
    assert wait_gone(workers) == []


def test_a_dead_worker_stops_the_server_so_the_supervisor_restarts_it_whole(two_worker_action_server):
    first, second = children(two_worker_action_server.pid)
    os.kill(first, signal.SIGKILL)
    # The other worker is stopped gracefully: Sanic lets open connections finish for up to 15 s.
    two_worker_action_server.wait(timeout=30)
    assert wait_gone([second]) == []


# --- a process that keeps dying


def test_a_process_that_keeps_dying_is_left_fatal_and_the_others_stay_up(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("steady: sleep 300\ncrashing: echo starting; exit 3\n")
    command = [sys.executable, "-m", "bot", "supervise", "run", str(procfile), "--var-dir", str(tmp_path / "var")]
    supervisor = start(command, dict(os.environ), tmp_path / "out.log", own_group=True)
    log = tmp_path / "out.log"
    try:
        wait_until(lambda: "gave up: crashing entered FATAL state" in log.read_text(), 60, "FATAL", [supervisor])
        text = log.read_text()
        assert text.count("crashing | starting") == 6  # the first start and 5 retries, each line prefixed
        assert "exited: crashing (exit status 3; not expected)" in text
        steady = [pid for pid in in_session(supervisor.pid) if pid != supervisor.pid]
        assert steady and "exited: steady" not in text  # still running, never restarted
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
    assert wait_gone(steady, timeout=5) == []


# --- the development stack under the supervisor


def holder(name: str):
    return next(d for d in DEMO_CARDHOLDERS if d.name == name)


class Supervised:
    def __init__(self, process: subprocess.Popen, ports: dict[str, int], stack: Stack | None) -> None:
        self.process, self.ports, self.stack = process, ports, stack

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}/healthz"

    def health(self) -> int | None:
        try:
            return requests.get(self.health_url, timeout=5).status_code
        except requests.RequestException:
            return None

    def recover_after_killing(self, name: str) -> tuple[float, list[int | None]]:
        """Kill -9 what listens on `name`'s port; seconds until /healthz is 200, and what it said meanwhile."""
        return self._recover(kill_listeners(self.ports[name]))

    def recover_after_killing_pid(self, pid: int) -> tuple[float, list[int | None]]:
        os.kill(pid, signal.SIGKILL)
        return self._recover({pid})

    def _recover(self, killed) -> tuple[float, list[int | None]]:
        started, answers = time.monotonic(), []
        assert wait_gone(killed, timeout=5) == []
        while time.monotonic() - started < 120:
            answers.append(self.health())
            if answers[-1] == 200:
                return time.monotonic() - started, answers
            time.sleep(0.5)
        raise AssertionError(f"{sorted(killed)}: /healthz not 200 two minutes after the kill: {answers[-5:]}")


@pytest.fixture(scope="module")
def supervised(trained_model, tmp_path_factory):
    work = tmp_path_factory.mktemp("supervised")
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"RASA_URLS", "ACTIONS_URL", "APP_ENV"}},
        **{name: make() for name, make in GENERATED_SECRETS.items()},
        "DATABASE_URL": f"sqlite:///{work / 'cards.db'}",
        "TRACKER_SQLITE_PATH": str(work / "tracker.db"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
        "RASA_MODEL": str(trained_model),
        "RASA_PORT": str(ports["rasa"]),
        "ACTIONS_PORT": str(ports["actions"]),
        "WEB_PORT": str(ports["web"]),
    }
    seed_demo_database(env)
    command = [sys.executable, "-m", "bot", "supervise", "run", "Procfile", "--var-dir", str(work / "var")]
    process = start(command, env, work / "supervisor.log", own_group=True)
    stack = Stack(rasa_url=f"http://127.0.0.1:{ports['rasa']}", token=env["RASA_TOKEN"], env=env, logs=work)
    running = Supervised(process, ports, stack)
    try:
        wait_until(lambda: running.health() == 200, 240, "supervised stack", [process])
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        for pid in in_session(process.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_action_server_is_restarted_alone_while_the_web_app_answers(supervised):
    others = {name: listeners(supervised.ports[name]) for name in ("rasa", "web")}
    seconds, answers = supervised.recover_after_killing("actions")
    print(f"action server: /healthz 200 again {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert answers[0] == 503 and None not in answers  # the web app answered throughout
    assert {name: listeners(supervised.ports[name]) for name in ("rasa", "web")} == others


def test_a_killed_rasa_is_restarted_and_a_confirmed_loss_report_is_kept(supervised):
    stack, person = supervised.stack, holder("杨帆")
    sender = f"supervised-{time.time_ns()}"
    stack.say(sender, "我的社保卡丢了")
    stack.say(sender, person.id_number)
    stack.say(sender, person.name)
    (confirmation,) = [text for text in stack.say(sender, "确认") if "挂失编号" in text]
    reports = stack.card(person.id_number)["loss_reports"]
    assert reports and reports[-1]["reference"] in confirmation
    others = {name: listeners(supervised.ports[name]) for name in ("actions", "web")}
    seconds, answers = supervised.recover_after_killing("rasa")
    print(f"Rasa: /healthz 200 again {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert None not in answers
    assert stack.card(person.id_number)["loss_reports"] == reports
    assert {name: listeners(supervised.ports[name]) for name in ("actions", "web")} == others


def test_a_killed_web_master_is_restarted_and_its_workers_do_not_linger(supervised):
    port = supervised.ports["web"]
    master = min(listeners(port))  # gunicorn's master forks its workers after it starts
    workers = children(master)
    assert len(workers) == 2
    others = {name: listeners(supervised.ports[name]) for name in ("rasa", "actions")}
    started = time.monotonic()
    os.kill(master, signal.SIGKILL)
    # The orphaned workers keep answering on the inherited socket until they notice; then a new master serves.
    assert wait_gone(workers, timeout=RECOVERY_SECONDS) == []
    wait_until(lambda: supervised.health() == 200, RECOVERY_SECONDS, "web app", [supervised.process])
    seconds = time.monotonic() - started
    print(f"web app's master: old workers gone and /healthz 200 from a new master {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert master not in listeners(port) and not set(workers) & listeners(port)
    assert {name: listeners(supervised.ports[name]) for name in ("rasa", "actions")} == others


def test_sigterm_to_the_supervisor_leaves_no_process_behind(supervised):
    """Runs last in this module: it stops the stack."""
    process = supervised.process
    assert len(in_session(process.pid)) > 4  # supervisord and every program's shell and process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert in_session(process.pid) == []  # each program had exited before supervisord did
    assert all(not listeners(port) for port in supervised.ports.values())


# --- `make run-prod`: Procfile.production under the supervisor, on PostgreSQL and Redis


def free_port_pair() -> int:
    """A port free together with the next one (Procfile.production puts its second Rasa there)."""
    while True:
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


@pytest.mark.production
def test_production_processes_are_restarted_alone(trained_model, tmp_path):
    from tests.e2e.production import production_stack_databases, require_services

    require_services()
    ports = {"rasa": free_port_pair(), "actions": free_port(), "web": free_port()}
    with production_stack_databases(ports["actions"]) as env:
        env = {
            **env,
            "RASA_MODEL": str(trained_model),
            "RASA_PORT": str(ports["rasa"]),
            "ACTIONS_PORT": str(ports["actions"]),
            "WEB_PORT": str(ports["web"]),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        }
        seed_demo_database(env)
        command = [sys.executable, "-m", "bot", "supervise", "run", "Procfile.production", "--var-dir", str(tmp_path)]
        process = start(command, env, tmp_path / "supervisor.log", own_group=True)
        running = Supervised(process, {**ports, "rasa2": ports["rasa"] + 1}, stack=None)
        try:
            wait_until(lambda: running.health() == 200, 300, "production stack", [process])
            seconds, answers = running.recover_after_killing("rasa2")
            print(f"production, second Rasa: /healthz 200 again {seconds:.1f} s after kill -9")
            assert seconds < RECOVERY_SECONDS and None not in answers
            main = min(listeners(ports["actions"]))  # Sanic's main process (the workers are its children)
            workers = children(main)
            assert len(workers) == 2
            seconds, answers = running.recover_after_killing_pid(main)
            print(f"production, action server's main process: /healthz 200 again {seconds:.1f} s after kill -9")
            assert seconds < RECOVERY_SECONDS and wait_gone(workers) == []
            main = min(listeners(ports["actions"]))
            started = time.monotonic()
            os.kill(children(main)[0], signal.SIGKILL)
            assert wait_gone([main], timeout=30) == []  # the main process stops the other worker and exits
            wait_until(lambda: running.health() == 200, RECOVERY_SECONDS + 15, "action server", [process])
            seconds = time.monotonic() - started
            print(f"production, one action server worker: /healthz 200 again {seconds:.1f} s after kill -9")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
            left = in_session(process.pid)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
        assert left == []
