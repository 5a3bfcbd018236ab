"""A process that crashes is restarted, and only that one; no worker outlives its parent.

Before, `make run` ran the Procfile under honcho: `kill -9` of the action server stopped Rasa and the
web app too, and nothing came back by itself; killing the action server's parent left its Sanic
worker running as an orphan. Here the development Procfile (`make run`) and Procfile.production
(`make run-prod`, on PostgreSQL and Redis) run under the real supervisor (`python -m bot supervise
run`) on free ports over temporary databases and var directories; each test kills a process with
SIGKILL, prints how long `/healthz` took to answer 200 again, and checks that nothing else restarted
and nothing the person was told was lost.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.cards.demo import DEMO_CARDHOLDERS, seed_demo_database
from bot.config import GENERATED_SECRETS
from rasa_addons.lock_store import LEASE_SECONDS
from tests.e2e.processes import Stack, WebChat, start, wait_until
from tests.support import free_port

pytestmark = pytest.mark.e2e

RECOVERY_SECONDS = 30
AFTER_SECONDS = 5  # chat goes on this long after an outage, so the turns after it are seen
STALE_SECONDS = 0.5  # a turn begun this soon after the killed server is gone may still go to it
UNAVAILABLE_ZH = "暂时无法办理"  # the apology a turn gets when Rasa does not answer it
REFERENCE = re.compile(r"(?<!\d)\d{10}(?!\d)")


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


def kill(pids) -> float:
    """SIGKILL to each of `pids`; the moment (time.monotonic) it was sent."""
    killed_at = time.monotonic()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return killed_at


def gone_at(pids, timeout: float = 10) -> float:
    """The moment (time.monotonic) the last of `pids` had exited, its sockets closed (polled closely).

    A killed process keeps its listening socket until the kernel has torn the process down, which
    takes a while for one as large as a Rasa server: connections made meanwhile are accepted and
    then reset, so a turn sent then is lost with the server like one it was running."""
    left = wait_gone(pids, timeout, poll=0.005)
    assert left == [], f"{sorted(left)} still alive {timeout:.0f} s after the kill"
    return time.monotonic()


def wait_gone(pids, timeout: float = 10, poll: float = 0.2) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(poll)
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


# --- the stacks under the supervisor


def holder(name: str):
    return next(d for d in DEMO_CARDHOLDERS if d.name == name)


class Supervised:
    """A Procfile running under `python -m bot supervise run`, its processes on `ports` (by name)."""

    def __init__(self, process: subprocess.Popen, ports: dict[str, int], stack: Stack) -> None:
        self.process, self.ports, self.stack = process, ports, stack

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    def health(self) -> int | None:
        try:
            return requests.get(f"{self.web_url}/healthz", timeout=5).status_code
        except requests.RequestException:
            return None

    def recover_after_killing(self, name: str) -> tuple[float, list[int | None]]:
        """Kill -9 what listens on `name`'s port; seconds until /healthz is 200, and what it said meanwhile."""
        pids = listeners(self.ports[name])
        assert pids, f"nothing listens on {self.ports[name]}"
        return self.recover(pids, kill(pids))

    def recover(self, killed, killed_at: float, *, timeout: float = 120) -> tuple[float, list[int | None]]:
        """Seconds from `killed_at` until /healthz is 200 again, once `killed` are gone; the answers meanwhile."""
        answers: list[int | None] = []
        assert wait_gone(killed, timeout=30) == []
        while time.monotonic() - killed_at < timeout:
            answers.append(self.health())
            if answers[-1] == 200:
                return time.monotonic() - killed_at, answers
            time.sleep(0.5)
        raise AssertionError(f"{sorted(killed)}: /healthz not 200 {timeout:.0f} s after the kill: {answers[-5:]}")

    def others(self, *names: str) -> dict[str, set[int]]:
        """Which processes listen on the ports of `names`: compared before and after, nothing else restarted."""
        return {name: listeners(self.ports[name]) for name in names}

    def stop(self) -> list[int]:
        """SIGTERM to the supervisor; the processes of its session still alive after it exited (then killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        left = in_session(self.process.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left


def supervise(procfile: str, env: dict[str, str], ports: dict[str, int], work: Path) -> Iterator[Supervised]:
    """Generator behind the fixtures: the demo cardholders loaded, `procfile` run until /healthz is 200."""
    seed_demo_database(env)
    command = [sys.executable, "-m", "bot", "supervise", "run", procfile, "--var-dir", str(work / "var")]
    process = start(command, env, work / "supervisor.log", own_group=True)
    stack = Stack(rasa_url=f"http://127.0.0.1:{ports['rasa']}", token=env["RASA_TOKEN"], env=env, logs=work)
    running = Supervised(process, ports, stack)
    try:
        wait_until(lambda: running.health() == 200, 300, f"{procfile} under the supervisor", [process])
        yield running
    finally:
        running.stop()


def stops_cleanly_on_sigterm(running: Supervised) -> None:
    assert len(in_session(running.process.pid)) > 4  # supervisord and every program's shell and process
    assert running.stop() == []  # each program had exited before supervisord did
    assert all(not listeners(port) for port in running.ports.values())


def ask_to_confirm_loss(chat: WebChat, person) -> None:
    """Through a loss report in the web chat, up to the question whether to confirm it."""
    replies = [text for message in ("我的社保卡丢了", person.id_number, person.name) for text in chat.say(message)]
    assert any("确认挂失请回复" in text for text in replies), replies


def confirm_loss(chat: WebChat) -> str:
    """Confirm the loss report asked about; the reference the person is told."""
    (confirmation,) = [text for text in chat.say("确认") if "挂失编号" in text]
    (reference,) = REFERENCE.findall(confirmation)
    return reference


@contextlib.contextmanager
def conversations_survive(running: Supervised) -> Iterator[None]:
    """Around a crash, through the web chat: a loss report confirmed just before it is kept, and a
    conversation stopped at "confirm?" carries on from there after it (its state is in the tracker store)."""
    confirmed, halfway = holder("杨帆"), holder("赵敏")  # issued, active: both can be reported lost
    first, second = WebChat(running.web_url), WebChat(running.web_url)
    ask_to_confirm_loss(first, confirmed)
    reference = confirm_loss(first)
    ask_to_confirm_loss(second, halfway)
    yield
    assert [r["reference"] for r in running.stack.card(confirmed.id_number)["loss_reports"]] == [reference]
    reference = confirm_loss(second)  # the same browser session, after the crash
    assert [r["reference"] for r in running.stack.card(halfway.id_number)["loss_reports"]] == [reference]


def kill_web_master(running: Supervised) -> float:
    """Kill -9 gunicorn's master; seconds until its orphaned workers are gone and a new master answers 200."""
    port = running.ports["web"]
    master = min(listeners(port))  # gunicorn's master forks its workers after it starts
    workers = children(master)
    assert len(workers) == 2
    killed_at = kill([master])
    # The orphaned workers keep answering on the inherited socket until they notice; then a new master serves.
    seconds, _ = running.recover(workers, killed_at)
    assert master not in listeners(port) and not set(workers) & listeners(port)
    return seconds


