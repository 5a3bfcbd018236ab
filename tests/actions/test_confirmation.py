"""The confirmation step: every reply to a pending loss report or unblock is read in one place."""

import pytest

from actions.confirmation import (
    ActionAskConfirmationReply,
    ActionReconsider,
    ValidateConfirmationForm,
)
from actions.handover import misses_in_a_row
from bot.contract import CONVERSATION_OVER, TASK_FINISHED
from tests.factories import ID_ZHANG
from tests.support import make_tracker, responses

VERIFIED = {"verified_id_number": ID_ZHANG}


def asked(pending: str, text: str, intent: str, confidence: float = 0.99, unclear: int = 0):
    """A reply while confirmation_form asks to confirm `pending`."""
    slots = {
        **VERIFIED,
        "awaiting_confirmation": pending,
        "requested_slot": "confirmation_reply",
        "unclear_replies": unclear or None,
    }
    tracker = make_tracker(slots, intent=intent, text=text, active_loop="confirmation_form")
    tracker.latest_message["intent"]["confidence"] = confidence
    return tracker


async def read(tracker, dispatcher, domain) -> dict:
    events = await ValidateConfirmationForm().run(dispatcher, tracker, domain)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


# Negations, hesitations and postponements, however the classifier labelled them.
NOT_YES = [
    ("唔好住，我再搵下", "affirm"),  # Cantonese
    ("唔使喇", "affirm"),
    ("不得行，莫挂", "affirm"),  # Sichuanese
    ("要不得", "affirm"),
    ("先别办，我再找找看", "report_loss"),
    ("等一下，我问问我女儿", "out_of_scope"),
    ("暂时不用了", "nlu_fallback"),
    ("还没想好", "inform"),
    ("hold on, let me check my bag first", "affirm"),
    ("not yet", "affirm"),
    ("forget it for now", "out_of_scope"),
    ("maybe tomorrow", "nlu_fallback"),
    ("2", "inform"),  # keypad 2 on the phone
]


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize(("text", "intent"), NOT_YES)
async def test_no_negation_or_hesitation_ever_confirms(dispatcher, domain, pending, text, intent):
    slots = await read(asked(pending, text, intent), dispatcher, domain)
    assert slots.get("confirmation_reply") in {"declined", None}
    assert slots.get("confirmation_reply") != "confirmed"


@pytest.mark.parametrize(
    ("pending", "text", "intent"),
    [
        ("loss", "是的，办吧", "report_loss"),  # a yes that restates the task
        ("loss", "对，帮我挂失", "report_loss"),
        ("loss", "yes, block it", "report_loss"),
        ("unblock", "好的，解挂吧", "cancel_loss"),
        ("loss", "确认", "affirm"),
        ("loss", "没找到，挂吧", "report_loss"),  # not finding it is no no
        ("unblock", "1", "inform"),  # keypad 1 on the phone
        ("loss", "/affirm", "affirm"),  # the chat page's yes button
        ("unblock", "/affirm", "affirm"),
    ],
)
async def test_a_clear_yes_confirms(dispatcher, domain, pending, text, intent):
    assert (await read(asked(pending, text, intent), dispatcher, domain))["confirmation_reply"] == "confirmed"


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize("text", ["不要", "/deny"])  # typed, or the chat page's no button
async def test_a_plain_no_declines(dispatcher, domain, pending, text):
    assert (await read(asked(pending, text, "deny"), dispatcher, domain))["confirmation_reply"] == "declined"


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize("text", ["转人工", "我想跟工作人员说", "不了，给我转人工吧", "can I talk to a real person"])
async def test_staff_asked_for_instead_of_an_answer_is_neither_yes_nor_unclear(dispatcher, domain, pending, text):
    assert (await read(asked(pending, text, "request_human"), dispatcher, domain))["confirmation_reply"] == "human"


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize("text", ["等一下", "嗯 我想想", "hold on let me check my bag", "wait a sec"])
async def test_a_pause_keeps_the_change_waiting_for_the_answer(dispatcher, domain, pending, text):
    slots = await read(asked(pending, text, "deny"), dispatcher, domain)
    assert slots.get("confirmation_reply") is None and not slots.get("unclear_replies")  # neither a no nor unclear
    assert responses(dispatcher) == ["utter_confirm_when_ready"]


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize(
    "text", ["等等，我再找找", "先别解，我再想想", "wait, not yet", "wait, let me look again first"]
)
async def test_a_pause_with_a_no_in_it_declines(dispatcher, domain, pending, text):
    assert (await read(asked(pending, text, "deny"), dispatcher, domain))["confirmation_reply"] == "declined"


