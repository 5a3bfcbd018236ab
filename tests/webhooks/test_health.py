"""`/healthz` lists every Rasa server and the action server, and is 200 only when all of them are ready.

Before, one ready Rasa server of two made the service "ok", and the body said only "rasa", not which.
"""

from __future__ import annotations

import dataclasses

from tests.support import free_port, make_web_settings, naming_rasa
from webhooks import create_app


def health(settings, rasa_urls: list[str], actions_url: str) -> tuple[int, dict]:
    web = dataclasses.replace(make_web_settings(settings, actions_url=actions_url), rasa_urls=tuple(rasa_urls))
    response = create_app({"WEB": web, "TESTING": True}).test_client().get("/healthz")
    return response.status_code, response.get_json()


def test_health_names_what_is_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert [d["role"] for d in body["down"]] == ["rasa", "actions"]
    assert body["status"] == "unavailable" and body["checks"]["web"] is True


def test_all_ready_is_200_and_lists_each_server(settings):
    with naming_rasa("a", []) as a, naming_rasa("b", []) as b, naming_rasa("actions", []) as actions:
        status, body = health(settings, [a, b], actions)
    assert status == 200 and body["status"] == "ok" and body["down"] == []
    assert body["servers"] == [
        {"role": "rasa", "url": a, "ready": True},
        {"role": "rasa", "url": b, "ready": True},
        {"role": "actions", "url": actions, "ready": True},
    ]


def test_one_rasa_of_two_down_is_degraded_not_healthy(settings):
    stopped = f"http://127.0.0.1:{free_port()}"
    with naming_rasa("a", []) as a, naming_rasa("actions", []) as actions:
        status, body = health(settings, [a, stopped], actions)
    assert status == 503 and body["status"] == "degraded"
    assert body["down"] == [{"role": "rasa", "url": stopped}]
    assert body["checks"] == {"web": True, "rasa": False, "actions": True}


def test_no_action_server_is_down_even_with_every_rasa_ready(settings):
    stopped = f"http://127.0.0.1:{free_port()}"
    with naming_rasa("a", []) as a:
        status, body = health(settings, [a], stopped)
    assert status == 503 and body["status"] == "unavailable"
    assert body["down"] == [{"role": "actions", "url": stopped}]


def test_credentials_in_a_url_are_never_shown(settings):
    port = free_port()
    status, body = health(
        settings, [f"http://ops:s3cret@127.0.0.1:{port}/?token=t0ken"], f"http://u:pw@127.0.0.1:{port}"
    )
    text = str(body)
    assert status == 503 and "s3cret" not in text and "t0ken" not in text and "pw" not in text
    assert body["down"] == [
        {"role": "rasa", "url": f"http://127.0.0.1:{port}"},
        {"role": "actions", "url": f"http://127.0.0.1:{port}"},
    ]
