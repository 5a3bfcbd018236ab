"""Flask app fixtures: the real app over the test database, with Rasa where a test says it is."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.models import Flag, utcnow
from bot.review.accounts import add_staff_user
from bot.review.flags import flag_conversation
from bot.services import report_card_lost
from tests.factories import ID_ZHANG, add_card, save_conversation
from tests.support import PASSWORD, make_web_settings, open_chat_page, sign_in
from webhooks import create_app


@pytest.fixture
def app(settings, sessions):
    return create_app({"WEB": make_web_settings(settings), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def chat_client(client):
    return open_chat_page(client)


# The staff console over a real loss report and a saved conversation (test_staff and its neighbours).
CONVERSATION = "web-5f3a"


@pytest.fixture
def tracker_db(tmp_path):
    db = tmp_path / "tracker.db"
    save_conversation(
        db,
        CONVERSATION,
        [
            ("我的卡丢了", "report_loss", 0.96, "请提供您的身份证号码。"),
            (f"{ID_ZHANG[:6]} {ID_ZHANG[6:14]} {ID_ZHANG[14:]}", "inform", 0.99, "请提供您的姓名。"),
            ("张伟", "inform", 0.93, "确认挂失吗？"),
            ("那啥 电话13912345678打不通咋办", "nlu_fallback", 0.31, "抱歉，我没有听懂。"),
        ],
    )
    return db


@pytest.fixture
def staff_app(settings, sessions, tracker_db):
    web = replace(make_web_settings(settings), tracker_store_url=f"sqlite:///{tracker_db}")
    return create_app({"WEB": web, "TESTING": True})


@pytest.fixture
def flagged(sessions, settings, vault):
    """A real loss report (which flags the conversation), a fallback flag on it, and three voice flags."""
    with sessions.begin() as db:
        add_card(db, vault)
        report, _ = report_card_lost(
            db, settings=settings, id_number=ID_ZHANG, conversation_id=CONVERSATION, channel="chat", now=utcnow()
        )
        fallback = flag_conversation(db, conversation_id=CONVERSATION, channel="chat", reason="nlu_fallback")
        for n in range(3):
            flag_conversation(db, conversation_id=f"call-{n}", channel="voice", reason="human_requested")
        add_staff_user(db, username="li.reviewer", password=PASSWORD, role="reviewer")
        add_staff_user(db, username="wang.admin", password=PASSWORD, role="admin")
        return {
            "loss": db.scalars(select(Flag.id).where(Flag.reason == "loss_reported")).one(),
            "fallback": fallback.id,
            "reference": report.reference,
        }


@pytest.fixture
def reviewer(staff_app, flagged):
    client = staff_app.test_client()
    assert sign_in(client, "li.reviewer").status_code == 302
    return client


@pytest.fixture
def admin(staff_app, flagged):
    client = staff_app.test_client()
    assert sign_in(client, "wang.admin").status_code == 302
    return client
