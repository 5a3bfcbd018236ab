"""One request id follows a turn from the web app through Rasa to the action server's log."""

from __future__ import annotations

import json
import logging

import pytest

from bot.config import load_settings
from bot.platform.logs import JsonFormatter, RequestIdFilter
from tests.e2e.cardholders import OFFICE, add_holder
from tests.support import make_web_settings, open_chat_page
from webhooks import create_app

pytestmark = pytest.mark.e2e


def test_a_turn_is_found_by_its_request_id_in_the_web_and_action_logs(stack, caplog, tmp_path):
    holder = add_holder(stack, tmp_path, "石慧敏", "ready_for_pickup")
    web = make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token)
    client = open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)

    turns = [
        ("e2e-turn-progress", "查一下社保卡进度"),
        ("e2e-turn-id", holder.id_number),
        ("e2e-turn-name", holder.name),
    ]
    for request_id, text in turns:
        response = client.post("/chat/message", json={"message": text}, headers={"X-Request-ID": request_id})
        assert response.headers["X-Request-ID"] == request_id
    assert any(OFFICE in reply for reply in response.get_json()["replies"])

    web_lines = [json.loads(JsonFormatter(process="web").format(r)) for r in caplog.records]
    answered = {line["request_id"]: line["outcome"] for line in web_lines if line["message"].startswith("turn ")}
    assert answered == {"e2e-turn-progress": "answered", "e2e-turn-id": "answered", "e2e-turn-name": "answered"}

    action_log = (stack.logs / "actions.log").read_text(encoding="utf-8")
    action_lines = [json.loads(line) for line in action_log.splitlines() if line.startswith("{")]
    by_name_turn = {line["message"] for line in action_lines if line["request_id"] == "e2e-turn-name"}
    assert {"action validate_identity_form done", "identity check"} <= by_name_turn
    assert all(line["process"] == "actions" for line in action_lines)

    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'assistant_turns_total{channel="chat"}' in metrics

    everything = action_log + "\n".join(json.dumps(line, ensure_ascii=False) for line in web_lines)
    for personal in (holder.id_number, holder.name, holder.phone, holder.phone[-8:]):
        assert personal not in everything
