import re

from sqlalchemy import select

from bot.models import Flag


def test_chat_page_is_self_contained(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN or other external requests


def test_rasa_down_gets_an_apology_and_a_flag(client, session):
    response = client.post("/chat/message", json={"message": "我的社保卡丢了"})
    assert response.status_code == 200
    (reply,) = response.get_json()["replies"]
    assert "暂时无法办理" in reply and "12333" in reply
    english = client.post("/chat/message", json={"message": "I lost my card"}).get_json()["replies"][0]
    assert "temporarily unavailable" in english
    flags = session.scalars(select(Flag)).all()
    assert [(f.reason, f.channel) for f in flags] == [("action_error", "chat")]
    assert flags[0].conversation_id.startswith("web-")


def test_bad_input_is_refused_clearly(client):
    assert client.post("/chat/message", json={"message": "   "}).get_json() == {"error": "请输入您要咨询的内容。"}
    assert client.post("/chat/message", json={"message": "x" * 501}).status_code == 400
    assert client.post("/chat/message", data="message=hi").status_code == 400
    assert client.post("/chat/message", json=["not", "an", "object"]).status_code == 400
    assert client.post("/chat/message", json={"message": 42}).status_code == 400
