import json

import pytest
from sqlalchemy import select

from actions.runtime import services
from actions.tasks import ActionCancelTask, ActionConfirmTask, ActionDeclineTask, start_task
from bot.cards.holders import describe_cardholder, get_cardholder
from bot.cards.statuses import CardStatus
from bot.models import Flag, LossReport
from tests.factories import ID_ZHANG, add_card
from tests.support import JUST_ASKED, VERIFIED, answering_question, make_tracker, markers, responses


@pytest.mark.parametrize("status", list(CardStatus))
async def test_progress_answer_for_every_status(action_settings, session, vault, dispatcher, domain, status):
    add_card(session, vault, status=status)
    session.commit()
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}))
    message, finished = dispatcher.messages
    assert finished["custom"] == {"task_finished": True}  # the hotline asks whether there is anything else
    assert message["response"] == f"utter_progress_{status.value}"
    assert message["office"] == "朝阳区社保服务大厅"
    assert message["updated_date"] == "2026年3月1日"
    assert {"event": "slot", "name": "task", "value": None, "timestamp": None} in events


def after_answer(response: str, text: str, card: str = "*****5678") -> list[dict]:
    """A follow-up `text` to the bot's previous answer, which included `response` about `card`."""
    return [
        {"event": "user", "text": "查进度"},
        {"event": "bot", "text": "…", "metadata": {"utter_action": response, "card_number_masked": card}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
    ]


@pytest.mark.parametrize("text", ["那还要多久啊", "审核要几天", "how much longer", "大概什么时候能好"])
async def test_how_long_is_answered_once_the_status_was_told(action_settings, session, vault, dispatcher, domain, text):
    add_card(session, vault, status=CardStatus.UNDER_REVIEW)
    session.commit()
    told = after_answer("utter_progress_under_review", text)
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, text=text, events=told))
    assert responses(dispatcher)[0] == "utter_progress_timing"  # not the status again
    dispatcher.messages.clear()
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, text=text))  # asked first
    assert responses(dispatcher)[:2] == ["utter_progress_under_review", "utter_progress_timing"]


async def test_another_follow_up_is_not_told_the_same_status_again(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault, status=CardStatus.READY_FOR_PICKUP)
    session.commit()
    told = after_answer("utter_progress_ready_for_pickup", "那个窗口人多吗")
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=told))
    assert responses(dispatcher)[0] == "utter_progress_nothing_more"
    dispatcher.messages.clear()
    proxy = after_answer("utter_progress_ready_for_pickup", "可以让我儿子代领吗")
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=proxy))
    assert responses(dispatcher)[0] == "utter_proxy"  # where that is settled, not "that is all I see"
    dispatcher.messages.clear()
    second = [*after_answer("utter_progress_ready_for_pickup", "多久"), {"event": "bot", "text": "…"},
              {"event": "user", "text": "需要预约吗"}]  # fmt: skip
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=second))
    assert responses(dispatcher)[0] == "utter_progress_nothing_more"  # nor after another follow-up
    dispatcher.messages.clear()
    where = after_answer("utter_progress_ready_for_pickup", "在哪里领？要带什么")
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=where))
    assert responses(dispatcher)[0] == "utter_progress_ready_for_pickup"  # which names the office and what to bring
    dispatcher.messages.clear()
    theirs = after_answer("utter_progress_ready_for_pickup", "我老婆的也查一下", card="*****9999")
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=theirs))
    assert responses(dispatcher)[0] == "utter_progress_ready_for_pickup"  # another card in the same state
    dispatcher.messages.clear()
    other = after_answer("utter_replace_card", "那我的卡呢")  # a status not told lately is told
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=other))
    assert responses(dispatcher)[0] == "utter_progress_ready_for_pickup"


