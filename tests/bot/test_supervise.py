"""The supervisord config is generated from the Procfile: one program per line, restarted on its own.

Before, honcho ran the Procfile and stopped every process when one died; now each Procfile line is a
supervisord program that is restarted alone. These tests read the generated config as supervisord
does (configparser, then its own command splitting) and check a bad Procfile is refused with exit 2.
"""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys

import pytest

from bot.config import ROOT
from bot.platform.supervise import ProcfileError, parse_procfile, supervisord_config, write_config


def procfile_names(path) -> list[str]:
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [line.split(":", 1)[0] for line in lines]


def read_config(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.production"])
def test_every_procfile_line_becomes_a_program_restarted_on_its_own(procfile, tmp_path):
    config = read_config(write_config(ROOT / procfile, var_dir=tmp_path, directory=ROOT).read_text())
    programs = [section.removeprefix("program:") for section in config.sections() if section.startswith("program:")]
    assert programs == procfile_names(ROOT / procfile)
    for name in programs:
        program = config[f"program:{name}"]
        assert program["autorestart"] == "true"
        assert int(program["startretries"]) > 0 and int(program["startsecs"]) > 0
        assert program["stopasgroup"] == program["killasgroup"] == "true"
        assert program["stdout_logfile"] == "/dev/stdout" and program["stdout_logfile_maxbytes"] == "0"
        assert program["directory"] == str(ROOT)
    # No control socket: supervisord runs in the foreground and is stopped by signals.
    assert not {"unix_http_server", "inet_http_server"} & set(config.sections())
    assert config["supervisord"]["nodaemon"] == "true"
    assert config["supervisord"]["logfile"].startswith(str(tmp_path))


def test_the_program_runs_the_procfile_command_with_its_name_on_every_line():
    processes = parse_procfile("web: A=1 ${PORT:-8000} 100%\n")
    program = read_config(supervisord_config(processes, directory=ROOT, var_dir=ROOT / "var"))["program:web"]
    command = shlex.split(program["command"].replace("%%", "%"))  # as supervisord expands and splits it
    assert command[:2] == ["/bin/bash", "-c"]
    assert "A=1 ${PORT:-8000} 100%" in command[2] and "s/^/web | /" in command[2]
    result = subprocess.run(command[:2] + [command[2].replace("A=1 ${PORT:-8000} 100%", "echo one; echo two >&2")],
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert sorted(result.stdout.splitlines()) == ["web | one", "web | two"]


def test_the_program_exits_with_the_command_status_not_the_prefixer_one():
    program = read_config(supervisord_config(parse_procfile("x: exit 7\n"), directory=ROOT, var_dir=ROOT))["program:x"]
    assert subprocess.run(shlex.split(program["command"]), capture_output=True).returncode == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web .venv/bin/gunicorn\n", "Procfile:1: expected 'name: command'"),
        ("web:\n", "Procfile:1: expected 'name: command'"),
        ("# only a comment\n\n", "Procfile: no processes"),
        ("a: true\nweb one: true\n", "Procfile:2: expected 'name: command'"),
        ("a: true\na: false\n", "Procfile:2: process 'a' is listed twice"),
        ("[x]: true\n", "Procfile:1: expected 'name: command'"),
    ],
)
def test_a_bad_procfile_is_refused_by_line(text, message):
    with pytest.raises(ProcfileError) as raised:
        parse_procfile(text)
    assert str(raised.value).startswith(message)


def test_comments_and_blank_lines_are_skipped():
    assert [p.name for p in parse_procfile("# the web app\n\nweb: true\n  \nrasa: true\n")] == ["web", "rasa"]


@pytest.mark.parametrize("content", ["web: true\nnot a process line\n", None])
def test_the_command_exits_2_with_a_clear_error_and_starts_nothing(content, tmp_path):
    procfile = tmp_path / "Procfile"
    if content is not None:
        procfile.write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "supervise", "run", str(procfile), "--var-dir", str(tmp_path / "var")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 2
    expected = "Procfile:2: expected 'name: command'" if content else "cannot read"
    assert result.stderr.startswith("error: ") and expected in result.stderr
    assert not (tmp_path / "var" / "supervise").exists() or not any((tmp_path / "var" / "supervise").iterdir())


@pytest.mark.parametrize(("target", "procfile"), [("run", "Procfile"), ("run-prod", "Procfile.production")])
def test_make_runs_each_procfile_under_the_supervisor(target, procfile):
    recipe = (ROOT / "Makefile").read_text().split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
    assert f"-m bot supervise run {procfile}\n" in recipe + "\n"
    assert "honcho" not in recipe
