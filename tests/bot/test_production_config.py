"""Production mode: secrets from the environment only, and no start with an unsafe one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import (
    GENERATED_SECRETS,
    ROOT,
    is_production,
    load_settings,
    merged_environment,
    production_problems,
    rasa_store_problems,
)
from bot.errors import ConfigError


def production_env(**overrides: str) -> dict[str, str]:
    """A complete, safe production environment; overrides change or (with "") remove values."""
    env = {
        "APP_ENV": "production",
        **{name: make() for name, make in GENERATED_SECRETS.items()},
        "DATABASE_URL": "postgresql://cards:pw@db:5432/cards",
        "TRACKER_STORE_URL": "postgresql://rasa:pw@db:5432/tracker",
        "LOCK_STORE_URL": "redis",
        "LOCK_STORE_PORT": "6379",
        "LOCK_STORE_DB": "1",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value}


def test_a_complete_production_environment_starts():
    env = production_env()
    assert production_problems(env, dev_values={}) == []
    assert rasa_store_problems(env, dev_values={}) == []
    assert load_settings(env, env_file=None).database_url == env["DATABASE_URL"]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"FLASK_SECRET_KEY": ""}, "FLASK_SECRET_KEY is not set"),
        ({"RASA_TOKEN": "changeme"}, "RASA_TOKEN is a known default value"),
        ({"TWILIO_AUTH_TOKEN": "test-twilio-auth-token"}, "TWILIO_AUTH_TOKEN is a known default value"),
        ({"ID_HASH_KEY": "e2e-hash-key"}, "ID_HASH_KEY is a known default value"),
        ({"ID_HASH_KEY": "short-key"}, "ID_HASH_KEY is too guessable"),
        ({"FLASK_SECRET_KEY": "s" * 32}, "FLASK_SECRET_KEY is too guessable"),
        ({"DATA_ENCRYPTION_KEY": ""}, "DATA_ENCRYPTION_KEY is not set"),
        ({"DATABASE_URL": ""}, "DATABASE_URL is not set"),
        ({"DATABASE_URL": "sqlite:////srv/cards.db"}, "DATABASE_URL is SQLite"),
    ],
)
def test_unsafe_settings_are_refused_by_name(override, expected):
    env = production_env(**override)
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None)
    assert expected in str(caught.value)
    for value in override.values():
        if len(value) > 8:
            assert value not in str(caught.value)  # names the setting, never echoes a secret


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        load_settings({"APP_ENV": "production"}, env_file=None)
    message = str(caught.value)
    for name in ("FLASK_SECRET_KEY", "RASA_TOKEN", "TWILIO_AUTH_TOKEN", "ID_HASH_KEY", "DATA_ENCRYPTION_KEY"):
        assert f"{name} is not set" in message
    assert "DATABASE_URL" in message


def test_a_secret_copied_from_the_development_env_file_is_refused():
    env = production_env()
    problems = production_problems(env, dev_values={"RASA_TOKEN": env["RASA_TOKEN"]})
    assert problems == ["RASA_TOKEN is the development value from .env"]


def test_production_reads_the_environment_only(tmp_path):
    path = tmp_path / ".env"
    path.write_text("ID_HASH_KEY=from-the-file\nLOSS_REPORT_VALIDITY_DAYS=3\n")
    assert merged_environment({"APP_ENV": "production"}, env_file=path) == {"APP_ENV": "production"}
    assert merged_environment({"APP_ENV": "development"}, env_file=path)["ID_HASH_KEY"] == "from-the-file"
    settings = load_settings(production_env(), env_file=path)
    assert settings.loss_policy.validity_days == 7


def test_development_mode_is_not_checked():
    assert not is_production({"APP_ENV": "development"}) and is_production({"APP_ENV": " Production "})
    env = {"ID_HASH_KEY": "dev", "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    assert load_settings(env, env_file=None).database_url.startswith("sqlite")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"TRACKER_STORE_URL": ""}, "TRACKER_STORE_URL is not set"),
        ({"TRACKER_STORE_URL": "sqlite:///var/tracker.db"}, "TRACKER_STORE_URL must be a PostgreSQL URL"),
        ({"LOCK_STORE_URL": ""}, "LOCK_STORE_URL is not set"),
        ({"LOCK_STORE_URL": "redis://redis:6379/1"}, "LOCK_STORE_URL is the Redis host name only"),
        ({"LOCK_STORE_DB": "one"}, "LOCK_STORE_DB must be a number"),
        ({"RASA_TOKEN": "rasa-token"}, "RASA_TOKEN is a known default value"),
        ({"DATA_ENCRYPTION_KEY": ""}, "DATA_ENCRYPTION_KEY is not set"),  # Rasa encrypts every stored event
    ],
)
def test_rasa_needs_shared_stores_and_a_real_token(override, expected):
    assert any(expected in problem for problem in rasa_store_problems(production_env(**override), dev_values={}))


def run_module(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("module", "args"),
    [("bot", ("flags", "list")), ("bot", ("config", "check")), ("actions", ())],
)
def test_entry_points_refuse_default_secrets_with_one_clear_line(module, args):
    env = {"PATH": "/usr/bin:/bin", **production_env(RASA_TOKEN="changeme", DATABASE_URL="sqlite:///x.db")}
    result = run_module(module, *args, env=env)
    assert result.returncode == 3
    assert result.stderr.startswith("configuration: production mode (APP_ENV=production) refuses to start")
    assert "RASA_TOKEN is a known default value" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_web_app_under_gunicorn_refuses_to_start():
    env = {"PATH": "/usr/bin:/bin", **production_env(FLASK_SECRET_KEY="")}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py", "webhooks:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "FLASK_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr


def test_config_check_passes_in_production_when_everything_is_set():
    result = run_module("bot", "config", "check", env={"PATH": "/usr/bin:/bin", **production_env()})
    assert result.returncode == 0, result.stderr
    assert "production" in result.stdout