async def test_nothing_is_disclosed_without_verification(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    await start_task(dispatcher, make_tracker({"id_number": ID_ZHANG, "task": "progress"}))
    assert dispatcher.messages == []


async def test_loss_report_is_asked_then_made_and_read_back(action_settings, session, vault, dispatcher, domain):
    card = add_card(session, vault)
    session.commit()
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "loss"}))
    assert responses(dispatcher) == ["utter_loss_warning"]
    assert dispatcher.messages[0]["card_number_masked"] == "*****5678"
    assert events[-1]["name"] == "awaiting_confirmation" and events[-1]["value"] == "loss"
    assert session.scalars(select(LossReport)).all() == []
    session.commit()  # end the read: on SQLite an open transaction holds the write lock

    confirm = answering_question("loss")
    await ActionConfirmTask().run(dispatcher, confirm, domain)
    reply, marker, finished = dispatcher.messages[-3:]
    assert reply["response"] == "utter_loss_reported"
    assert marker["custom"] == {"loss_reference": reply["reference"], "created": True}
    assert finished["custom"] == {"task_finished": True}
    session.expire_all()
    stored = describe_cardholder(
        get_cardholder(session, vault=vault, id_number=ID_ZHANG), vault=vault, tz=action_settings.timezone
    )
    assert reply["reference"] == stored["loss_reports"][0]["reference"]
    assert stored["status"] == "loss_reported"
    assert reply["expires_date"].endswith("日")
    flags = session.scalars(select(Flag)).all()
    report_id = session.scalars(select(LossReport.id)).one()
    assert [(f.reason, f.loss_report_id, f.cardholder_id) for f in flags] == [
        ("loss_reported", report_id, card.cardholder_id)
    ]


async def test_confirming_twice_returns_the_same_reference(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    confirm = answering_question("loss")
    await ActionConfirmTask().run(dispatcher, confirm, domain)
    await ActionConfirmTask().run(dispatcher, confirm, domain)
    first, second = [m for m in dispatcher.messages if m["response"]]
    assert (first["response"], second["response"]) == ("utter_loss_reported", "utter_loss_already_reported")
    # The web app counts created reports by this mark: the second answer must not count again.
    assert [m["custom"]["created"] for m in dispatcher.messages if "created" in m["custom"]] == [True, False]
    assert first["reference"] == second["reference"]
    assert len(session.scalars(select(LossReport)).all()) == 1


@pytest.mark.parametrize(
    ("status", "response"),
    [(CardStatus.SHIPPED, "utter_loss_not_held"), (CardStatus.LOST, "utter_loss_already_closed")],
)
async def test_loss_report_refused_when_not_possible(
    action_settings, session, vault, dispatcher, domain, status, response
):
    add_card(session, vault, status=status)
    session.commit()
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "loss"}))
    assert responses(dispatcher) == [response]
    assert all(e["name"] != "awaiting_confirmation" or e["value"] is None for e in events)


@pytest.mark.parametrize(
    ("reply", "response"), [("declined", "utter_nothing_changed"), ("unanswered", "utter_confirmation_stopped")]
)
async def test_decline_changes_nothing_and_remembers_what_was_declined(
    action_settings, session, vault, dispatcher, domain, reply, response
):
    card = add_card(session, vault)
    session.commit()
    tracker = make_tracker({**VERIFIED, "awaiting_confirmation": "loss", "confirmation_reply": reply})
    events = await ActionDeclineTask().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [response, None]
    assert markers(dispatcher) == [{"task_finished": True}]
    slots = {e["name"]: e["value"] for e in events}
    assert slots["declined_task"] == "loss" and slots["awaiting_confirmation"] is None
    assert slots["confirmation_reply"] is None
    session.expire_all()
    assert session.get(type(card), card.id).status == "active"


async def test_a_stale_yes_confirms_nothing(action_settings, session, vault, dispatcher, domain):
    """A ``confirmed`` left behind (the write failed) is not a yes to the latest message."""
    add_card(session, vault)
    session.commit()
    stale = [*JUST_ASKED, {"event": "action", "name": "action_listen"}, {"event": "user", "text": "不要"}]
    await ActionConfirmTask().run(dispatcher, answering_question("loss", stale), domain)
    assert responses(dispatcher) == ["utter_ask_what_task"]
    assert session.scalars(select(LossReport)).all() == []


