"""Settings mean what they say: the documented precedence holds, typos and weak secrets are refused.

Before, `make run` let `.env` override the environment (honcho's `--env .env`), `APP_ENV=prod`
silently meant development (reading `.env`, accepting SQLite), `config check` skipped the tracker
store the web app reads, `password1234567890` passed as a production secret, and demo people could
be seeded into a production card database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from bot.config import GENERATED_SECRETS, MIN_SECRET_BITS, ROOT, load_settings, merged_environment, secret_bits
from bot.errors import ConfigError


def run_bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "APP_ENV": "production",
        **{name: make() for name, make in GENERATED_SECRETS.items()},
        "DATABASE_URL": "postgresql://cards@127.0.0.1:1/cards",  # nothing listens: nothing may connect
        "TRACKER_STORE_URL": "postgresql://rasa@127.0.0.1:1/tracker",
        "LOCK_STORE_URL": "redis",
    }
    return {name: value for name, value in {**env, **overrides}.items() if value}


# --- the environment wins over .env, for every process `make run` starts


def test_env_exec_overlays_the_environment_on_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TWILIO_AUTH_TOKEN=from-the-file\nONLY_IN_THE_FILE=kept\n")
    # As `make run` starts the supervisor, whose processes inherit its environment: through `bot env exec`.
    result = run_bot(
        "env", "exec", "--env-file", str(env_file), "--",
        "/bin/sh", "-c", 'echo "token=$TWILIO_AUTH_TOKEN file=$ONLY_IN_THE_FILE"',
        env={"TWILIO_AUTH_TOKEN": "from-the-environment"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "token=from-the-environment file=kept" in result.stdout


def test_make_run_starts_the_supervisor_through_env_exec():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    start = next(line for line in recipe.splitlines() if "supervise" in line)
    assert re.search(r"-m bot env exec -- \S+ -m bot supervise run Procfile$", start), start
    assert "--env .env" not in (ROOT / "Makefile").read_text()


def test_env_exec_without_a_command_is_refused():
    result = run_bot("env", "exec", "--", env={})
    assert result.returncode == 2 and "needs a command" in result.stderr


# --- APP_ENV: a typo is refused everywhere, never taken for development


@pytest.mark.parametrize("value", ["prod", "Prod", "dev", "staging", "production1", "true"])
def test_an_unknown_app_env_is_refused(value):
    env = {"APP_ENV": value, "ID_HASH_KEY": "k" * 32, "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    with pytest.raises(ConfigError, match="APP_ENV must be unset, 'development' or 'production'"):
        load_settings(env, env_file=None)
    with pytest.raises(ConfigError, match="APP_ENV"):
        merged_environment(env)  # so nothing reads .env under a mode nobody chose


@pytest.mark.parametrize("value", ["", "development", "production", " Production "])
def test_the_known_app_env_values_are_accepted(value):
    env = production_env(APP_ENV=value) if value.strip() else {"ID_HASH_KEY": "k" * 32}
    env["DATA_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    load_settings(env, env_file=None)


@pytest.mark.parametrize("args", [("flags", "list"), ("config", "check"), ("demo", "seed")])
def test_every_command_refuses_an_unknown_app_env_with_one_clear_line(args):
    result = run_bot(*args, env={"APP_ENV": "prod"})
    assert result.returncode == 3
    assert result.stderr.startswith("configuration: APP_ENV must be unset") and "Traceback" not in result.stderr


def test_the_action_server_refuses_an_unknown_app_env():
    result = subprocess.run(
        [sys.executable, "-m", "actions"], cwd=ROOT, env={"PATH": os.environ["PATH"], "APP_ENV": "prod"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 3 and "APP_ENV must be unset" in result.stderr


# --- one config check for every process's settings


def test_config_check_covers_the_tracker_store_the_web_app_reads():
    result = run_bot("config", "check", env={**production_env(), "TRACKER_STORE_URL": ""})
    assert result.returncode == 3 and "TRACKER_STORE_URL is not set" in result.stderr
    result = run_bot("config", "check", env={**production_env(), "TRACKER_STORE_URL": "sqlite:///tracker.db"})
    assert result.returncode == 3 and "TRACKER_STORE_URL must be a PostgreSQL URL" in result.stderr


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"LOCK_STORE_URL": ""}, "LOCK_STORE_URL is not set"),
        ({"ACTION_SERVER_TOKEN": ""}, "ACTION_SERVER_TOKEN is not set"),
        ({"RASA_PORT": "http"}, "RASA_PORT must be a port number"),
        ({"DATABASE_URL": "sqlite:///cards.db"}, "DATABASE_URL is SQLite"),
    ],
)
def test_config_check_names_what_any_process_would_refuse(override, named):
    result = run_bot("config", "check", env=production_env(**override))
    assert result.returncode == 3 and named in result.stderr, result.stderr


def development_env() -> dict[str, str]:
    return {"APP_ENV": "development", **{name: make() for name, make in GENERATED_SECRETS.items()}}


def test_config_check_passes_a_complete_development_environment():
    result = run_bot("config", "check", env=development_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TRACKER_STORE_URL", "not a url", "TRACKER_STORE_URL must be a database URL"),
        ("RASA_TIMEOUT_SECONDS", "soon", "RASA_TIMEOUT_SECONDS must be a number"),
        ("TRANSFER_HOURS", "nine to five", "TRANSFER_HOURS must look like 09:00-17:00"),
        ("HANDOVER_WAIT_MINUTES", "soon", "HANDOVER_WAIT_MINUTES must be a whole number of minutes"),
        ("RATELIMIT_STORAGE_URI", "ftp://limits", "RATELIMIT_STORAGE_URI must be memory://"),
        ("TRUSTED_PROXIES", "many", "TRUSTED_PROXIES must be a small whole number"),
        ("RASA_URLS", "rasa-1:5005", "RASA_URLS must list http://"),
        ("WEB_PORT", "99999", "WEB_PORT must be a port number"),
        ("FLASK_SECRET_KEY", "short", "FLASK_SECRET_KEY is missing or too short"),
        ("ACTION_SERVER_TOKEN", "", "ACTION_SERVER_TOKEN is not set"),
    ],
)
def test_config_check_reads_every_setting_the_web_app_rasa_and_the_action_server_read(name, value, named):
    result = run_bot("config", "check", env={**development_env(), name: value})
    assert result.returncode == 3 and named in result.stderr, result.stderr


# --- secrets are judged by their entropy, not their length


@pytest.mark.parametrize(
    "value",
    [
        "password1234567890",
        "Password1234567890!",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "qwertyuiopasdfghjklzxcvbnm",
        "correcthorsebatterystaple",
        "s" * 64,
        "0123456789" * 4,
        "ab12" * 10,
        "changeme-changeme-2024",
        "Tr0ub4dor&3Tr0ub4dor&3",
    ],
)
def test_guessable_secrets_are_refused(value):
    assert secret_bits(value) < MIN_SECRET_BITS
    env = production_env(FLASK_SECRET_KEY=value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None)
    assert "FLASK_SECRET_KEY is too guessable" in str(caught.value) and value not in str(caught.value)


@pytest.mark.parametrize("name", sorted(GENERATED_SECRETS))
def test_generated_secrets_always_pass(name):
    make = GENERATED_SECRETS[name]
    assert min(secret_bits(make()) for _ in range(200)) >= MIN_SECRET_BITS


def test_random_secrets_of_other_tools_pass():
    for value in (os.urandom(32).hex(), "AC" + os.urandom(16).hex(), "Yk2x$9vQ!mZ4@wLp7#Rt8^Nc5&Hs3*Jd"):
        assert secret_bits(value) >= MIN_SECRET_BITS, value


# --- demo people never go into a production card database


@pytest.mark.parametrize("args", [("demo", "seed"), ("demo", "seed", "--if-empty")])
def test_demo_seed_is_refused_in_production(args):
    result = run_bot(*args, env=production_env())
    assert result.returncode == 2
    assert "refused in production mode" in result.stderr and "fictional people" in result.stderr
    assert "database error" not in result.stderr  # refused before anything connected
