"""No secret on a command line, where any local user reads it (`ps`, /proc/PID/cmdline).

Rasa used to be started with `--auth-token <RASA_TOKEN>`; now every process takes its secrets from
the environment (readable only by its own user), and `python -m rasa_addons run` adds the API
token to Rasa's arguments inside the process.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.cli.arguments.run import set_run_arguments

from bot.config import GENERATED_SECRETS, ROOT
from rasa_addons.__main__ import with_token


def command_lines() -> dict[int, str]:
    """Every process's command line that this user can read."""
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue  # the process ended meanwhile
    return lines


@pytest.mark.e2e
def test_no_secret_of_the_running_stack_is_on_any_command_line(stack):
    lines = command_lines()
    assert any("rasa_addons run" in line and "--enable-api" in line for line in lines.values())
    assert any("-m actions" in line for line in lines.values())
    for name in GENERATED_SECRETS:
        leaking = [pid for pid, line in lines.items() if stack.env[name] in line]
        assert leaking == [], f"{name} is on the command line of {leaking}"


def test_rasa_with_its_api_refuses_to_start_without_a_token():
    env = {k: v for k, v in os.environ.items() if k != "RASA_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "rasa_addons", "run", "--enable-api", "-p", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3 and "RASA_TOKEN is not set" in result.stderr


SECRETS = {*GENERATED_SECRETS, "POSTGRES_PASSWORD", "REDIS_PASSWORD", "LOCK_STORE_PASSWORD"}


@pytest.mark.parametrize("token", ["-starts-like-an-option", "plain"])
def test_the_api_token_reaches_rasa_as_one_argument_whatever_it_looks_like(token):
    argv = with_token(["run", "--enable-api", "-p", "5005"], {"RASA_TOKEN": token})
    run = argparse.ArgumentParser()
    set_run_arguments(run)  # the options of `rasa run`, as Rasa parses them
    assert argv[0] == "run" and run.parse_args(argv[1:]).auth_token == token


def _secret_references(text: str) -> set[str]:
    """Secrets a shell or compose would expand into the text; neither a literal `$$NAME` (left to the
    container's shell) nor a shell default `${NAME:=}` (a builtin, no process) counts."""
    return set(re.findall(r"(?<!\$)\$\{?(\w+)\b(?!:=)", text)) & SECRETS


@pytest.mark.parametrize("path", ["Procfile", "Procfile.production", "deploy/rasa.sh", "Makefile"])
def test_no_start_file_puts_a_secret_on_a_command_line(path):
    text = "\n".join(line for line in (ROOT / path).read_text().splitlines() if not line.lstrip().startswith("#"))
    assert _secret_references(text) == set()
    assert "--auth-token" not in text


def test_no_container_command_carries_a_secret():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        for key in ("command", "entrypoint", "healthcheck"):
            assert _secret_references(str(service.get(key, ""))) == set(), name
        healthcheck = " ".join(service.get("healthcheck", {}).get("test", []))
        assert "-a " not in healthcheck and "PASSWORD" not in healthcheck, name
