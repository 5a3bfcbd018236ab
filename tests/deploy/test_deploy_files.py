"""The deployment files agree with the code: image versions, service names and the settings read.

No container engine runs here, so the compose file is checked statically: parsed, its variables
interpolated as `docker compose` would, and each service's environment put through the same
production checks the processes run at start-up.
"""

from __future__ import annotations

import importlib.metadata
import re
import secrets
import shlex

import pytest
import yaml
from cryptography.fernet import Fernet

from bot.config import GENERATED_SECRETS, ROOT, production_problems, rasa_store_problems

DEPLOY = ROOT / "deploy"
_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, variables: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} in every string of a parsed file."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind and kind.endswith("?"):
            raise KeyError(f"{name}: {rest}")
        return rest if kind else ""

    return _VARIABLE.sub(replace, value)


def deployment_env() -> dict[str, str]:
    """What an operator puts in deploy/.env: every name of production.env.example, with real values."""
    names = [line.split("=", 1)[0] for line in (DEPLOY / "production.env.example").read_text().splitlines()]
    values = {name: secrets.token_hex(24) for name in names if name and not name.startswith("#")}
    return {**values, "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(), "RASA_MODEL_FILE": "model-abc.tar.gz"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return interpolate(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()), deployment_env())


def environment(service: dict) -> dict[str, str]:
    return {key: str(value) for key, value in (service.get("environment") or {}).items()}


def test_images_match_the_pinned_rasa_versions():
    app = (DEPLOY / "Dockerfile").read_text()
    actions = (DEPLOY / "Dockerfile.actions").read_text()
    assert f"FROM rasa/rasa:{importlib.metadata.version('rasa')}-full" in app
    assert f"FROM rasa/rasa-sdk:{importlib.metadata.version('rasa-sdk')}" in actions


def test_every_required_variable_is_in_the_example(compose):
    with pytest.raises(KeyError):
        interpolate(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()), {})
    assert {"postgres", "redis", "migrate", "actions", "rasa-1", "rasa-2", "web", "outbox"} <= set(compose["services"])


def test_each_service_passes_the_production_checks(compose):
    services = compose["services"]
    for name in ("migrate", "actions", "rasa-1", "rasa-2", "web", "outbox"):
        env = environment(services[name])
        assert env["APP_ENV"] == "production"
        assert production_problems(env, dev_values={}) == [], name
        assert set(GENERATED_SECRETS) <= set(env)
    for name in ("rasa-1", "rasa-2"):
        assert rasa_store_problems(environment(services[name]), dev_values={}) == [], name


def test_services_point_at_each_other(compose):
    services = compose["services"]
    web, rasa = environment(services["web"]), environment(services["rasa-1"])
    assert web["RASA_URLS"] == "http://rasa-1:5005,http://rasa-2:5005"
    assert web["TRACKER_STORE_URL"] == rasa["TRACKER_STORE_URL"]  # the staff console reads transcripts there
    assert re.fullmatch(r"redis://:\w+@redis:6379/2", web["RATELIMIT_STORAGE_URI"])
    assert all(services[name]["command"] == ["5005"] for name in ("rasa-1", "rasa-2"))
    assert web["ACTIONS_URL"] == "http://actions:5055" and rasa["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
    assert "-p 5055" in " ".join(services["actions"]["command"])
    assert (
        rasa["LOCK_STORE_URL"] == "redis"
        and rasa["LOCK_STORE_PASSWORD"] == environment(services["redis"])["REDIS_PASSWORD"]
    )
    postgres = environment(services["postgres"])
    assert web["DATABASE_URL"].endswith("@postgres:5432/cards")
    assert rasa["TRACKER_STORE_URL"].endswith("@postgres:5432/tracker")
    assert postgres["POSTGRES_PASSWORD"] in web["DATABASE_URL"]
    assert "CREATE DATABASE tracker" in (DEPLOY / "postgres-init.sql").read_text()
    assert rasa["RASA_MODEL"] == "models/model-abc.tar.gz"
    assert "../models:/app/models:ro" in services["rasa-1"]["volumes"]


def test_rasa_endpoints_read_only_variables_that_are_set():
    """Rasa stops at start-up on an unset ${VAR}: each one must be set by compose or by deploy/rasa.sh."""
    endpoints = (DEPLOY / "endpoints.production.yml").read_text()
    used = set(re.findall(r"\$\{(\w+)\}", re.sub(r"#.*", "", endpoints)))
    script = (DEPLOY / "rasa.sh").read_text()
    defaulted = set(re.findall(r"\$\{(\w+):=", script))
    compose_env = set(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["x-rasa"]["environment"])
    assert used == {
        "ACTION_ENDPOINT_URL",
        "ACTION_SERVER_TOKEN",
        "TRACKER_STORE_URL",
        "LOCK_STORE_URL",
        "LOCK_STORE_PORT",
        "LOCK_STORE_DB",
        "LOCK_STORE_PASSWORD",
        "LOCK_STORE_KEY_PREFIX",
    }
    required = {"TRACKER_STORE_URL", "LOCK_STORE_URL", "ACTION_SERVER_TOKEN"}  # no default: config check names them
    assert used <= compose_env and used - required <= defaulted
    config = yaml.safe_load(endpoints)
    assert config["tracker_store"]["type"] == "rasa_addons.tracker_store.EncryptedSQLTrackerStore"
    assert config["lock_store"]["type"] == "rasa_addons.lock_store.AtomicRedisLockStore"
    # Without it the hotline would read out the written wording ("reply 确认").
    embedded = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert config["nlg"] == embedded["nlg"] == {"type": "rasa_addons.channel_responses.ChannelResponses"}


def test_procfile_production_runs_what_exists():
    processes = dict(line.split(": ", 1) for line in (ROOT / "Procfile.production").read_text().splitlines() if line)
    assert set(processes) == {"actions", "rasa1", "rasa2", "web", "outbox1", "outbox2"}
    assert all(processes[name] == ".venv/bin/python -m bot outbox run" for name in ("outbox1", "outbox2"))
    assert "-m actions" in processes["actions"] and "ACTION_SERVER_SANIC_WORKERS" in processes["actions"]
    assert all(processes[name].startswith("deploy/rasa.sh ") for name in ("rasa1", "rasa2"))
    assert "deploy/gunicorn.conf.py" in processes["web"] and "RASA_URLS" in processes["web"]
    for command in processes.values():
        for word in shlex.split(command):
            if word.startswith("deploy/"):
                assert (ROOT / word).exists(), word


def test_images_install_the_runtime_requirements_only():
    """The Dockerfiles cut requirements.txt at its test section; without the marker they would install it all."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    marker = lines.index("# Development and tests")
    assert any(line.startswith("rasa[") for line in lines[:marker])
    assert any(line.startswith("pytest==") for line in lines[marker:])


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.actions"])
def test_dockerfiles_copy_what_exists(dockerfile):
    for line in (DEPLOY / dockerfile).read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                if not source.startswith("--"):
                    assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv/", "models/", "var/"} <= set(ignored)
