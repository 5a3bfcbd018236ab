"""When a part fails the person still gets a clear answer, nothing committed is lost, and service
resumes by itself once the part is back: the action server killed mid-conversation, the card
database refusing connections, Rasa killed in the middle of a phone call.

Runs on the production stack (PostgreSQL, Redis); each test leaves every process running again.
"""

from __future__ import annotations

import re

import pytest
from twilio.request_validator import RequestValidator

from bench.production import admin
from bot.cards.demo import DEMO_CARDHOLDERS
from tests.support import open_chat_page
from webhooks import create_app
from webhooks.call_simulator import Call
from webhooks.settings import load_web_settings

pytestmark = [pytest.mark.e2e, pytest.mark.production]

UNAVAILABLE_ZH = "暂时无法办理"
REFERENCE = re.compile(r"(?<!\d)\d{10}(?!\d)")


def holder(name: str):
    return next(d for d in DEMO_CARDHOLDERS if d.name == name)


def web_app(stack, *rasa_urls: str):
    """The real web app in production mode (its settings read from the stack's environment)."""
    web = load_web_settings({**stack.env, "RASA_URLS": ",".join(rasa_urls or stack.rasa_urls[:1])})
    return create_app({"WEB": web, "TESTING": True})


def chat_client(stack, *rasa_urls: str):
    """A browser on the chat page (it holds the page's CSRF token)."""
    return open_chat_page(web_app(stack, *rasa_urls).test_client())


def chat(client, message: str) -> list[str]:
    response = client.post("/chat/message", json={"message": message})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["replies"]


def voice_transport(stack, client):
    validator = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"])

    def post(path: str, form: dict[str, str]) -> tuple[int, str]:
        signature = validator.compute_signature("http://localhost" + path, form)
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)

    return post


def test_action_server_killed_mid_conversation(production_stack):
    stack, person = production_stack, holder("杨帆")  # issued: can be reported lost
    rasa_pids = {name: p.pid for name, p in stack.processes.items() if name.startswith("rasa")}
    client = chat_client(stack)
    chat(client, "我的社保卡丢了")
    stack.kill("actions")
    try:
        (reply,) = chat(client, person.id_number)
        assert UNAVAILABLE_ZH in reply and "12333" in reply
    finally:
        stack.start_actions()
    assert any(f["reason"] == "action_error" for f in stack.flags())
    # the same conversation carries on, with the same Rasa processes
    replies = chat(client, person.id_number) + chat(client, person.name)
    assert any("确认挂失请回复" in text for text in replies), replies
    (confirmation,) = [text for text in chat(client, "确认") if "挂失编号" in text]
    stored = [r["reference"] for r in stack.card(person.id_number)["loss_reports"]]
    assert stored == REFERENCE.findall(confirmation)
    assert {name: p.pid for name, p in stack.processes.items() if name.startswith("rasa")} == rasa_pids


def test_card_database_refusing_connections(production_stack):
    """The card database goes away (connections refused, open ones cut); the server itself stays up."""
    stack, person = production_stack, holder("陈静")  # ready for pickup
    client = chat_client(stack)
    chat(client, "帮我查下社保卡办到哪一步了")
    chat(client, person.id_number)
    admin(f"ALTER DATABASE {stack.card_database} ALLOW_CONNECTIONS false")
    admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{stack.card_database}'")
    try:
        replies = chat(client, person.name)
        assert any(UNAVAILABLE_ZH in text for text in replies), replies
        assert not any(person.office in text for text in replies)
    finally:
        admin(f"ALTER DATABASE {stack.card_database} ALLOW_CONNECTIONS true")
    # once the database is back, the same conversation gets its answer
    replies = chat(client, "帮我查下社保卡办到哪一步了") + chat(client, person.id_number) + chat(client, person.name)
    assert any("可以领取" in text and person.office in text for text in replies), replies


def test_rasa_killed_mid_call(production_stack):
    """The caller hears an apology and a voicemail offer, never an error; the confirmed report stays."""
    stack, person = production_stack, holder("Maria Garcia")  # active, foreign permanent resident ID
    client = web_app(stack).test_client()  # this web app knows only Rasa A

    def caller_inputs():
        yield "我的社保卡丢了"
        yield "keys:" + person.id_number.replace("X", "*") + "#"
        yield "确认"
        stack.kill("rasa_a")  # crash right after the loss report was confirmed
        yield "查一下办理进度"

    try:
        call = Call(voice_transport(stack, client), caller=person.phone).run(caller_inputs(), echo=False)
        spoken = " ".join(call.spoken)
        assert not call.ended.startswith("HTTP"), call.ended  # every webhook answered 200
        assert "抱歉" in spoken and "留言" in spoken, call.spoken  # apology, then a voicemail offer
        (reference,) = set(REFERENCE.findall(spoken))
        # a web app that knows both servers carries on through Rasa B while A is down
        failover = chat_client(stack, *stack.rasa_urls)
        assert not any(UNAVAILABLE_ZH in text for text in chat(failover, "怎么激活社保卡"))
    finally:
        stack.start_rasa("rasa_a")
    assert [r["reference"] for r in stack.card(person.id_number)["loss_reports"]] == [reference]
    events = stack.tracker(f"call-{call.sid}")["events"]  # the call's turns survived in the tracker store
    assert [e["text"] for e in events if e["event"] == "user"][:3] == ["我的社保卡丢了", person.id_number, "确认"]
    # the next call goes through the restarted Rasa A
    other = holder("刘洋")  # shipped
    call = Call(voice_transport(stack, client), caller=other.phone).run(
        iter(["查一下办理进度", "keys:" + other.id_number + "#"]), echo=False
    )
    assert any(other.office in text for text in call.spoken), call.spoken
