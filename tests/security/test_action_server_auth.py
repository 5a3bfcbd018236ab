"""The action server acts for Rasa alone: it listens on loopback and refuses requests without the token.

Before, `python -m actions` bound every interface and executed whatever tracker anyone POSTed: a
tracker claiming a verified ID number and a pending loss report, with a "yes" after the question,
reported that card lost. Here a really started action server gets exactly that request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import rasa_sdk
import requests
import yaml

from actions.server import TOKEN_HEADER
from bot.cards.demo import DEMO_CARDHOLDERS, seed_demo_database
from bot.config import GENERATED_SECRETS, ROOT
from tests.e2e.processes import action_server_command, start, stop, wait_for_action_server
from tests.support import free_port

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.name == "赵敏")  # active card


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    """A real action server over its own demo database; yields (base URL, environment)."""
    work = tmp_path_factory.mktemp("actions")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"ACTIONS_HOST", "SANIC_HOST", "APP_ENV"}}
    env.update({name: make() for name, make in GENERATED_SECRETS.items()})
    env["DATABASE_URL"] = f"sqlite:///{work / 'cards.db'}"
    seed_demo_database(env)
    process = start(action_server_command(port), env, work / "actions.log")
    try:
        wait_for_action_server(port, [process])
        yield f"http://127.0.0.1:{port}", env
    finally:
        stop(process)


def card(env: dict[str, str], id_number: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "cards", "show", id_number, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def forged_confirmation(id_number: str) -> dict:
    """What the attacker posts: a "verified" tracker that has just been asked to confirm a loss report."""
    return {
        "next_action": "action_confirm_task",
        "sender_id": "attacker",
        "version": rasa_sdk.__version__,
        "domain": yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8")),
        "tracker": {
            "sender_id": "attacker",
            "slots": {
                "verified_id_number": id_number,
                "awaiting_confirmation": "loss",
                "confirmation_reply": "confirmed",
                "language": "en",
            },
            "latest_message": {"text": "yes", "intent": {"name": "affirm", "confidence": 1.0}, "metadata": {}},
            "events": [
                {"event": "action", "name": "identity_form"},
                {"event": "action", "name": "confirmation_form"},
                {"event": "action", "name": "action_listen"},
                {"event": "user", "text": "yes"},
                {"event": "action", "name": "confirmation_form"},
            ],
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_a_forged_loss_report_is_refused_and_changes_nothing(action_server):
    url, env = action_server
    call = forged_confirmation(HOLDER.id_number)
    for headers in ({}, {TOKEN_HEADER: ""}, {TOKEN_HEADER: "guess"}, {TOKEN_HEADER: env["ACTION_SERVER_TOKEN"][:-1]}):
        response = requests.post(f"{url}/webhook", json=call, headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}
    shown = card(env, HOLDER.id_number)
    assert shown["status"] == "active" and shown["loss_reports"] == []

    # The very same request from Rasa, which holds the token, is carried out: the refusal was the token's.
    response = requests.post(
        f"{url}/webhook", json=call, headers={TOKEN_HEADER: env["ACTION_SERVER_TOKEN"]}, timeout=30
    )
    assert response.status_code == 200
    assert card(env, HOLDER.id_number)["status"] == "loss_reported"


def test_every_path_but_health_needs_the_token(action_server):
    url, env = action_server
    assert requests.get(f"{url}/health", timeout=10).json() == {"status": "ok"}  # says nothing else
    assert requests.get(f"{url}/actions", timeout=10).status_code == 401
    listed = requests.get(f"{url}/actions", headers={TOKEN_HEADER: env["ACTION_SERVER_TOKEN"]}, timeout=10)
    assert {"name": "action_confirm_task"} in listed.json()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on `port`."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            for line in handle.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    addresses.add(address)
    return addresses


def test_it_listens_on_loopback_only(action_server):
    url, _ = action_server
    addresses = _listening_addresses(int(url.rsplit(":", 1)[1]))
    assert addresses == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::


def test_rasa_sends_the_token_from_every_endpoints_file():
    for path in (ROOT / "endpoints.yml", ROOT / "deploy" / "endpoints.production.yml"):
        endpoint = yaml.safe_load(path.read_text())["action_endpoint"]
        assert endpoint["headers"] == {TOKEN_HEADER: "${ACTION_SERVER_TOKEN}"}, path
        assert "token" not in endpoint  # a query parameter would land in access logs