async def test_unclear_replies_are_asked_again_twice_then_the_step_stops(dispatcher, domain):
    first = await read(asked("loss", "我的卡", "inform"), dispatcher, domain)  # (a question is answered instead)
    assert first == {"confirmation_reply": None, "unclear_replies": 1}
    low = await read(asked("loss", "好的", "affirm", confidence=0.4, unclear=1), dispatcher, domain)
    assert low == {"confirmation_reply": None, "unclear_replies": 2}
    third = await read(asked("loss", "嗯……", "nlu_fallback", unclear=2), dispatcher, domain)
    assert third["confirmation_reply"] == "unanswered"


async def test_the_message_that_started_the_form_is_not_an_answer(dispatcher, domain):
    tracker = make_tracker({**VERIFIED, "awaiting_confirmation": "loss"}, intent="inform", text="张伟")
    assert await read(tracker, dispatcher, domain) == {}


async def test_the_question_is_asked_once_then_briefly_again(dispatcher, domain):
    await ActionAskConfirmationReply().run(dispatcher, make_tracker({"unclear_replies": None}), domain)
    assert responses(dispatcher) == []
    await ActionAskConfirmationReply().run(dispatcher, make_tracker({"unclear_replies": 1}), domain)
    assert responses(dispatcher) == ["utter_confirm_again"]


def after_no(text: str, intent: str, *, later: int = 0, declined: str = "loss"):
    """`text` sent `later` messages after the person declined `declined`."""
    events = [
        {"event": "user", "text": "先不要"},
        {"event": "action", "name": "confirmation_form"},
        {"event": "action", "name": "action_decline_task"},
        {"event": "action", "name": "action_listen"},
    ]
    for _ in range(later):
        events += [{"event": "user", "text": "嗯"}, {"event": "action", "name": "action_listen"}]
    events.append({"event": "user", "text": text})
    return make_tracker({**VERIFIED, "declined_task": declined}, intent=intent, text=text, events=events)


@pytest.mark.parametrize(
    ("text", "intent", "declined"),
    [
        ("其实还是帮我挂了吧", "affirm", "loss"),
        ("哦不对，还是挂失吧", "deny", "loss"),  # the classifier hears the 不对
        ("actually yes, do it", "affirm", "unblock"),
        ("/affirm", "affirm", "loss"),  # the yes button of the question just declined
        ("还是找不到 挂了吧", "deny", "loss"),  # classified a no for its 找不到; the words say yes
    ],
)
async def test_a_change_of_mind_after_a_no_offers_the_change_again(dispatcher, domain, text, intent, declined):
    events = await ActionReconsider().run(dispatcher, after_no(text, intent, declined=declined), domain)
    assert responses(dispatcher) == [f"utter_reoffer_{declined}"]
    slots = {e["name"]: e["value"] for e in events}
    assert slots["awaiting_confirmation"] == declined and slots["task"] == declined  # asked again, not done


@pytest.mark.parametrize(
    "tracker",
    [
        after_no("好的", "affirm", later=2),  # too long after the no
        after_no("好吧，先不了", "affirm"),  # not a yes
        make_tracker(VERIFIED, intent="affirm", text="好的"),  # nothing was declined
    ],
)
async def test_a_yes_with_nothing_recently_declined_asks_what_is_wanted(dispatcher, domain, tracker):
    events = await ActionReconsider().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_what_task"]
    assert {e["name"]: e["value"] for e in events} == {"awaiting_confirmation": None}


def test_a_misunderstood_reply_to_a_confirmation_does_not_count_towards_staff():
    def fallback(text: str) -> dict:
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback"}}}

    events = [
        fallback("呃那个"),
        {"event": "action", "name": "action_extract_slots"},
        {"event": "action", "name": "confirmation_form"},
        {"event": "action", "name": "action_listen"},
        fallback("啊？"),
    ]
    assert misses_in_a_row(make_tracker(intent="nlu_fallback", events=events)) == 1
    events[2] = {"event": "action", "name": "action_nlu_fallback"}
    assert misses_in_a_row(make_tracker(intent="nlu_fallback", events=events)) == 2


def test_a_misread_message_answered_as_a_follow_up_does_not_count_towards_staff():
    def fallback(text: str) -> dict:
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback"}}}

    def told(response: str) -> dict:
        return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}

    answered = [
        fallback("要带啥"),
        {"event": "action", "name": "action_nlu_fallback"},
        told("utter_more_replace_documents"),
    ]
    missed = [fallback("啊？"), {"event": "action", "name": "action_nlu_fallback"}, told("utter_ask_rephrase")]
    latest = [{"event": "action", "name": "action_listen"}, fallback("多久能好")]
    assert misses_in_a_row(make_tracker(intent="nlu_fallback", events=[*answered, *latest])) == 1
    assert misses_in_a_row(make_tracker(intent="nlu_fallback", events=[*missed, *latest])) == 2


@pytest.mark.parametrize("text", ["hmm actually wait let me check my bag first", "等一下 我再找找"])
async def test_a_pause_after_a_no_is_neither_a_no_nor_a_goodbye(dispatcher, domain, text):
    events = await ActionReconsider().run(dispatcher, after_no(text, "deny"), domain)
    assert responses(dispatcher) == ["utter_take_your_time"]
    assert events == []  # still verified, nothing ended


