"""Threat: acting on a card with a verification made for someone else.

A verification holds for one card and one visit. Another ID number in the same conversation (a
parent's card, say) gets its own check, never the first person's answer; a goodbye, an ended chat
or a few idle minutes end it, so whoever picks up the device or the phone next starts from nothing.
"""

import pytest

from actions.identity import ValidateIdentityForm
from actions.info import ActionAskTask
from actions.tasks import ActionConfirmTask, start_task
from actions.verification import ActionForgetIdentity, idle_too_long
from tests.factories import ID_WANG, ID_ZHANG, add_card
from tests.support import make_tracker, responses

FORM = ValidateIdentityForm()
VERIFIED = {"verified_id_number": ID_ZHANG, "id_number": ID_ZHANG, "person_name": "张伟", "holder_masked": "张*"}


def slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def turns(*seconds: float, text: str = "查进度") -> list[dict]:
    """User messages at these times (seconds), the last one being the latest."""
    return [{"event": "user", "text": text, "timestamp": t, "input_channel": "signed"} for t in seconds]


async def test_another_id_number_ends_the_verification_and_asks_for_that_name(action_settings, dispatcher, domain):
    tracker = make_tracker(
        {**VERIFIED, "id_number": ID_WANG, "task": "loss"},
        intent="report_loss",
        text=f"我爸的社保卡丢了，帮他挂失，身份证{ID_WANG}",
        entities=[{"entity": "id_number", "value": ID_WANG}],
        active_loop="identity_form",
    )
    changed = slots(await FORM.run(dispatcher, tracker, domain))
    assert changed["verified_id_number"] is None and changed["holder_masked"] is None
    assert changed["person_name"] is None  # nothing in that message is a name: it is asked for
    assert "verified_id_number" not in {k for k, v in changed.items() if v}


async def test_the_same_id_number_again_keeps_the_verification(action_settings, dispatcher, domain):
    tracker = make_tracker({**VERIFIED, "task": "progress"}, intent="check_progress", active_loop="identity_form")
    assert "verified_id_number" not in slots(await FORM.run(dispatcher, tracker, domain))


async def test_nothing_is_told_about_the_other_card_before_its_check(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault)
    add_card(session, vault, id_number=ID_WANG, name="王五", card_number="B00000001")
    session.commit()
    tracker = make_tracker(
        {**VERIFIED, "id_number": ID_WANG, "awaiting_confirmation": "loss"},
        text=f"我妈的身份证 {ID_WANG}",
        entities=[{"entity": "id_number", "value": ID_WANG}],
    )
    changed = slots(await ActionAskTask().run(dispatcher, tracker, domain))
    assert changed["verified_id_number"] is None
    assert changed["awaiting_confirmation"] is None  # a "yes" now cannot report the first card lost
    after = make_tracker({**VERIFIED, **changed, "task": "progress"})
    await start_task(dispatcher, after)
    assert not [r for r in responses(dispatcher) if r.startswith("utter_progress")]


async def test_answers_name_whose_card_it_is(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}))
    (answer,) = [m for m in dispatcher.messages if m.get("response")]  # and the phone's end-of-task marker
    assert answer["holder_masked"] == "张*" and answer["card_number_masked"] == "*****5678"
    assert slots(events)["holder_masked"] == "张*"  # the confirmation's read-back names it too


async def test_goodbye_forgets_everything(dispatcher, domain):
    changed = slots(await ActionForgetIdentity().run(dispatcher, make_tracker({**VERIFIED, "task": "loss"}), domain))
    for slot in ("verified_id_number", "id_number", "person_name", "holder_masked", "task", "identity_locked"):
        assert changed[slot] is None


async def test_idle_minutes_end_the_verification(action_settings, dispatcher, domain):
    stale = make_tracker(
        {**VERIFIED, "task": "progress"}, intent="check_progress", events=turns(0, 6 * 60), active_loop="identity_form"
    )
    changed = slots(await FORM.run(dispatcher, stale, domain))
    assert changed["verified_id_number"] is None and changed["id_number"] is None and changed["person_name"] is None
    assert "task" not in changed  # the request just made is kept: only who it is for is asked again
    fresh = make_tracker({**VERIFIED, "task": "progress"}, events=turns(0, 4 * 60), active_loop="identity_form")
    assert "verified_id_number" not in slots(await FORM.run(dispatcher, fresh, domain))


def test_idle_limit_is_measured_between_the_persons_messages():
    assert idle_too_long(make_tracker(events=turns(100, 100 + 301)), 5)
    assert not idle_too_long(make_tracker(events=turns(100, 100 + 299)), 5)
    assert not idle_too_long(make_tracker(events=turns(100)), 5)


@pytest.mark.parametrize("yes", ["确认", "/affirm"])  # typed, or the chat page's button
async def test_a_yes_after_the_idle_limit_changes_nothing_and_ends_the_verification(
    action_settings, session, vault, dispatcher, domain, yes
):
    card = add_card(session, vault)
    session.commit()
    pending = {**VERIFIED, "task": "loss", "awaiting_confirmation": "loss", "confirmation_reply": "confirmed"}
    form_read_yes = [{"event": "action", "name": "confirmation_form"}]
    late = make_tracker(pending, intent="affirm", text=yes, events=[*turns(0, 6 * 60, text=yes), *form_read_yes])
    changed = slots(await ActionConfirmTask().run(dispatcher, late, domain))
    assert responses(dispatcher) == ["utter_confirmation_expired"]
    assert changed["verified_id_number"] is None and changed["awaiting_confirmation"] is None
    session.refresh(card)
    assert card.status != "loss_reported" and not card.loss_reports