async def test_unblock_without_report_or_when_switched_off(
    action_settings, session, vault, dispatcher, domain, monkeypatch
):
    add_card(session, vault)
    session.commit()
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "unblock"}))
    # The card's state, and for a working card where else the trouble may lie ("帮我解冻, 药店刷不了").
    assert responses(dispatcher) == [
        "utter_unblock_no_active_report",
        "utter_progress_active",
        "utter_active_card_refused_elsewhere",
    ]
    dispatcher.messages.clear()
    confirm_loss = answering_question("loss")
    await ActionConfirmTask().run(dispatcher, confirm_loss, domain)
    monkeypatch.setenv("SELF_SERVICE_UNBLOCK", "false")
    services.cache_clear()
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "unblock"}))
    assert responses(dispatcher)[-1] == "utter_unblock_not_self_service"


async def test_cancel_forgets_the_task(dispatcher, domain):
    events = await ActionCancelTask().run(dispatcher, make_tracker({"task": "loss", "id_number": ID_ZHANG}), domain)
    assert responses(dispatcher) == ["utter_task_cancelled", None]
    assert {e["name"]: e["value"] for e in events} == {
        "task": None,
        "awaiting_confirmation": None,
        "one_time_code": None,
        "confirmation_reply": None,
        "unclear_replies": None,
        "id_number": None,
        "person_name": None,
        "requested_slot": None,
    }


async def test_reference_never_shown_when_the_write_fails(settings, monkeypatch, dispatcher, domain):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("ID_HASH_KEY", settings.id_hash_key)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", settings.data_encryption_key)
    services.cache_clear()
    confirm = answering_question("loss")
    await ActionConfirmTask().run(dispatcher, confirm, domain)
    services.cache_clear()
    assert responses(dispatcher) == ["utter_service_unavailable"]
    assert "reference" not in json.dumps(dispatcher.messages)


async def test_a_yes_after_moving_on_confirms_nothing(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    moved_on = [
        {"event": "action", "name": "identity_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "补卡要多少钱"},
        {"event": "action", "name": "action_answer_info"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "好的"},
    ]
    await ActionConfirmTask().run(dispatcher, answering_question("loss", moved_on), domain)
    assert responses(dispatcher) == ["utter_ask_what_task"]
    assert session.scalars(select(LossReport)).all() == []


async def test_a_goodbye_at_the_confirmation_changes_nothing_and_ends_the_conversation(
    action_settings, session, vault, dispatcher, domain
):
    card = add_card(session, vault)
    session.commit()
    slots = {**VERIFIED, "awaiting_confirmation": "loss", "confirmation_reply": "declined"}
    events = await ActionDeclineTask().run(dispatcher, make_tracker(slots, intent="goodbye", text="再见"), domain)
    assert responses(dispatcher) == ["utter_nothing_changed", "utter_goodbye", None]
    assert markers(dispatcher) == [{"conversation_over": True}]
    assert {e["name"]: e["value"] for e in events}["verified_id_number"] is None
    session.expire_all()
    assert session.get(type(card), card.id).status == "active"


async def test_unblocking_a_formally_lost_card_says_so_plainly(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault, status=CardStatus.LOST)
    session.commit()
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "unblock"}))
    assert responses(dispatcher) == ["utter_unblock_formally_lost"]
    assert {"event": "slot", "name": "task", "value": None, "timestamp": None} in events


@pytest.mark.parametrize("text", ["银行那边也要挂吗", "does this block the bank part too?"])
async def test_the_bank_side_of_a_loss_report_is_answered_first(
    action_settings, session, vault, dispatcher, domain, text
):
    add_card(session, vault)
    session.commit()
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "loss"}, text=text))
    assert responses(dispatcher)[:2] == ["utter_loss_bank_side", "utter_loss_warning"]


