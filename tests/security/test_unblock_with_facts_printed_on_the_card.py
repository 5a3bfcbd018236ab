"""Threat: whoever finds or steals a card reads the ID number and the name printed on it, and a
caller ID can be spoofed. Neither may cancel the holder's loss report (解挂): that needs the
one-time code texted to the registered mobile, in the same conversation."""

from __future__ import annotations

from actions.identity import ValidateIdentityForm
from actions.tasks import ActionConfirmTask, start_task
from bot.cards.holders import get_cardholder
from tests.factories import ID_ZHANG, add_card
from tests.support import VERIFIED, answering_question, make_tracker, responses

PHONE = "+8613912345678"


def slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_id_number_name_and_yes_do_not_unblock(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault, phone=PHONE)
    session.commit()
    await ActionConfirmTask().run(dispatcher, answering_question("loss"), domain)
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "unblock"}))
    assert slots(events)["awaiting_confirmation"] == "code"  # not "unblock": no yes is asked for yet
    # The finder says yes anyway, as if asked to confirm.
    await ActionConfirmTask().run(dispatcher, answering_question("unblock"), domain)
    assert "utter_unblock_done" not in responses(dispatcher)
    session.expire_all()
    assert get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card.status == "loss_reported"


async def test_a_spoofed_caller_id_still_needs_the_code(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault, phone=PHONE)
    session.commit()
    await ActionConfirmTask().run(dispatcher, answering_question("loss"), domain)
    voice = {"channel": "voice", "caller": PHONE}  # the registered number, as a spoofer would present it
    tracker = make_tracker(
        {"task": "unblock", "requested_slot": "id_number"}, text=ID_ZHANG, metadata=voice, active_loop="identity_form"
    )
    form = slots(await ValidateIdentityForm().run(dispatcher, tracker, domain))
    assert form["verified_id_number"] == ID_ZHANG  # caller ID verifies identity for reading...
    assert form["awaiting_confirmation"] == "code"  # ...but unblocking still needs the code
    await ActionConfirmTask().run(dispatcher, answering_question("unblock"), domain)
    session.expire_all()
    assert get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card.status == "loss_reported"
