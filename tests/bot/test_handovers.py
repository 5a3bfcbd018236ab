"""Live handovers: the queue, exclusive taking, staff replies, timeouts and callback requests."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.handover.live import (
    HandoverError,
    HandoverPolicy,
    HandoverRequest,
    StaffHours,
    any_overdue,
    callback_done,
    close,
    expire_waiting,
    hand_back,
    is_with_staff,
    person_turn,
    person_updates,
    purge_handovers,
    show_callback_number,
    staff_reply,
    start_handover,
    take,
    wants_out,
)
from bot.models import AuditEntry, Callback, Handover, LiveMessage, OutboundMessage
from bot.review.accounts import add_staff_user
from bot.review.queue import Reviewer
from tests.factories import outbox_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = StaffHours(dt.time(9), dt.time(17), SHANGHAI)
POLICY = HandoverPolicy(hours=HOURS, wait=dt.timedelta(minutes=5))
# Monday 30 November 2026, 10:00 in Shanghai; and the Saturday after at 10:00.
MONDAY_10 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)
SATURDAY_10 = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def staff(session) -> tuple[Reviewer, Reviewer]:
    users = [add_staff_user(session, username=n, password="a long password 1", role="reviewer") for n in ("li", "wu")]
    session.commit()
    return tuple(Reviewer(u.id, u.username, u.role) for u in users)


def _start(session, conversation_id="web-1", *, now=MONDAY_10, channel="chat", reply_to=None, language="zh"):
    return start_handover(
        session, conversation_id=conversation_id, channel=channel, request=HandoverRequest(language=language),
        policy=POLICY, now=now, reply_to=reply_to,
    )  # fmt: skip


def _say(session, vault, text_, conversation_id="web-1", now=MONDAY_10):
    return person_turn(
        session, conversation_id=conversation_id, text=text_, policy=POLICY, outbox=outbox_for(vault), now=now
    )


def test_staff_hours_and_callback_due_times():
    assert HOURS.open_at(MONDAY_10)
    assert not HOURS.open_at(SATURDAY_10)
    assert not HOURS.open_at(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc))  # 17:00 local: closed
    local = lambda moment: HOURS.callback_due(moment).astimezone(SHANGHAI)  # noqa: E731
    assert local(MONDAY_10) == dt.datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI)  # today, before closing
    late = dt.datetime(2026, 11, 30, 8, 30, tzinfo=dt.timezone.utc)  # 16:30: too late to promise today
    assert local(late) == dt.datetime(2026, 12, 1, 17, 0, tzinfo=SHANGHAI)
    assert local(SATURDAY_10) == dt.datetime(2026, 12, 7, 17, 0, tzinfo=SHANGHAI)  # the next Monday


def test_in_hours_the_person_waits_and_is_told_where_in_line(session, vault):
    (first,) = _start(session, "web-1")
    (second,) = _start(session, "web-2")
    assert "前面还有 0 位" in first and "前面还有 1 位" in second and "5 分钟" in first
    assert _start(session, "web-2") == [_say(session, vault, "还有人吗？", "web-2")[0]]  # asking again: no new place
    english = _start(session, "web-3", language="en")[0]
    assert "2 ahead of you" in english
    assert session.scalar(select(Handover.state).where(Handover.conversation_id == "web-1")) == "waiting"


def test_one_open_handover_per_conversation_is_a_database_fact(session):
    _start(session, "web-1")
    session.add(Handover(conversation_id="web-1", channel="chat", state="taken", reason="human_requested",
                         language="zh", verified=False, created_at=MONDAY_10))  # fmt: skip
    with pytest.raises(Exception, match="UNIQUE|unique"):
        session.flush()


def test_two_reviewers_racing_never_both_hold_it(sessions, staff, vault):
    with sessions.begin() as session:
        _start(session)
        handover_id = session.scalar(select(Handover.id))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def race(reviewer: Reviewer) -> None:
        barrier.wait()
        try:
            with sessions.begin() as session:
                take(session, handover_id=handover_id, by=reviewer, outbox=outbox_for(vault), now=MONDAY_10)
            outcomes[reviewer.username] = "took"
        except HandoverError as error:
            outcomes[reviewer.username] = error.code

    threads = [threading.Thread(target=race, args=(r,)) for r in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["not_waiting", "took"]
    with sessions() as session:
        handover = session.get(Handover, handover_id)
        winner = next(name for name, outcome in outcomes.items() if outcome == "took")
        assert (handover.state, handover.taken_by) == ("taken", winner)
        taken = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "handover_taken")).all()
        assert taken == [f"staff:{winner}"]


def test_taken_conversation_goes_to_staff_only_and_back_to_the_bot(session, staff, vault):
    li, wu = staff
    outbox = outbox_for(vault)
    _start(session)
    handover_id = session.scalar(select(Handover.id))
    take(session, handover_id=handover_id, by=li, outbox=outbox, now=MONDAY_10)
    assert _say(session, vault, "我的卡号是多少？") == []  # kept for staff, nothing from the bot
    with pytest.raises(HandoverError) as refused:
        staff_reply(session, handover_id=handover_id, by=wu, text="我来", outbox=outbox, now=MONDAY_10)
    assert refused.value.code == "not_yours"
    with pytest.raises(HandoverError) as empty:
        staff_reply(session, handover_id=handover_id, by=li, text="   ", outbox=outbox, now=MONDAY_10)
    assert empty.value.code == "reply_empty"
    staff_reply(
        session, handover_id=handover_id, by=li, text="您好，我是李，请问有什么可以帮您？", outbox=outbox, now=MONDAY_10
    )
    updates = person_updates(session, conversation_id="web-1", after=0)
    assert updates["state"] == "taken"
    assert [m["from"] for m in updates["messages"]] == ["system", "staff"]  # the person's own lines are not echoed
    assert "工作人员已接入" in updates["messages"][0]["text"]
    after = updates["messages"][-1]["id"]
    hand_back(session, handover_id=handover_id, by=li, outbox=outbox, now=MONDAY_10)
    assert _say(session, vault, "查进度") is None  # the bot answers again
    later = person_updates(session, conversation_id="web-1", after=after)
    assert later["state"] == "handed_back" and "交回智能助手" in later["messages"][0]["text"]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "staff:li")).all()
    assert actions == ["handover_taken", "handover_reply", "handover_handed_back"]
    assert session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "handover_reply")).all() == ["staff:li"]


def test_what_people_and_staff_write_is_stored_encrypted(session, staff, vault):
    _start(session)
    _say(session, vault, "我叫张伟，手机13912345678")
    session.flush()
    stored = " ".join(session.execute(text("SELECT text_cipher FROM handover_messages")).scalars())
    assert "张伟" not in stored and "13912345678" not in stored
    assert session.scalars(select(LiveMessage)).one().text == "我叫张伟，手机13912345678"


def test_closing_and_leaving(session, staff, vault):
    li, wu = staff
    outbox = outbox_for(vault)
    _start(session, "web-1")
    _start(session, "web-2")
    first, second = session.scalars(select(Handover).order_by(Handover.id)).all()
    close(session, handover_id=first.id, by=wu, outbox=outbox, now=MONDAY_10)  # anyone may close a waiting one
    assert first.state == "closed"
    take(session, handover_id=second.id, by=li, outbox=outbox, now=MONDAY_10)
    with pytest.raises(HandoverError):
        close(session, handover_id=second.id, by=wu, outbox=outbox, now=MONDAY_10)  # not wu's
    admin = Reviewer(wu.id, wu.username, "admin")
    with pytest.raises(HandoverError):
        hand_back(session, handover_id=second.id, by=admin, outbox=outbox, now=MONDAY_10)
    close(session, handover_id=second.id, by=admin, outbox=outbox, now=MONDAY_10)  # one left held
    assert second.state == "closed"
    with pytest.raises(HandoverError):
        take(session, handover_id=second.id, by=wu, outbox=outbox, now=MONDAY_10)  # closed now
    _start(session, "web-3")
    assert "已退出人工服务" in _say(session, vault, "取消", "web-3")[0]
    assert _say(session, vault, "查进度", "web-3") is None


def test_each_turn_asks_cheaply_whether_staff_have_the_conversation(session, staff, vault):
    li, _ = staff
    _start(session, "web-1")
    _start(session, "web-2")
    waiting, held = session.scalars(select(Handover).order_by(Handover.id)).all()
    take(session, handover_id=held.id, by=li, outbox=outbox_for(vault), now=MONDAY_10)
    close(session, handover_id=waiting.id, by=li, outbox=outbox_for(vault), now=MONDAY_10)
    connection = session.connection()
    assert [is_with_staff(connection, c) for c in ("web-1", "web-2", "web-3")] == [False, True, False]


def test_nobody_taking_it_in_time_offers_a_callback(session, vault):
    _start(session, "sms-abc", channel="sms", reply_to="+8613912345678")
    outbox = outbox_for(vault)
    early, due = MONDAY_10 + dt.timedelta(minutes=4), MONDAY_10 + dt.timedelta(minutes=5)
    assert not any_overdue(session, policy=POLICY, now=early)
    assert expire_waiting(session, policy=POLICY, outbox=outbox, now=early) == 0
    assert any_overdue(session, policy=POLICY, now=due, conversation_id="sms-abc")
    assert not any_overdue(session, policy=POLICY, now=due, conversation_id="web-other")
    assert expire_waiting(session, policy=POLICY, outbox=outbox, now=due, conversation_id="web-other") == 0
    assert expire_waiting(session, policy=POLICY, outbox=outbox, now=due) == 1
    assert session.scalar(select(Handover.state)) == "callback"
    (sms,) = session.scalars(select(OutboundMessage)).all()  # an SMS conversation is told by SMS
    assert (sms.kind, vault.decrypt(sms.to_cipher)) == ("handover", "+8613912345678")
    assert "暂时没有工作人员能够接入" in vault.decrypt(sms.body_cipher)


def test_a_message_after_the_wait_is_not_read_as_an_answer_to_the_offer_it_never_saw(session, vault):
    _start(session)
    later = MONDAY_10 + dt.timedelta(minutes=6)
    assert _say(session, vault, "还在吗", now=later) == []
    assert session.scalar(select(Handover.state)) == "callback"
    updates = person_updates(session, conversation_id="web-1", after=0)
    assert "暂时没有工作人员能够接入" in updates["messages"][0]["text"]
    assert "139******78" in _say(session, vault, "13912345678", now=later)[0]


def test_out_of_hours_callback_request(session, vault):
    (offer,) = _start(session, now=SATURDAY_10)
    assert "不是在线人工服务时间" in offer and "工作日 09:00-17:00" in offer
    assert "无法识别" in _say(session, vault, "12345", now=SATURDAY_10)[0]
    assert "无法识别" in _say(session, vault, "320102198503121015", now=SATURDAY_10)[0]  # an ID number is no phone
    assert "139******78" in _say(session, vault, "139 1234 5678", now=SATURDAY_10)[0]
    assert "精简" in _say(session, vault, "长" * 201, now=SATURDAY_10)[0]
    (booked,) = _say(session, vault, "想问补卡要带什么材料", now=SATURDAY_10)
    assert "12月7日（周一）17:00" in booked and "节假日顺延" in booked and "139******78" in booked
    callback = session.scalars(select(Callback)).one()
    assert (callback.phone, callback.note, callback.status) == ("+8613912345678", "想问补卡要带什么材料", "open")
    assert callback.due_at == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)
    stored = session.execute(text("SELECT phone_cipher || note_cipher FROM callbacks")).scalar()
    assert "13912345678" not in stored and "补卡" not in stored
    assert session.scalar(select(Handover.state)) == "closed"
    assert _say(session, vault, "我的卡丢了", now=SATURDAY_10) is None  # the bot is back


@pytest.mark.parametrize("text", ["不用回电了 我自己打12333", "no need, I'll ring 12333 myself"])
def test_a_callback_declined_beside_a_number_that_is_not_theirs_declines_it(session, vault, text):
    _start(session, now=SATURDAY_10)
    assert _say(session, vault, text, now=SATURDAY_10) is None  # the bot answers; no "that is not a number"
    assert session.scalar(select(Handover.state)) == "closed"


def test_no_number_declines_the_callback_offer_and_the_bot_answers(session, vault):
    _start(session, now=SATURDAY_10)
    assert _say(session, vault, "那我先查一下进度", now=SATURDAY_10) is None
    assert session.scalar(select(Handover.state)) == "closed"
    _start(session, "web-3", now=SATURDAY_10)  # a stop with details in it: the bot answers them
    assert _say(session, vault, "算了 不用了 我自己查吧 320102199007072028 王芳", "web-3", now=SATURDAY_10) is None
    _start(session, "web-2", now=SATURDAY_10)
    (asked,) = _say(session, vault, "我的电话是一三九一二三四五六七八", "web-2", now=SATURDAY_10)
    assert "139******78" in asked


def test_callback_number_is_shown_to_staff_only_audited_and_done_once(session, staff, vault):
    li, _ = staff
    _start(session, now=SATURDAY_10)
    _say(session, vault, "13912345678", now=SATURDAY_10)
    _say(session, vault, "call me", now=SATURDAY_10)
    callback_id = session.scalar(select(Callback.id))
    assert show_callback_number(session, callback_id=callback_id, by=li) == "+8613912345678"
    callback_done(session, callback_id=callback_id, by=li, now=MONDAY_10)
    with pytest.raises(HandoverError):
        callback_done(session, callback_id=callback_id, by=li, now=MONDAY_10)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "staff:li")).all()
    assert actions == ["callback_number_shown", "callback_done"]


def test_retention_deletes_what_ended_before_the_cutoff_and_keeps_open_ones(session, staff, vault):
    li, _ = staff
    outbox = outbox_for(vault)
    _start(session, "web-old")
    _say(session, vault, "还在吗", "web-old")
    old = session.scalar(select(Handover.id).where(Handover.conversation_id == "web-old"))
    take(session, handover_id=old, by=li, outbox=outbox, now=MONDAY_10)
    close(session, handover_id=old, by=li, outbox=outbox, now=MONDAY_10)
    _start(session, "web-open")  # still waiting: kept however old
    _start(session, "web-cb", now=SATURDAY_10)
    _say(session, vault, "13912345678", "web-cb", now=SATURDAY_10)
    _say(session, vault, "please call", "web-cb", now=SATURDAY_10)
    callback_done(session, callback_id=session.scalar(select(Callback.id)), by=li, now=SATURDAY_10)
    assert purge_handovers(session, before=MONDAY_10) == 0
    assert purge_handovers(session, before=SATURDAY_10 + dt.timedelta(days=1)) == 3  # two handovers, one callback
    assert session.scalars(select(Handover.conversation_id)).all() == ["web-open"]
    assert session.scalars(select(LiveMessage)).all() == []


@pytest.mark.parametrize(
    "words", ["算了不等了", "不等了！", "Forget it", "stop waiting", "算了 取消吧", "never mind, cancel", "不用了谢谢"]
)
def test_the_ways_people_say_they_will_not_wait_leave_the_queue(session, vault, words):
    _start(session, "web-leave")
    assert "已退出人工服务" in _say(session, vault, words, "web-leave")[0]
    assert _say(session, vault, "我要挂失", "web-leave") is None  # the assistant has the conversation again


@pytest.mark.parametrize("words", ["我想取消挂失", "谢谢", "thanks", "cancel my loss report please"])
def test_a_message_with_more_in_it_than_leaving_is_for_staff(session, vault, words):
    _start(session, "web-stay")
    assert not any("已退出人工服务" in reply for reply in _say(session, vault, words, "web-stay"))


def test_a_long_message_of_words_that_split_two_ways_is_read_in_one_pass():
    # "算了吧" is 算了吧, or 算了 + 吧: a message of 480 such characters is answered, whatever follows.
    assert wants_out("算了吧" * 160)
    assert not wants_out("算了吧" * 160 + "我的卡丢了")
