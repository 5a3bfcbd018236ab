"""Run a Procfile's processes under supervisord: a process that dies is restarted, and only that one.

The Procfile stays the one list of processes; each line becomes a supervisord program whose config is
written under the var directory, then this process becomes `supervisord -n` (foreground, no control
socket: it is stopped with SIGTERM or Ctrl-C, which stops every program's whole process group).

Each command runs as honcho ran it, through `bash -c` (the Procfile uses `${VAR:-default}` and
`VAR=value command`), with stdout and stderr joined and every line prefixed `name | ` by `sed -u`, so
one terminal shows every process as before. A program that dies after it has run `START_SECONDS` is
restarted at once; one that dies sooner is retried `START_RETRIES` times with a growing pause (1 s, 2 s,
...), then left FATAL, said so in the log, while the others keep running.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 3
START_RETRIES = 5
STOP_WAIT_SECONDS = 15
_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_][A-Za-z0-9_-]*):\s*(?P<command>\S.*)$")


class ProcfileError(ValueError):
    """The Procfile has a line that is not `name: command`, or a name twice, or no process at all."""


@dataclass(frozen=True)
class Process:
    name: str
    command: str


def parse_procfile(text: str, *, source: str = "Procfile") -> list[Process]:
    """Every `name: command` line, in order; blank lines and `#` comments are skipped."""
    processes: list[Process] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(stripped)
        if not match:
            raise ProcfileError(f"{source}:{number}: expected 'name: command' (name of letters, digits, _ or -)")
        name = match["name"]
        if name in seen:
            raise ProcfileError(f"{source}:{number}: process {name!r} is listed twice")
        seen.add(name)
        processes.append(Process(name, match["command"]))
    if not processes:
        raise ProcfileError(f"{source}: no processes")
    return processes


def _program_command(process: Process) -> str:
    """`bash -c` running the Procfile command, output joined and prefixed with the process name.

    pipefail: the program's exit status is the command's, not sed's, so supervisord logs the real one.
    The traps keep the shells, which supervisord watches, until the command has exited on the SIGTERM
    sent to the whole group (a subshell resets traps, so the group sets its own): supervisord reports
    it stopped only once it is, and its SIGKILL after `STOP_WAIT_SECONDS` still reaches a command that
    ignored SIGTERM. sed ignores SIGTERM (and Ctrl-C), so it passes on the command's last lines and
    ends when the command closes its output.
    """
    prefix = f'{{ trap "" TERM INT; exec sed -u "s/^/{process.name} | /"; }}'
    script = f"trap : TERM INT; set -o pipefail; {{ trap : TERM INT; {process.command}; }} 2>&1 | {prefix}"
    # supervisord expands %(...)s in values; a literal % is written %%.
    return f"/bin/bash -c {shlex.quote(script)}".replace("%", "%%")


def supervisord_config(processes: list[Process], *, directory: Path, var_dir: Path) -> str:
    """The supervisord configuration for `processes`, run from `directory`, its own files in `var_dir`."""
    lines = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={var_dir / 'supervisord.log'}",
        "logfile_maxbytes=10MB",
        "logfile_backups=2",
        f"pidfile={var_dir / 'supervisord.pid'}",
        f"directory={directory}",
        "",
    ]
    for process in processes:
        lines += [
            f"[program:{process.name}]",
            f"command={_program_command(process)}",
            f"directory={directory}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={STOP_WAIT_SECONDS}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            "",
        ]
    return "\n".join(lines)


def write_config(procfile: Path, *, var_dir: Path, directory: Path) -> Path:
    """Write the supervisord config for `procfile` under `var_dir`; ProcfileError if a line is bad."""
    processes = parse_procfile(procfile.read_text(encoding="utf-8"), source=str(procfile))
    state = var_dir.resolve() / "supervise"
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = state / f"{procfile.name}.conf"
    config.write_text(supervisord_config(processes, directory=directory.resolve(), var_dir=state), encoding="utf-8")
    return config


def exec_supervisord(config: Path) -> None:
    """Become supervisord (foreground) with `config`; supervisord sits next to this Python."""
    supervisord = Path(sys.executable).with_name("supervisord")
    os.execv(supervisord, [str(supervisord), "-n", "-c", str(config)])
