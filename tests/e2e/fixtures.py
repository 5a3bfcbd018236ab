"""A running assistant for end-to-end and security tests: trained model, action server and Rasa on loopback.

The fixtures are registered in tests/conftest.py, so one session-wide stack serves every test
package that asks for it.

The model is trained once for the current training inputs and kept in models/ (named by their
fingerprint), so only the first run after a data change pays for training.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cards.demo import seed_demo_database
from bot.config import GENERATED_SECRETS
from bot.training.trained_model import ensure_trained
from tests.e2e.processes import (
    Stack,
    action_server_command,
    rasa_command,
    start,
    stop,
    wait_for_action_server,
    wait_for_rasa,
)
from tests.support import free_port


@pytest.fixture(scope="session")
def trained_model() -> Path:
    return ensure_trained()


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory) -> Stack:
    """Action server and Rasa over a fresh SQLite card database holding the demo cardholders."""
    work = tmp_path_factory.mktemp("stack")
    actions_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        **{name: make() for name, make in GENERATED_SECRETS.items()},  # fresh secrets, passed in the environment
        "DATABASE_URL": f"sqlite:///{work / 'cards.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "TRACKER_SQLITE_PATH": str(work / "tracker.db"),
    }
    # JAX, imported by some tests in this process, sets TF_CPP_MIN_LOG_LEVEL=1 on import: the stack
    # starts with the environment an operator's shell would give it.
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    seed_demo_database(env)
    processes = [
        start(action_server_command(actions_port), env, work / "actions.log"),
        start(rasa_command(rasa_port, model=trained_model), env, work / "rasa.log"),
    ]
    rasa_url, token = f"http://127.0.0.1:{rasa_port}", env["RASA_TOKEN"]
    try:
        wait_for_action_server(actions_port, processes)
        wait_for_rasa(rasa_url, token, processes)
        yield Stack(rasa_url=rasa_url, token=token, env=env, logs=work)
    finally:
        stop(*processes)


@pytest.fixture(scope="session")
def production_stack(trained_model, tmp_path_factory):
    """Production mode on PostgreSQL and Redis: two Rasa servers sharing the tracker and lock stores."""
    from tests.e2e.production import production_stack, require_services

    require_services()
    yield from production_stack(trained_model, tmp_path_factory.mktemp("production"))
