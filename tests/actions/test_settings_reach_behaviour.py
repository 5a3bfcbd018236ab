"""Each policy setting, set in the environment, changes what the running action server does.

tests/bot/test_config.py checks that a setting is read; these check that it arrives: the action
server's services load it as in production, and a real loss report, unblock or identity check
made through the actions (or the core function they call) follows it, not the default.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from actions.runtime import services
from actions.tasks import ActionConfirmTask, start_task
from actions.verification import idle_too_long
from bot.errors import IdentityLocked, IdentityNotVerified
from bot.models import LossReport, OutboundMessage
from bot.services import check_identity
from tests.factories import ID_ZHANG, add_card
from tests.support import VERIFIED, answering_question, make_tracker, responses


@pytest.fixture
def configure(action_settings, monkeypatch):
    """Set policy variables in the environment and reload the action server's services from it."""

    def apply(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        services.cache_clear()
        return services().settings

    return apply


@pytest.mark.parametrize("days", [3, 10])
async def test_the_validity_days_reach_a_real_loss_report(configure, session, vault, dispatcher, domain, days):
    configure(LOSS_REPORT_VALIDITY_DAYS=str(days))
    add_card(session, vault)
    session.commit()
    await ActionConfirmTask().run(dispatcher, answering_question("loss"), domain)
    assert responses(dispatcher)[0] == "utter_loss_reported"
    report = session.scalars(select(LossReport)).one()
    assert report.expires_at - report.created_at == dt.timedelta(days=days)
    expires = report.expires_at.astimezone(services().settings.timezone)
    assert dispatcher.messages[0]["expires_date"] == f"{expires.year}年{expires.month}月{expires.day}日"
    notice = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "loss_reported")).one()
    assert f"{expires.month}月{expires.day}日" in vault.decrypt(notice.body_cipher)


async def test_self_service_unblock_switched_off_sends_no_code(configure, session, vault, dispatcher, domain):
    configure(SELF_SERVICE_UNBLOCK="false")
    add_card(session, vault)
    session.commit()
    await ActionConfirmTask().run(dispatcher, answering_question("loss"), domain)
    session.expire_all()
    before = session.scalars(select(OutboundMessage.kind)).all()
    session.rollback()
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "unblock"}))
    assert responses(dispatcher)[-1] == "utter_unblock_not_self_service"
    assert session.scalars(select(OutboundMessage.kind)).all() == before == ["loss_reported"]
    assert session.scalars(select(LossReport.state)).all() == ["active"]


def _check(session, settings, conversation: str, name: str, at: dt.datetime):
    return check_identity(
        session, settings=settings, conversation_id=conversation, channel="chat", id_number=ID_ZHANG, now=at, name=name
    )


def test_identity_attempts_and_lockout_follow_the_settings(configure, session, vault):
    settings = configure(IDENTITY_MAX_ATTEMPTS="2", IDENTITY_LOCKOUT_FAILURES="3", IDENTITY_LOCKOUT_MINUTES="10")
    add_card(session, vault)
    now = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(IdentityNotVerified) as caught:
        _check(session, settings, "c1", "李四", now)
    assert caught.value.attempts_left == 1
    with pytest.raises(IdentityLocked):  # the second failure of two allowed ends the attempt
        _check(session, settings, "c1", "李四", now)
    with pytest.raises(IdentityNotVerified):
        _check(session, settings, "c2", "李四", now)
    with pytest.raises(IdentityLocked):  # three failures lock the ID number, for any conversation
        _check(session, settings, "c3", "张伟", now)
    later = now + dt.timedelta(minutes=11)
    assert _check(session, settings, "c4", "张伟", later).holder.name == "张伟"


@pytest.mark.parametrize(("minutes", "idle"), [(2, True), (4, False)])
def test_the_idle_limit_follows_the_setting(configure, minutes, idle):
    configure(VERIFICATION_IDLE_MINUTES=str(minutes))
    events = [
        {"event": "user", "text": "查进度", "timestamp": 1000.0},
        {"event": "user", "text": "好", "timestamp": 1180.0},
    ]
    assert idle_too_long(make_tracker(events=events)) is idle
