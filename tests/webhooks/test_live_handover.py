"""Live handovers through the web app: the chat page and SMS pause the bot while staff hold a
conversation, and the console takes, answers, hands back and lists callbacks (CSRF, roles, masking).

Rasa is a fake that hands over whenever a message asks for 人工; staff hours follow the app's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select

from bot.handover.live import HandoverRequest
from bot.models import AuditEntry, Callback, Handover, LiveMessage, OutboundMessage
from bot.platform.service_settings import setting_problems
from bot.review.accounts import add_staff_user
from bot.review.flags import flag_conversation
from tests.factories import ID_ZHANG, add_card
from tests.support import make_web_settings, open_chat_page, recording_rasa, sign_in, signed, token
from webhooks import create_app

SMS_FORM = {"From": "+8613900001001", "Body": "我要人工", "MessageSid": "SM1"}

PASSWORD = "correct horse battery"
MONDAY_10 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in the city, staff on duty
SATURDAY_10 = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.timezone.utc)
FLAG_ID: dict[str, int] = {}  # the flag the fake action made, for the payload (set per test)


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


def _answer(body: dict) -> list[dict]:
    if "人工" in body["message"]:
        request = HandoverRequest(task="progress", verified="flag" in FLAG_ID, flag_id=FLAG_ID.get("flag"))
        return [{"text": "已为您转人工。"}, {"custom": request.payload()}]
    return [{"text": "请提供您的身份证号码。"}]


@pytest.fixture
def rasa():
    FLAG_ID.clear()
    with recording_rasa(answer=_answer) as (url, received):
        yield url, received


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_10)


@pytest.fixture
def app(settings, sessions, rasa, clock):
    with sessions.begin() as db:
        for name in ("li.reviewer", "wu.reviewer"):
            add_staff_user(db, username=name, password=PASSWORD, role="reviewer")
    web = replace(make_web_settings(settings, rasa_url=rasa[0]), clock=clock)
    return create_app({"WEB": web, "TESTING": True})


def _staff(app, name: str):
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


def _post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": token(client, page), **data})


def _all(sessions, query) -> list:
    """Rows read in a session of their own (SQLite sessions hold the write lock while open)."""
    with sessions() as db:
        return list(db.scalars(query))


def _said(rasa) -> list[str]:
    return [body["message"] for body in rasa[1]]


def test_chat_with_staff_pauses_the_bot_until_handed_back(app, rasa, sessions, caplog):
    caplog.set_level(logging.DEBUG)
    person = open_chat_page(app.test_client())
    replies = person.post("/chat/message", json={"message": "我要人工"}).get_json()["replies"]
    assert replies[0] == "已为您转人工。" and "前面还有 0 位" in replies[1]
    assert "前面还有 0 位" in person.post("/chat/message", json={"message": "还在吗？"}).get_json()["replies"][0]
    assert person.get("/chat/updates?after=0").get_json() == {"state": "waiting", "ahead": 0, "messages": []}
    (handover,) = _all(sessions, select(Handover))

    li, wu = _staff(app, "li.reviewer"), _staff(app, "wu.reviewer")
    assert "Waiting for staff" in li.get("/staff/live?lang=en").get_data(as_text=True)
    waiting = li.get("/staff/live?lang=zh").get_data(as_text=True)
    assert f'action="/staff/live/{handover.id}/take"' in waiting and "progress" in waiting
    assert li.post(f"/staff/live/{handover.id}/take").status_code == 400  # no CSRF token: refused
    taken = _post(li, f"/staff/live/{handover.id}/take", "/staff/live")
    assert taken.status_code == 303 and taken.headers["Location"].endswith(f"/staff/live/{handover.id}")
    refused = _post(wu, f"/staff/live/{handover.id}/take", "/staff/live")
    assert refused.headers["Location"].endswith("/staff/live")
    assert "已被其他同事接入" in wu.get("/staff/live").get_data(as_text=True)

    assert person.post("/chat/message", json={"message": f"我的身份证是{ID_ZHANG}"}).get_json()["replies"] == []
    assert _said(rasa) == ["我要人工"]  # nothing reached the bot while staff held it
    page = li.get(f"/staff/live/{handover.id}").get_data(as_text=True)
    assert ID_ZHANG not in page and "1101**********002X" in page and 'id="reply-text"' in page
    polled = li.get(f"/staff/live/{handover.id}/messages?after=0").get_json()
    assert [m["from"] for m in polled["messages"]] == ["person", "system", "person"]
    assert ID_ZHANG not in str(polled)
    assert 'id="reply-text"' not in wu.get(f"/staff/live/{handover.id}").get_data(as_text=True)  # read only

    _post(wu, f"/staff/live/{handover.id}/reply", f"/staff/live/{handover.id}", text="我来回答")
    _post(li, f"/staff/live/{handover.id}/reply", f"/staff/live/{handover.id}", text="您好，我是小李。")
    updates = person.get("/chat/updates?after=0").get_json()
    assert updates["state"] == "taken"
    assert [(m["from"], m["text"]) for m in updates["messages"]][1:] == [("staff", "您好，我是小李。")]

    _post(li, f"/staff/live/{handover.id}/hand-back", f"/staff/live/{handover.id}")
    last = updates["messages"][-1]["id"]
    assert "交回智能助手" in person.get(f"/chat/updates?after={last}").get_json()["messages"][0]["text"]
    assert person.post("/chat/message", json={"message": "查进度"}).get_json()["replies"] == ["请提供您的身份证号码。"]
    assert _said(rasa) == ["我要人工", "查进度"]
    audit = _all(
        sessions, select(AuditEntry.actor + " " + AuditEntry.action).where(AuditEntry.target_type == "handover")
    )
    assert audit == ["staff:li.reviewer handover_taken", "staff:li.reviewer handover_reply",
                           "staff:li.reviewer handover_handed_back"]  # fmt: skip
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "handover taken" in logged and ID_ZHANG not in logged and "小李" not in logged and "还在吗" not in logged


def test_card_panel_is_for_the_reviewer_who_took_it_and_masked(app, sessions, vault):
    with sessions.begin() as db:
        card = add_card(db, vault)
        flag = flag_conversation(db, conversation_id="x", channel="chat", reason="human_requested",
                                 cardholder_id=card.cardholder_id)  # fmt: skip
        FLAG_ID["flag"] = flag.id
    person = open_chat_page(app.test_client())
    person.post("/chat/message", json={"message": "转人工"})
    with sessions() as db:
        handover = db.scalars(select(Handover)).one()
        assert handover.cardholder_id is None  # the flag is another conversation's: no card shown from it
        db.execute(Handover.__table__.update().values(cardholder_id=card.cardholder_id))
        db.commit()
    li, wu = _staff(app, "li.reviewer"), _staff(app, "wu.reviewer")
    _post(li, f"/staff/live/{handover.id}/take", "/staff/live")
    mine = li.get(f"/staff/live/{handover.id}").get_data(as_text=True)
    assert "张*" in mine and "1101**********002X" in mine and "张伟" not in mine and ID_ZHANG not in mine
    assert "张*" not in wu.get(f"/staff/live/{handover.id}").get_data(as_text=True)


def test_a_verified_persons_own_flag_links_their_card(app, sessions, vault):
    person = open_chat_page(app.test_client())
    person.post("/chat/message", json={"message": "你好"})  # the conversation id exists from here
    with person.session_transaction() as cookie:
        conversation_id = cookie["conversation_id"]
    with sessions.begin() as db:
        card = add_card(db, vault)
        FLAG_ID["flag"] = flag_conversation(db, conversation_id=conversation_id, channel="chat",
                                            reason="human_requested", cardholder_id=card.cardholder_id).id  # fmt: skip
    person.post("/chat/message", json={"message": "转人工"})
    with sessions() as db:
        handover = db.scalars(select(Handover)).one()
        assert (handover.verified, handover.cardholder_id, handover.task) == (True, card.cardholder_id, "progress")


def test_chat_updates_refuse_bad_input_and_know_nothing_of_other_pages(app):
    person = open_chat_page(app.test_client())
    assert person.get("/chat/updates?after=-1").status_code == 400
    assert person.get("/chat/updates?after=abc").status_code == 400
    assert person.get("/chat/updates").get_json() == {"state": None, "messages": []}


def test_ending_the_chat_leaves_the_queue(app, sessions):
    person = open_chat_page(app.test_client())
    person.post("/chat/message", json={"message": "人工"})
    person.post("/chat/end")
    assert _all(sessions, select(Handover.state)) == ["closed"]


def test_sms_with_staff_replies_go_out_by_sms(app, rasa, sessions, vault):
    first = {**SMS_FORM, "Body": "我要人工", "MessageSid": "SM1"}
    assert "前面还有" in app.test_client().post("/twilio/sms", data=first, headers=signed(first)).get_data(as_text=True)
    (handover,) = _all(sessions, select(Handover))
    li = _staff(app, "li.reviewer")
    _post(li, f"/staff/live/{handover.id}/take", "/staff/live")
    second = {**SMS_FORM, "Body": "请问补卡要多少钱", "MessageSid": "SM2"}
    answer = app.test_client().post("/twilio/sms", data=second, headers=signed(second)).get_data(as_text=True)
    assert "<Message>" not in answer and _said(rasa) == ["我要人工"]
    _post(li, f"/staff/live/{handover.id}/reply", f"/staff/live/{handover.id}", text="补卡费用为20元。")
    sent = _all(sessions, select(OutboundMessage).order_by(OutboundMessage.id))
    assert [(m.kind, vault.decrypt(m.to_cipher)) for m in sent] == [("handover", SMS_FORM["From"])] * 2
    assert [vault.decrypt(m.body_cipher) for m in sent][1] == "补卡费用为20元。"
    assert [m.conversation_id for m in sent] == [handover.conversation_id] * 2
    with sessions() as db:
        texts = [m.text for m in db.scalars(select(LiveMessage).order_by(LiveMessage.id))]
    assert texts[0].startswith("工作人员已接入") and texts[1:] == ["请问补卡要多少钱", "补卡费用为20元。"]


def test_callback_out_of_hours_in_the_console(app, clock, sessions):
    clock.now = SATURDAY_10
    person = open_chat_page(app.test_client())
    say = lambda text: person.post("/chat/message", json={"message": text}).get_json()["replies"]  # noqa: E731
    assert "不是在线人工服务时间" in say("我要人工")[-1]
    assert _all(sessions, select(Handover.state)) == ["callback"]
    assert "无法识别" in say("010-123")[0]
    say("13912345678")
    assert "12月7日（周一）17:00" in say("补卡的事，请下午打来")[0]
    li = _staff(app, "li.reviewer")
    page = li.get("/staff/callbacks").get_data(as_text=True)
    assert "13912345678" not in page and "+86 139******78" in page and "2026-12-07 17:00" in page
    english = li.get("/staff/callbacks?lang=en").get_data(as_text=True)
    assert "Call by" in english and "Show the number to call (audited)" in english
    li.get("/staff/callbacks?lang=zh")
    (callback,) = _all(sessions, select(Callback))
    shown = _post(li, f"/staff/callbacks/{callback.id}/number", "/staff/callbacks").get_data(as_text=True)
    assert "+8613912345678" in shown
    assert "13912345678" not in li.get("/staff/callbacks").get_data(as_text=True)  # shown once, not kept on screen
    _post(li, f"/staff/callbacks/{callback.id}/done", "/staff/callbacks")
    assert "补卡的事" not in li.get("/staff/callbacks").get_data(as_text=True)
    actions = _all(sessions, select(AuditEntry.action).where(AuditEntry.target_type == "callback"))
    assert actions == ["callback_number_shown", "callback_done"]


def test_waiting_too_long_is_offered_a_callback_on_the_page(app, clock):
    person = open_chat_page(app.test_client())
    person.post("/chat/message", json={"message": "人工"})
    clock.now = MONDAY_10 + dt.timedelta(minutes=5)
    updates = person.get("/chat/updates?after=0").get_json()
    assert updates["state"] == "callback" and "暂时没有工作人员能够接入" in updates["messages"][0]["text"]
    assert re.search(
        r"回电号码", person.post("/chat/message", json={"message": "13912345678"}).get_json()["replies"][0]
    )


def test_handover_wait_is_checked_by_config_check():
    assert any("HANDOVER_WAIT_MINUTES" in p for p in setting_problems({"HANDOVER_WAIT_MINUTES": "0"}))
    assert not any("HANDOVER_WAIT_MINUTES" in p for p in setting_problems({"HANDOVER_WAIT_MINUTES": "10"}))