async def test_a_no_with_nothing_recently_declined_and_nothing_under_way_is_a_goodbye(dispatcher, domain):
    events = await ActionReconsider().run(dispatcher, after_no("不用了", "deny", later=3), domain)
    assert responses(dispatcher) == ["utter_goodbye", None]  # not "cancelled": nothing was under way
    assert dispatcher.messages[-1]["custom"] == {CONVERSATION_OVER: True}
    assert {e["name"]: e["value"] for e in events}["verified_id_number"] is None  # forgotten, as after a goodbye


@pytest.mark.parametrize(
    ("slots", "stopped"),
    [
        ({}, False),  # "不用了，谢谢" after an answer to a question
        ({"task": "progress"}, True),
        ({"id_number": ID_ZHANG}, True),  # details half given: forgotten
        ({"id_number": ID_ZHANG, "verified_id_number": ID_ZHANG}, False),  # the verified person's, kept till now
    ],
)
async def test_a_no_stops_what_is_under_way_and_otherwise_says_goodbye(dispatcher, domain, slots, stopped):
    tracker = make_tracker(slots, intent="deny", text="不用了，谢谢")
    await ActionReconsider().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == ("utter_task_cancelled" if stopped else "utter_goodbye")


def after_finished_task(text: str, *, task: str | None = None):
    """`text`, the answer to the turn that finished a task (and so asked whether there was anything else)."""
    events = [
        {"event": "user", "text": "确认"},
        {"event": "action", "name": "action_run_task"},
        {"event": "bot", "text": "已为您办理临时挂失。", "data": {}},
        {"event": "bot", "text": None, "data": {"custom": {TASK_FINISHED: True}}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
    ]
    return make_tracker({**VERIFIED, "task": task}, intent="deny", text=text, events=events)


@pytest.mark.parametrize("text", ["号码不对", "不对 这不是我的卡", "no, you got the wrong number"])
async def test_a_wrong_number_said_after_the_answer_asks_again_and_ends_that_verification(dispatcher, domain, text):
    events = await ActionReconsider().run(dispatcher, after_finished_task(text), domain)
    assert responses(dispatcher) == ["utter_ask_what_task"]  # the call goes on; no goodbye
    slots = {e["name"]: e["value"] for e in events}
    assert slots["verified_id_number"] is None and slots["id_number"] is None  # the next request gets a new check


@pytest.mark.parametrize("text", ["没有了", "不用了谢谢", "no that's all"])
async def test_a_no_to_anything_else_after_a_task_says_goodbye_and_ends_the_conversation(dispatcher, domain, text):
    events = await ActionReconsider().run(dispatcher, after_finished_task(text), domain)
    assert responses(dispatcher) == ["utter_goodbye", None]
    assert dispatcher.messages[-1]["custom"] == {CONVERSATION_OVER: True}
    assert {e["name"]: e["value"] for e in events}["verified_id_number"] is None  # forgotten, as after a goodbye


async def test_a_no_with_a_task_under_way_still_stops_it_after_a_finished_one(dispatcher, domain):
    await ActionReconsider().run(dispatcher, after_finished_task("不要了", task="loss"), domain)
    assert responses(dispatcher) == ["utter_task_cancelled", None]


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("挂失后还能用吗？", "report_loss"),
        ("等一下，挂失要收费吗", "deny"),  # a hesitation, then a question: weighing it up, not a no
        ("wait, will I still be able to use it at the hospital?", "cross_region"),
        ("yes?", "affirm"),
    ],
)
async def test_a_question_at_the_confirmation_is_answered_and_the_question_stands(
    dispatcher, domain, pending, text, intent
):
    slots = await read(asked(pending, text, intent), dispatcher, domain)
    assert responses(dispatcher) == [f"utter_about_{pending}"]
    assert slots.get("confirmation_reply") is None and not slots.get("unclear_replies")  # nothing decided or counted


@pytest.mark.parametrize("pending", ["loss", "unblock"])
@pytest.mark.parametrize(("text", "intent"), [("啊 那到底挂上了没有", "deny"), ("did it go through?", "affirm")])
async def test_asking_whether_it_is_done_is_told_not_yet_and_asked_again(dispatcher, domain, pending, text, intent):
    slots = await read(asked(pending, text, intent), dispatcher, domain)
    assert responses(dispatcher) == [f"utter_not_done_{pending}"]
    assert slots.get("confirmation_reply") is None and not slots.get("unclear_replies")


async def test_a_follow_up_taken_for_a_yes_is_answered_about_the_topic_just_explained(dispatcher, domain):
    told = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_loss_reported"}}
    events = [{"event": "user", "text": "确认"}, told, {"event": "user", "text": "那下一步是啥"}]
    tracker = make_tracker(VERIFIED, intent="affirm", text="那下一步是啥", events=events)
    assert await ActionReconsider().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_more_loss_next"]
