import json
import re

from sqlalchemy import select

from bot.models import Flag
from tests.support import make_web_settings, open_chat_page, recording_rasa
from webhooks import create_app


def test_chat_page_is_self_contained(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN or other external requests


def test_rasa_down_gets_an_apology_and_a_flag(chat_client, session):
    client = chat_client
    response = client.post("/chat/message", json={"message": "我的社保卡丢了"})
    assert response.status_code == 200
    (reply,) = response.get_json()["replies"]
    assert "暂时无法办理" in reply and "12333" in reply
    english = client.post("/chat/message", json={"message": "I lost my card"}).get_json()["replies"][0]
    assert "temporarily unavailable" in english
    flags = session.scalars(select(Flag)).all()
    assert [(f.reason, f.channel) for f in flags] == [("action_error", "chat")]
    assert flags[0].conversation_id.startswith("web-")


def test_bad_input_is_refused_clearly(chat_client):
    client = chat_client
    assert client.post("/chat/message", json={"message": "   "}).get_json() == {"error": "请输入您要咨询的内容。"}
    assert client.post("/chat/message", json={"message": "x" * 501}).status_code == 400
    assert client.post("/chat/message", data="message=hi").status_code == 400
    assert client.post("/chat/message", json=["not", "an", "object"]).status_code == 400
    assert client.post("/chat/message", json={"message": 42}).status_code == 400


def test_empty_answer_from_rasa_gets_an_apology(settings, sessions, session):
    """Rasa answers [] when an action fails inside it (for example the action server is down)."""

    with recording_rasa(answer=[]) as (rasa_url, _heard):
        web = make_web_settings(settings, rasa_url=rasa_url)
        client = open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())
        (reply,) = client.post("/chat/message", json={"message": "查进度"}).get_json()["replies"]
    assert "暂时无法办理" in reply
    assert [f.reason for f in session.scalars(select(Flag))] == ["action_error"]


def test_text_that_is_not_unicode_is_refused(chat_client):
    response = chat_client.post(
        "/chat/message", data='{"message": "\\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_a_message_without_the_page_token_is_refused_and_changes_nothing(client, session):
    """Another site cannot post into a visitor's chat: the page's CSRF token must come along."""
    response = client.post("/chat/message", json={"message": "我的社保卡丢了"})
    assert response.status_code == 400
    assert "reload" in response.get_json()["error"]
    assert session.scalars(select(Flag)).all() == []  # Rasa was never asked (it would have flagged)


def history_key(client) -> str:
    return re.search(r'name="chat-history" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_ending_the_chat_says_goodbye_to_it_and_starts_a_new_one(settings, sessions):
    with recording_rasa() as (rasa_url, heard):
        web = make_web_settings(settings, rasa_url=rasa_url)
        client = open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())
        key = history_key(client)
        assert client.post("/chat/message", json={"message": "查进度"}).get_json()["history"] == key
        ended = client.post("/chat/end").get_json()
        assert ended["ended"] is True and ended["history"] != key  # the page's stored history is left behind
        assert client.post("/chat/message", json={"message": "查进度"}).get_json()["history"] == ended["history"]
        assert history_key(client) == ended["history"]
    first, goodbye, after = heard
    assert goodbye["sender"] == first["sender"] and goodbye["message"] == "/goodbye"
    assert after["sender"] != first["sender"] and after["sender"].startswith("web-")
    assert key not in json.dumps(heard) and first["sender"].removeprefix("web-") not in key


def test_the_history_key_is_the_conversations_own(settings, sessions):
    """Each browser session has its own key, stable while its conversation lasts."""
    with recording_rasa() as (rasa_url, _heard):
        app = create_app({"WEB": make_web_settings(settings, rasa_url=rasa_url), "TESTING": True})
        one, other = open_chat_page(app.test_client()), open_chat_page(app.test_client())
        assert history_key(one) == history_key(one) != history_key(other)
        assert one.post("/chat/message", json={"message": "hi"}).get_json()["history"] == history_key(one)


def test_replies_carry_their_language_and_the_choices_they_offer(settings, sessions):
    offered = [{"title": "确认", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]
    answer = [
        {"recipient_id": "x", "text": "确认挂失请回复“确认”，不挂失请回复“取消”。", "buttons": offered},
        {"recipient_id": "x", "text": 'Reply "yes" to confirm, or "no" to stop.'},
        {"recipient_id": "x", "custom": {"task_finished": True}},
        {"recipient_id": "x", "text": "3201**********7079"},
        {"recipient_id": "x", "text": "odd buttons", "buttons": [{"title": 1}, "x", {"payload": "/deny"}]},
    ]
    with recording_rasa(answer=answer) as (rasa_url, heard):
        web = make_web_settings(settings, rasa_url=rasa_url)
        client = open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())
        body = client.post("/chat/message", json={"message": "/affirm"}).get_json()
        english = client.post("/chat/message", json={"message": "I lost my card"}).get_json()
    assert heard[0]["message"] == "/affirm"  # a button press reaches Rasa as its intent
    assert body["replies"] == [m["text"] for m in body["messages"]]  # the plain texts, as before
    assert [(m["language"], m["buttons"]) for m in body["messages"]] == [
        ("zh", offered),
        ("en", []),
        ("zh", []),  # no words of its own: the message's language, else Mandarin
        ("en", []),
    ]
    assert body["language"] is None and english["language"] == "en"
    assert english["messages"][2]["language"] == "en"  # a bare number in an English conversation


def test_a_button_press_that_rasa_cannot_answer_is_apologised_for_in_both_languages(chat_client):
    (reply,) = chat_client.post("/chat/message", json={"message": "/affirm"}).get_json()["messages"]
    assert "暂时无法办理" in reply["text"] and "temporarily unavailable" in reply["text"]