async def test_a_no_the_classifier_calls_a_goodbye_declines_without_ending_the_conversation(
    action_settings, dispatcher, domain
):
    slots = {**VERIFIED, "awaiting_confirmation": "loss", "confirmation_reply": "declined"}
    events = await ActionDeclineTask().run(
        dispatcher, make_tracker(slots, intent="goodbye", text="maybe later"), domain
    )
    assert responses(dispatcher) == ["utter_nothing_changed", None]  # and the task is marked finished
    assert "verified_id_number" not in {e["name"] for e in events}


@pytest.mark.parametrize(
    ("status", "text", "told"),
    [
        (CardStatus.LOSS_REPORTED, "我没挂过啊 谁挂的", True),
        (CardStatus.LOST, "I never reported it lost, who did this?", True),
        (CardStatus.LOSS_REPORTED, "查一下我的卡", False),
        (CardStatus.ACTIVE, "我没挂失啊 卡怎么用不了", False),  # no report to have been made by someone else
    ],
)
async def test_a_loss_report_the_person_did_not_make_is_told_to_call_at_once(
    action_settings, session, vault, dispatcher, domain, status, text, told
):
    add_card(session, vault, status=status)
    session.commit()
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, text=text))
    assert ("utter_loss_not_by_you" in responses(dispatcher)) is told


def asked_then_verified(request: str) -> list[dict]:
    """`request` set the task; the ID number and name that verified the person came after it."""
    return [
        {"event": "user", "text": request},
        {"event": "slot", "name": "task", "value": "progress"},
        {"event": "bot", "text": "…"},
        {"event": "user", "text": "320102198605257079 赵敏"},
    ]


@pytest.mark.parametrize(
    ("status", "request_text", "advised"),
    [
        (CardStatus.ACTIVE, "卡用不了了", True),
        (CardStatus.ACTIVE, "the pharmacy says my card is blocked", True),
        (CardStatus.ACTIVE, "查一下我的卡", False),  # nothing refused: the state is the answer
        (CardStatus.LOSS_REPORTED, "卡用不了了", False),  # the loss report is why, and the state says so
    ],
)
async def test_a_working_card_refused_somewhere_is_told_where_else_the_trouble_may_lie(
    action_settings, session, vault, dispatcher, domain, status, request_text, advised
):
    add_card(session, vault, status=status)
    session.commit()
    tracker = make_tracker({**VERIFIED, "task": "progress"}, events=asked_then_verified(request_text))
    await start_task(dispatcher, tracker)
    assert responses(dispatcher)[0] == f"utter_progress_{status.value}"
    assert ("utter_active_card_refused_elsewhere" in responses(dispatcher)) is advised


async def test_what_the_request_said_is_answered_when_the_details_came_after_it(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault, status=CardStatus.LOSS_REPORTED)
    session.commit()
    tracker = make_tracker({**VERIFIED, "task": "progress"}, events=asked_then_verified("提示卡已挂失，可我从来没挂过"))
    await start_task(dispatcher, tracker)
    assert responses(dispatcher)[:2] == ["utter_progress_loss_reported", "utter_loss_not_by_you"]


async def test_a_refusal_after_the_state_was_told_hears_where_else_the_trouble_may_lie(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault, status=CardStatus.ACTIVE)
    session.commit()
    told = after_answer("utter_progress_active", "My card was refused at a clinic though, why?")
    await start_task(dispatcher, make_tracker({**VERIFIED, "task": "progress"}, events=told))
    assert responses(dispatcher)[0] == "utter_active_card_refused_elsewhere"  # not the state again, nor "that is all"


async def test_the_bank_side_asked_right_after_an_unblock_starts_no_loss_report(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault, status=CardStatus.ACTIVE)
    session.commit()
    told = after_answer("utter_unblock_done", "好的 那银行那边的挂失也一起解了吗")
    events = await start_task(dispatcher, make_tracker({**VERIFIED, "task": "loss"}, events=told))
    assert responses(dispatcher) == ["utter_unblock_bank_side", None]  # and the task is marked finished
    assert not any(e["name"] == "awaiting_confirmation" and e["value"] for e in events)
