"""Threat: locking the holder out. Five wrong names against a victim's ID number lock it on every
channel, renewably, so the holder could not report a stolen card. A caller on the registered
phone who also gives its last four digits can still report the card lost (and do nothing else)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.identity import ValidateIdentityForm
from actions.runtime import now, service_values, services
from actions.tasks import ActionConfirmTask, start_task
from bot.errors import IdentityNotVerified
from bot.models import LossReport
from bot.services import check_identity
from tests.factories import ID_ZHANG, add_card
from tests.support import make_tracker, responses

FORM = ValidateIdentityForm()
REGISTERED = "+8613912345678"  # add_card's phone; its last four digits are 5678
VOICE = {"channel": "voice", "language": "zh"}


@pytest.fixture
def locked(action_settings, session, vault):
    """An attacker's five wrong names, in five conversations, have locked 张伟's ID number."""
    add_card(session, vault)
    for n in range(5):
        with pytest.raises(IdentityNotVerified):
            check_identity(
                session,
                settings=services().settings,
                conversation_id=f"web-attacker-{n}",
                channel="chat",
                id_number=ID_ZHANG,
                now=now(),
                name="李四",
                client=f"{n:032x}",
            )
    session.commit()


async def test_chat_stays_locked(locked, dispatcher, domain):
    tracker = make_tracker({"id_number": ID_ZHANG}, sender_id="web-owner")
    result = await FORM.validate_person_name("张伟", dispatcher, tracker, domain)
    assert result["identity_locked"] is True and "verified_id_number" not in result


async def test_another_phone_is_refused_at_once(locked, dispatcher, domain):
    tracker = make_tracker(metadata={**VOICE, "caller": "+8613000000000"}, sender_id="call-other")
    result = await FORM.validate_id_number(ID_ZHANG, dispatcher, tracker, domain)
    assert result["identity_locked"] is True
    assert responses(dispatcher) == ["utter_identity_locked"]


async def test_the_registered_phone_alone_is_not_enough_while_locked(locked, dispatcher, domain):
    voice = {**VOICE, "caller": REGISTERED}
    at_id = await FORM.validate_id_number(ID_ZHANG, dispatcher, make_tracker(metadata=voice), domain)
    assert at_id == {"id_number": ID_ZHANG, "verified_id_number": None}  # asked for the last four digits
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata={**VOICE, "caller": "+8613000000000"})
    wrong_phone = await FORM.validate_phone_last4("5678", dispatcher, tracker, domain)
    assert wrong_phone.get("identity_locked") is True  # last four digits alone do not open a lock


async def test_registered_phone_and_last_four_allow_the_loss_report_only(locked, session, dispatcher, domain):
    voice = {**VOICE, "caller": REGISTERED}
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=voice, sender_id="call-owner")
    verified = await FORM.validate_phone_last4("五六七八", dispatcher, tracker, domain)
    assert verified == {"phone_last4": "5678", "verified_id_number": ID_ZHANG, "verified_loss_only": True}
    owner = {"verified_id_number": ID_ZHANG, "verified_loss_only": True}

    for task in ("progress", "unblock"):
        await start_task(dispatcher, make_tracker({**owner, "task": task}, metadata=voice))
        assert responses(dispatcher)[-1] == "utter_identity_locked"
        assert "office" not in dispatcher.messages[-1]  # nothing about the card disclosed
    just_asked = [
        {"event": "action", "name": "identity_form"},
        {"event": "action", "name": "confirmation_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "是"},
        {"event": "action", "name": "confirmation_form"},
    ]
    owner = {**owner, "confirmation_reply": "confirmed"}
    unblock = make_tracker({**owner, "awaiting_confirmation": "unblock"}, intent="affirm", events=just_asked)
    await ActionConfirmTask().run(dispatcher, unblock, domain)
    assert responses(dispatcher)[-1] == "utter_identity_locked"  # nothing new said, nothing done

    await start_task(dispatcher, make_tracker({**owner, "task": "loss"}, metadata=voice))
    assert responses(dispatcher)[-1] == "utter_loss_warning"
    confirm = make_tracker({**owner, "awaiting_confirmation": "loss"}, intent="affirm", events=just_asked)
    await ActionConfirmTask().run(dispatcher, confirm, domain)
    assert "utter_loss_reported" in responses(dispatcher)
    session.expire_all()
    assert [r.state for r in session.scalars(select(LossReport))] == ["active"]


async def test_the_stronger_check_cannot_be_guessed_either(locked, dispatcher, domain):
    voice = {**VOICE, "caller": REGISTERED}
    for n, digits in enumerate(("1111", "2222", "3333")):  # in three calls
        tracker = make_tracker({"id_number": ID_ZHANG}, metadata=voice, sender_id=f"call-{n}")
        assert (await FORM.validate_phone_last4(digits, dispatcher, tracker, domain))["identity_locked"] is True
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=voice, sender_id="call-last")
    assert (await FORM.validate_phone_last4("5678", dispatcher, tracker, domain))["identity_locked"] is True


async def test_the_lock_message_says_for_how_long_and_that_a_loss_can_be_reported_by_phone(action_settings, domain):
    values = service_values(make_tracker())
    minutes = str(action_settings.loss_policy.lock_notice_minutes)
    for variant in domain["responses"]["utter_identity_locked"]:
        text = variant["text"].format(**values)
        on_the_phone = variant.get("channel") == "voice"
        assert minutes in text
        assert (values["hotline"] in text) is not on_the_phone  # a caller on the hotline is not told to call it
        assert ("挂失" in text) or ("report it lost" in text)
