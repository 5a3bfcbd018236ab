"""The machine a benchmark ran on, and the peak memory of the processes it started.

Memory is read from /proc (Linux): resident set size per process, summed per role (a gunicorn
master and its workers are one role) and sampled four times a second; elsewhere it is not measured.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    load_average: float
    date: str
    python: str
    rasa: str
    rasa_sdk: str


def _first(path: Path, key: str) -> str:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def describe_machine() -> Machine:
    mem_kib = _first(PROC / "meminfo", "MemTotal").split()[:1]
    return Machine(
        cpu=_first(PROC / "cpuinfo", "model name") or platform.processor() or platform.machine(),
        cores=os.cpu_count() or 0,
        memory_gib=round(int(mem_kib[0]) / 1024**2, 1) if mem_kib else 0.0,
        load_average=round(os.getloadavg()[0], 2),
        date=dt.date.today().isoformat(),
        python=platform.python_version(),
        rasa=version("rasa"),
        rasa_sdk=version("rasa-sdk"),
    )


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in PROC.glob("[0-9]*"):
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += tree.get(pid, [])
    return found


def _rss_mib(pid: int) -> float:
    value = _first(PROC / str(pid) / "status", "VmRSS").split()[:1]
    return int(value[0]) / 1024 if value else 0.0


def _command(pid: int) -> list[str]:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


@dataclass
class MemorySampler:
    """Peak resident memory (MiB) per role among the descendants of `root`, sampled in a thread.

    `classify` names a process's role from its command line (None: not counted); `started` keeps
    when each role was first seen, so a start-up can be timed from the moment its process exists.
    """

    root: int
    classify: Callable[[list[str]], str | None]
    interval: float = 0.25
    peaks: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return (PROC / str(self.root) / "status").exists()

    def sample(self) -> None:
        totals: dict[str, float] = {}
        for pid in descendants(self.root):
            role = self.classify(_command(pid))
            if role:
                totals[role] = totals.get(role, 0.0) + _rss_mib(pid)
                self.started.setdefault(role, time.perf_counter())
        for role, total in totals.items():
            self.peaks[role] = max(self.peaks.get(role, 0.0), total)

    def __enter__(self) -> MemorySampler:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        if self.available:
            self.sample()
            self._thread = threading.Thread(target=loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
