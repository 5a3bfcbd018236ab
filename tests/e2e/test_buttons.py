"""Quick-reply buttons against the running assistant: a press means what typing its title means.

The chat page sends a button's payload ("/affirm", "/report_loss"), which Rasa takes as that
intent without reading it; typed, the title goes through the model and bot/language/confirmation.py.
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from bot.config import load_settings
from bot.language.confirmation import Decision, decide
from tests.e2e.cardholders import add_holder
from tests.support import DOMAIN, LANGUAGES, buttons, make_web_settings, open_chat_page
from webhooks import create_app

pytestmark = pytest.mark.e2e

TASK_INTENTS = ("report_loss", "cancel_loss")  # the changes a confirmation can be for


def parse(stack, text: str) -> tuple[str, float]:
    response = requests.post(
        f"{stack.rasa_url}/model/parse", params={"token": stack.token}, json={"text": text}, timeout=30
    )
    response.raise_for_status()
    intent = response.json()["intent"]
    return intent["name"], intent["confidence"]


def offered_buttons() -> list[tuple[str, str, dict]]:
    return [
        (name, language, button)
        for name in DOMAIN["responses"]
        for language in LANGUAGES
        for button in buttons(name, language)
    ]


def test_every_button_is_decided_as_its_title_typed(stack):
    checked = set()
    for name, language, button in offered_buttons():
        title, payload = button["title"], button["payload"]
        if (title, payload) in checked:
            continue
        checked.add((title, payload))
        pressed, typed = parse(stack, payload), parse(stack, title)
        assert pressed == (payload.removeprefix("/"), 1.0), (name, button)
        if payload in ("/affirm", "/deny"):
            for task in TASK_INTENTS:
                as_pressed = decide(payload, *pressed, task_intent=task)
                assert as_pressed is decide(title, *typed, task_intent=task), (name, language, button, task, typed)
                assert as_pressed is (Decision.YES if payload == "/affirm" else Decision.NO)
        else:
            assert typed[0] == pressed[0], (name, language, button, typed)  # a task button starts that task
    assert {"/affirm", "/deny", "/check_progress", "/report_loss", "/cancel_loss"} <= {p for _t, p in checked}


@pytest.fixture
def chat(stack):
    web = make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token)
    client = open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())

    def say(message: str) -> list[dict]:
        response = client.post("/chat/message", json={"message": message})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["messages"]

    return say


def offers(replies: list[dict]) -> list[str]:
    return [b["payload"] for reply in replies for b in reply["buttons"]]


def test_a_loss_report_and_its_cancellation_by_buttons_in_english(stack, chat, tmp_path):
    holder = add_holder(stack, tmp_path, "Olivia Brown")
    greeting = chat("Hello")
    assert offers(greeting) == ["/check_progress", "/report_loss", "/cancel_loss"]
    titles = [b["title"] for b in greeting[-1]["buttons"]]
    assert titles == ["Check progress", "Report a lost card", "Cancel a loss report"]
    chat("/report_loss")
    chat(holder.id_number)
    warning = chat(holder.name)
    assert offers(warning) == ["/affirm", "/deny"] and warning[-1]["language"] == "en"

    declined = chat("/deny")  # "No"
    assert any("haven't changed anything" in r["text"] for r in declined), declined
    assert stack.card(holder.id_number)["status"] == "active"

    again = chat("/report_loss")  # still verified: straight to the question, in English
    assert offers(again) == ["/affirm", "/deny"] and all(r["language"] == "en" for r in again), again
    reported = chat("/affirm")  # "Yes"
    assert any(re.search(r"Reference: \d{10}", r["text"]) for r in reported), reported
    assert stack.card(holder.id_number)["status"] == "loss_reported"

    chat("/cancel_loss")  # "Cancel a loss report": the code goes to the registered mobile first
    outbox = json.loads(stack.cli("outbox", "list", "--json").stdout)
    code = re.search(r"\d{6}", next(m["text"] for m in outbox if m["kind"] == "code")).group(0)
    confirm = chat(code)
    assert offers(confirm) == ["/affirm", "/deny"], confirm
    assert any("loss report has been cancelled" in r["text"] for r in chat("/affirm"))
    assert stack.card(holder.id_number)["status"] == "active"


def test_a_pressed_no_in_mandarin_changes_nothing(stack, chat, tmp_path):
    holder = add_holder(stack, tmp_path, "蒋文静")
    assert offers(chat("你好")) == ["/check_progress", "/report_loss", "/cancel_loss"]
    assert "身份证" in chat("/report_loss")[-1]["text"]  # the language the person wrote in stays
    chat(holder.id_number)
    warning = chat(holder.name)
    assert [b["title"] for b in warning[-1]["buttons"]] == ["确认", "取消"] and warning[-1]["language"] == "zh"
    assert any("没有为您办理" in r["text"] for r in chat("/deny"))
    assert stack.card(holder.id_number)["status"] == "active"
