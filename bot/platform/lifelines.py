"""Tying a worker process's life to its parent's, so no worker outlives the server that started it."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when `parent` dies (Linux); exit now if it already has.

    Without it a worker whose parent was killed (kill -9, OOM) lives on as an orphan of init, keeping
    the port and the old code. Elsewhere than Linux this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("could not tie a worker to its parent: errno %d", ctypes.get_errno())
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def living_children() -> set[int]:
    """Pids of this process's children that have not exited (Linux /proc; zombies do not count).

    Read from each process's parent field: /proc/self/task/*/children missed a child here.
    """
    me, pids = str(os.getpid()), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(entry.name)) and fields[1] == me and fields[0] not in "ZX":
            pids.add(int(entry.name))
    return pids


def _stat_fields(pid: str) -> list[str] | None:
    """State, parent pid, ... of /proc/PID/stat (after the command name); None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