# --- `make run`: the development Procfile


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
    yield from supervise("Procfile", env, ports, work)


def test_a_killed_action_server_is_restarted_alone_while_the_web_app_answers(supervised):
    others = supervised.others("rasa", "web")
    seconds, answers = supervised.recover_after_killing("actions")
    print(f"make run, action server: /healthz 200 again {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert answers[0] == 503 and None not in answers  # the web app answered throughout
    assert supervised.others("rasa", "web") == others


def test_a_killed_rasa_is_restarted_and_conversations_carry_on(supervised):
    others = supervised.others("actions", "web")
    with conversations_survive(supervised):
        seconds, answers = supervised.recover_after_killing("rasa")
    print(f"make run, Rasa: /healthz 200 again {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert None not in answers
    assert supervised.others("actions", "web") == others


def test_a_killed_web_master_is_restarted_and_its_workers_do_not_linger(supervised):
    others = supervised.others("rasa", "actions")
    seconds = kill_web_master(supervised)
    print(f"make run, web app's master: /healthz 200 from a new master {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert supervised.others("rasa", "actions") == others


def test_sigterm_to_the_supervisor_leaves_no_process_behind(supervised):
    """Runs last of the `make run` tests: it stops the stack."""
    stops_cleanly_on_sigterm(supervised)


# --- `make run-prod`: Procfile.production on PostgreSQL and Redis


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


@pytest.fixture(scope="module")
def supervised_production(trained_model, tmp_path_factory):
    from bench.production import production_stack_databases
    from tests.e2e.production import require_services

    require_services()
    work = tmp_path_factory.mktemp("supervised-production")
    ports = {"rasa": free_port_pair(), "actions": free_port(), "web": free_port()}
    with production_stack_databases(ports["actions"]) as env:
        env = {
            **env,
            "RASA_MODEL": str(trained_model),
            "RASA_PORT": str(ports["rasa"]),
            "ACTIONS_PORT": str(ports["actions"]),
            "WEB_PORT": str(ports["web"]),
            "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
            "CHAT_TURNS_PER_MINUTE": "100000",  # the chat below comes from one address, faster than a person
        }
        yield from supervise("Procfile.production", env, {**ports, "rasa2": ports["rasa"] + 1}, work)


@dataclass(frozen=True)
class Turn:
    person: int
    started: float
    ended: float
    replies: list[str]
    error: str | None = None  # the web app did not answer 200

    @property
    def answered(self) -> bool:
        return self.error is None and bool(self.replies) and not any(UNAVAILABLE_ZH in text for text in self.replies)


def chat_until(stop: threading.Event, base_url: str, person: int, turns: list[Turn]) -> None:
    """One person chatting until `stop`, a fifth of a second between an answer and the next message
    (faster than anyone types), each turn recorded in `turns`."""
    chat = WebChat(base_url)
    for message in itertools.cycle(["你好", "怎么激活社保卡"]):
        if stop.wait(0.2):
            return
        started = time.monotonic()
        try:
            replies, error = chat.say(message), None
        except requests.RequestException as failure:
            replies, error = [], repr(failure)
        turns.append(Turn(person, started, time.monotonic(), replies, error))


@pytest.mark.production
def test_production_chat_goes_on_while_a_rasa_server_restarts(supervised_production):
    """Two people chat through the web app while the second Rasa server is killed and comes back.

    A turn in the dying server's hands when it dies, or sent to it before it is gone (gone_at), is not
    retried elsewhere (the server may have acted on it): that person gets the apology, and so may
    their next turn, which waits for the dead server's lock ticket to lapse (LEASE_SECONDS) longer
    than the web app waits for Rasa. Every other turn is answered, by the other server: a refused
    connection is retried on the next one.
    """
    running, turns, stop = supervised_production, [], threading.Event()
    others = running.others("rasa", "actions", "web")
    chatters = [threading.Thread(target=chat_until, args=(stop, running.web_url, n, turns)) for n in range(2)]
    for chatter in chatters:
        chatter.start()
    try:
        wait_until(lambda: len(turns) >= 6, 60, "chat turns before the kill", [running.process])
        pids = listeners(running.ports["rasa2"])
        killed_at = kill(pids)
        dead_at = gone_at(pids)
        seconds, answers = running.recover(pids, killed_at)
        # Chat on until the dead server's lock tickets have lapsed, and turns reach the restarted server.
        time.sleep(max(3.0, killed_at + LEASE_SECONDS + AFTER_SECONDS - time.monotonic()))
    finally:
        stop.set()
        for chatter in chatters:
            chatter.join(timeout=60)
    # The outage a person can notice: the server down, or its lock tickets still held (a restart can be
    # quicker than a lease).
    outage = max(seconds, LEASE_SECONDS)
    during = [turn for turn in turns if killed_at < turn.ended < killed_at + outage + AFTER_SECONDS]
    failed = [turn for turn in turns if not turn.answered]
    print(
        f"make run-prod, second Rasa: gone {dead_at - killed_at:.2f} s and /healthz 200 again {seconds:.1f} s "
        f"after kill -9; meanwhile "
        f"{len(during)} chat turns, {len(failed)} not answered "
        f"(person, began s after the kill, took s): {[shown(turn, killed_at) for turn in failed]}"
    )
    assert len(during) > 4 and any(turn.answered for turn in during) and None not in answers
    assert all(turn.error is None for turn in failed)  # the apology, never an error page
    # A web app thread that last spoke to the killed server holds a kept-alive connection to it: the
    # first turn it sends there right after the server is gone is reset, not refused, and is lost
    # with the server for the same reason (it cannot tell it was never read).
    under_way = [turn for turn in failed if turn.started < dead_at + STALE_SECONDS and killed_at < turn.ended]
    waited = [
        turn
        for turn in failed
        if turn.person in {t.person for t in under_way} and killed_at < turn.started < killed_at + LEASE_SECONDS
    ]
    assert [turn for turn in failed if turn not in under_way + waited] == []
    assert running.others("rasa", "actions", "web") == others
    assert seconds < RECOVERY_SECONDS


def shown(turn: Turn, killed_at: float) -> tuple[int, str, str]:
    return turn.person, f"{turn.started - killed_at:+.1f}", f"{turn.ended - turn.started:.1f}"


@pytest.mark.production
def test_production_action_server_is_restarted_whole_when_its_main_process_or_a_worker_dies(supervised_production):
    running = supervised_production
    others = running.others("rasa", "rasa2", "web")
    main = min(listeners(running.ports["actions"]))  # Sanic's main process (the workers are its children)
    workers = children(main)
    assert len(workers) == 2
    seconds, _ = running.recover(workers + [main], kill([main]))
    print(f"make run-prod, action server's main process: /healthz 200 again {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    main = min(listeners(running.ports["actions"]))
    # The main process stops the other worker (which finishes its open connections) and exits.
    seconds, _ = running.recover([main], kill(children(main)[:1]))
    print(f"make run-prod, one action server worker: /healthz 200 again {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert running.others("rasa", "rasa2", "web") == others


@pytest.mark.production
def test_production_web_master_killed_keeps_conversations(supervised_production):
    running = supervised_production
    others = running.others("rasa", "rasa2", "actions")
    with conversations_survive(running):
        seconds = kill_web_master(running)
    print(f"make run-prod, web app's master: /healthz 200 from a new master {seconds:.1f} s after kill -9")
    assert seconds < RECOVERY_SECONDS
    assert running.others("rasa", "rasa2", "actions") == others


@pytest.mark.production
def test_production_sigterm_to_the_supervisor_leaves_no_process_behind(supervised_production):
    """Runs last: it stops the production stack."""
    stops_cleanly_on_sigterm(supervised_production)
