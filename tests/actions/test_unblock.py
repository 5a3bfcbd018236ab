"""Unblocking by chat, SMS or phone: the one-time code texted to the registered mobile, then a yes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from actions.tasks import ActionConfirmTask, start_task
from actions.unblock import ValidateUnblockCodeForm
from bot.cards.holders import get_cardholder
from bot.models import Flag, OutboundMessage
from tests.factories import ID_ZHANG, add_card
from tests.support import VERIFIED, answering_question, make_tracker, responses

UNBLOCK = {**VERIFIED, "task": "unblock"}
ASKED = {**UNBLOCK, "awaiting_confirmation": "code", "requested_slot": "one_time_code"}


def slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def report_lost(dispatcher, domain) -> None:
    await ActionConfirmTask().run(dispatcher, answering_question("loss"), domain)


def texted_code(session, vault) -> str:
    session.expire_all()
    message = session.scalars(
        select(OutboundMessage).where(OutboundMessage.kind == "code").order_by(OutboundMessage.id.desc())
    ).first()
    code = re.search(r"\d{6}", vault.decrypt(message.body_cipher)).group(0)
    session.rollback()  # end the read, so the action server's writes do not wait on it
    return code


async def answer_code(dispatcher, domain, text: str, *, sender_id: str = "conv-1", metadata=None) -> dict:
    tracker = make_tracker(ASKED, text=text, active_loop="unblock_code_form", sender_id=sender_id, metadata=metadata)
    return slots(await ValidateUnblockCodeForm().run(dispatcher, tracker, domain))


async def test_unblock_asks_for_the_texted_code_then_for_a_yes(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    events = await start_task(dispatcher, make_tracker(UNBLOCK))
    assert responses(dispatcher)[-1] == "utter_code_sent" and slots(events)["awaiting_confirmation"] == "code"
    assert "13912345678" not in str(dispatcher.messages[-1])  # the number is masked
    code = texted_code(session, vault)
    # The right code ends the form, and its validation goes on to ask for the yes.
    assert await answer_code(dispatcher, domain, f"验证码是{code}") == {
        "one_time_code": "accepted",
        "requested_slot": None,
        "awaiting_confirmation": "unblock",
        "holder_masked": "张*",
        "card_number_masked": "*****5678",
    }
    assert responses(dispatcher)[-1] == "utter_unblock_confirm"
    await ActionConfirmTask().run(dispatcher, answering_question("unblock"), domain)
    assert responses(dispatcher)[-2:] == ["utter_unblock_done", None]
    session.expire_all()
    assert get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card.status == "active"
    kinds = session.scalars(select(OutboundMessage.kind).order_by(OutboundMessage.id)).all()
    assert kinds == ["loss_reported", "code", "unblocked"]


async def test_a_yes_without_the_code_changes_nothing(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    await ActionConfirmTask().run(dispatcher, answering_question("unblock"), domain)
    assert responses(dispatcher)[-1] == "utter_code_expired"
    session.expire_all()
    assert get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card.status == "loss_reported"


async def test_three_wrong_codes_end_the_attempt_and_flag_it(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    await start_task(dispatcher, make_tracker(UNBLOCK))
    code = texted_code(session, vault)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert (await answer_code(dispatcher, domain, "好的"))["one_time_code"] is None  # not a code: no try spent
    assert responses(dispatcher)[-1] == "utter_code_format"
    for _ in range(2):
        assert (await answer_code(dispatcher, domain, wrong))["one_time_code"] is None
        assert responses(dispatcher)[-1] == "utter_code_wrong"
    ended = await answer_code(dispatcher, domain, wrong)
    assert responses(dispatcher)[-1] == "utter_code_attempts_exhausted"
    assert ended["task"] is None and ended["requested_slot"] is None
    assert (await answer_code(dispatcher, domain, code))["one_time_code"] is None  # too late for the right one
    session.expire_all()
    assert "identity_failed" in session.scalars(select(Flag.reason)).all()
    assert get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card.status == "loss_reported"


async def test_a_code_is_useless_in_another_conversation(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    await start_task(dispatcher, make_tracker(UNBLOCK))
    code = texted_code(session, vault)
    assert (await answer_code(dispatcher, domain, code, sender_id="conv-2"))["one_time_code"] is None
    assert responses(dispatcher)[-1] == "utter_code_expired"


async def test_keyed_digits_on_the_phone_are_a_code(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    await start_task(dispatcher, make_tracker(UNBLOCK, metadata={"channel": "voice"}))
    code = texted_code(session, vault)
    spoken = "".join("零一二三四五六七八九"[int(d)] for d in code)
    voice = {"channel": "voice"}
    assert (await answer_code(dispatcher, domain, spoken, metadata=voice))["one_time_code"] == "accepted"


async def test_no_mobile_means_the_service_hall(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault, phone="+861062345678")
    session.commit()
    await report_lost(dispatcher, domain)
    events = await start_task(dispatcher, make_tracker(UNBLOCK))
    assert responses(dispatcher)[-1] == "utter_unblock_no_mobile" and slots(events)["task"] is None


@pytest.mark.parametrize(
    "answer",
    [
        "我收不到短信啊 手机号换了",
        "wait I don't have my phone with me. can I do it at the counter?",
        "手机落家里了，现在收不到短信，怎么办",
    ],
)
async def test_a_registered_mobile_out_of_reach_is_sent_to_a_service_hall_and_the_attempt_ends(
    action_settings, session, vault, dispatcher, domain, answer
):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    result = await ValidateUnblockCodeForm().validate_one_time_code(
        answer, dispatcher, make_tracker(ASKED, text=answer), domain
    )
    assert result["one_time_code"] is None and result["task"] is None
    assert responses(dispatcher)[-1] == "utter_code_cannot_reach"


@pytest.mark.parametrize(
    ("answer", "response"),
    [
        ("没收到短信啊", "utter_code_not_received"),
        ("I didn't get any text", "utter_code_not_received"),
        ("验证码在哪", "utter_code_format"),
    ],
)
async def test_a_code_that_has_not_come_is_told_what_to_expect_without_a_try_spent(
    action_settings, session, vault, dispatcher, domain, answer, response
):
    add_card(session, vault)
    session.commit()
    await report_lost(dispatcher, domain)
    result = await ValidateUnblockCodeForm().validate_one_time_code(
        answer, dispatcher, make_tracker(ASKED, text=answer), domain
    )
    assert result == {"one_time_code": None}
    assert responses(dispatcher)[-1] == response
    assert [f.reason for f in session.scalars(select(Flag))] == ["loss_reported"]  # no failed code flagged


@pytest.mark.parametrize(("text", "intent"), [("哦收到了 639043", "goodbye"), ("no wait its 639043", "deny")])
async def test_a_code_in_a_message_read_as_a_goodbye_or_a_no_is_still_the_code(dispatcher, domain, text, intent):
    tracker = make_tracker({"task": "unblock", "requested_slot": "one_time_code"}, intent=intent, text=text)
    assert await ValidateUnblockCodeForm().extract_one_time_code(dispatcher, tracker, domain) == {"one_time_code": text}
    bye = make_tracker({"task": "unblock", "requested_slot": "one_time_code"}, intent="goodbye", text="好的再见")
    assert await ValidateUnblockCodeForm().extract_one_time_code(dispatcher, bye, domain) == {}
