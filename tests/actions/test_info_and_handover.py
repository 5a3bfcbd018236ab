import pytest
from sqlalchemy import select

from actions.handover import ActionHandover, ActionNluFallback
from actions.info import ActionAnswerInfo, ActionAskTask
from actions.runtime import services
from bot.cards.statuses import CardStatus
from bot.handover.live import HandoverRequest, handover_request
from bot.models import Flag
from tests.factories import ID_ZHANG, add_card
from tests.support import make_tracker, responses


def user_event(intent: str) -> dict:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


async def test_info_answers_carry_city_values(action_settings, dispatcher, domain):
    await ActionAnswerInfo().run(dispatcher, make_tracker(intent="cross_region"), domain)
    await ActionAnswerInfo().run(dispatcher, make_tracker({"language": "en"}, intent="replace_card"), domain)
    cross, replace = dispatcher.messages
    assert cross["response"] == "utter_cross_region" and cross["hotline"] == "12333"
    assert replace["response"] == "utter_replace_card" and replace["fee"] == 20
    assert replace["office_hours"].startswith("weekdays")


async def test_free_replacement_has_its_own_answer(action_settings, dispatcher, domain, monkeypatch):
    monkeypatch.setenv("REPLACEMENT_FEE_YUAN", "0")
    services.cache_clear()
    await ActionAnswerInfo().run(dispatcher, make_tracker(intent="replace_card"), domain)
    assert responses(dispatcher) == ["utter_replace_card_free"]


@pytest.mark.parametrize(
    ("status", "intent", "note"),
    [
        (CardStatus.LOSS_REPORTED, "cross_region", "utter_card_note_loss_reported"),
        (CardStatus.LOST, "activate_card", "utter_card_note_lost"),
        (CardStatus.SHIPPED, "cross_region", "utter_card_note_not_yet_held"),
        (CardStatus.ISSUED, "cross_region", "utter_card_note_not_activated"),
        (CardStatus.ISSUED, "activate_card", None),  # the activation answer is the answer
        (CardStatus.ACTIVE, "activate_card", "utter_card_note_already_active"),
        (CardStatus.ACTIVE, "cross_region", None),
        (CardStatus.LOSS_REPORTED, "replace_card", "utter_card_note_replace_reported"),
        (CardStatus.LOST, "replace_card", "utter_card_note_replace_reported"),
        (CardStatus.ACTIVE, "replace_card", None),  # "report it first if lost" is the answer
    ],
)
async def test_a_verified_person_asking_about_use_hears_what_their_own_card_means(
    action_settings, session, vault, dispatcher, domain, status, intent, note
):
    add_card(session, vault, status=status)
    session.commit()
    slots = {"verified_id_number": ID_ZHANG, "language": "en"}
    await ActionAnswerInfo().run(dispatcher, make_tracker(slots, intent=intent, text="can I use it"), domain)
    assert responses(dispatcher)[1:] == ([note] if note else [])
    if note == "utter_card_note_not_yet_held":
        assert dispatcher.messages[1]["status"] == "on its way to the pickup office"


@pytest.mark.parametrize(
    ("slots", "text"),
    [
        ({}, "can I use it in Shanghai"),  # nobody verified
        ({"verified_id_number": ID_ZHANG, "verified_loss_only": True}, "can I use it in Shanghai"),  # loss only
        ({"verified_id_number": ID_ZHANG}, "我妈的卡能在外地用吗"),  # someone else's card
    ],
)
async def test_no_card_is_read_for_a_question_about_use_without_a_full_verification_of_its_holder(
    action_settings, session, vault, dispatcher, domain, slots, text
):
    add_card(session, vault, status=CardStatus.LOSS_REPORTED)
    session.commit()
    await ActionAnswerInfo().run(dispatcher, make_tracker(slots, intent="cross_region", text=text), domain)
    assert responses(dispatcher) == ["utter_cross_region"]


async def test_ask_task(dispatcher, domain):
    await ActionAskTask().run(dispatcher, make_tracker(), domain)
    assert responses(dispatcher) == ["utter_ask_what_task"]


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (f"我是张伟 身份证{ID_ZHANG[:-1]}3", "utter_id_number_checksum"),  # a digit mistyped
        (f"my id {ID_ZHANG[:-2]}", "utter_invalid_id_number"),  # one missed
    ],
)
async def test_a_mistyped_id_number_given_out_of_the_blue_is_said_to_be_wrong(dispatcher, domain, text, told):
    await ActionAskTask().run(dispatcher, make_tracker(text=text), domain)
    assert responses(dispatcher) == [told, "utter_ask_what_task"]


async def test_handover_flags_human_requested(action_settings, session, dispatcher, domain):
    await ActionHandover().run(dispatcher, make_tracker(intent="request_human", metadata={"channel": "sms"}), domain)
    assert responses(dispatcher) == ["utter_handover", None]
    flags = session.scalars(select(Flag)).all()
    assert [(f.reason, f.channel, f.cardholder_id) for f in flags] == [("human_requested", "sms", None)]
    # the hotline transfers on this; chat and SMS open a live handover with what the bot knows
    assert dispatcher.messages[-1]["custom"] == {
        "handover": True, "reason": "human_requested", "task": None, "verified": False, "flag_id": flags[0].id,
        "language": "zh",
    }  # fmt: skip


async def test_handover_of_a_verified_person_links_their_card(action_settings, session, vault, dispatcher, domain):
    card = add_card(session, vault)
    session.commit()
    slots = {"verified_id_number": ID_ZHANG, "task": "progress", "language": "en"}
    await ActionHandover().run(dispatcher, make_tracker(slots, intent="request_human"), domain)
    (flag,) = session.scalars(select(Flag)).all()
    assert flag.cardholder_id == card.cardholder_id
    custom = dispatcher.messages[-1]["custom"]
    assert (custom["verified"], custom["task"], custom["language"]) == (True, "progress", "en")
    assert handover_request(dispatcher.messages) == HandoverRequest("human_requested", "progress", True, flag.id, "en")


async def test_a_person_whose_identity_check_failed_reaches_staff_as_such(action_settings, dispatcher, domain):
    slots = {"identity_locked": True, "task": "loss"}
    await ActionHandover().run(dispatcher, make_tracker(slots, intent="request_human"), domain)
    request = handover_request(dispatcher.messages)
    assert (request.reason, request.task, request.verified) == ("identity_failed", "loss", False)


async def test_staff_asked_for_at_a_confirmation_says_nothing_was_done(action_settings, dispatcher, domain):
    slots = {
        "verified_id_number": ID_ZHANG,
        "task": "loss",
        "awaiting_confirmation": "loss",
        "confirmation_reply": "human",
    }
    events = await ActionHandover().run(dispatcher, make_tracker(slots, intent="request_human"), domain)
    assert responses(dispatcher) == ["utter_nothing_changed", "utter_handover", None]
    assert handover_request(dispatcher.messages).task == "loss"  # staff see what was under way
    cleared = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert (
        cleared["task"] is None and cleared["awaiting_confirmation"] is None and cleared["confirmation_reply"] is None
    )


async def test_staff_who_cannot_be_told_are_not_promised_and_nothing_stays_waiting_for_a_yes(
    settings, monkeypatch, dispatcher, domain
):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("ID_HASH_KEY", settings.id_hash_key)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", settings.data_encryption_key)
    services.cache_clear()
    slots = {"task": "loss", "awaiting_confirmation": "loss", "confirmation_reply": "human"}
    events = await ActionHandover().run(dispatcher, make_tracker(slots, intent="request_human"), domain)
    services.cache_clear()
    assert responses(dispatcher) == ["utter_nothing_changed", "utter_service_unavailable"]
    cleared = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert {slot: cleared[slot] for slot in ("task", "awaiting_confirmation", "confirmation_reply")} == dict.fromkeys(
        ("task", "awaiting_confirmation", "confirmation_reply")
    )


async def test_first_miss_asks_to_rephrase_second_offers_a_human(action_settings, session, dispatcher, domain):
    once = make_tracker(intent="nlu_fallback", events=[user_event("greet"), user_event("nlu_fallback")])
    await ActionNluFallback().run(dispatcher, once, domain)
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    assert [f.reason for f in session.scalars(select(Flag))] == ["nlu_fallback"]  # staff see every miss
    session.commit()
    twice = make_tracker(intent="nlu_fallback", events=[user_event("nlu_fallback"), user_event("nlu_fallback")])
    await ActionNluFallback().run(dispatcher, twice, domain)
    assert responses(dispatcher)[-2:] == ["utter_offer_human", None]
    assert dispatcher.messages[-1]["custom"]["handover"] is True
    assert dispatcher.messages[-1]["custom"]["reason"] == "nlu_fallback"
    assert [f.reason for f in session.scalars(select(Flag))] == ["nlu_fallback"]


@pytest.mark.parametrize(
    ("slots", "text", "kept"),
    [
        ({"id_number": ID_ZHANG}, "张伟", "张伟"),  # the ID number out of the blue, then the name
        ({"id_number": ID_ZHANG}, "我叫 Zhang Wei", "Zhang Wei"),
        ({"id_number": ID_ZHANG}, "查一下", None),  # not a name
        ({}, "张伟", None),  # no ID number to go with it
        ({"id_number": ID_ZHANG, "verified_id_number": ID_ZHANG}, "李四", None),  # verified: not a new check
        ({"id_number": ID_ZHANG, "person_name": "张伟"}, "李四", None),  # one name kept, not replaced
    ],
)
async def test_a_name_on_its_own_is_kept_for_an_id_number_given_out_of_the_blue(dispatcher, domain, slots, text, kept):
    events = await ActionAskTask().run(dispatcher, make_tracker(slots, text=text), domain)
    assert responses(dispatcher) == ["utter_ask_what_task"]
    assert events == ([{"event": "slot", "name": "person_name", "value": kept, "timestamp": None}] if kept else [])


async def test_a_handover_elsewhere_keeps_the_task_for_when_the_person_comes_back(action_settings, dispatcher, domain):
    events = await ActionHandover().run(dispatcher, make_tracker({"task": "progress"}, intent="request_human"), domain)
    cleared = {e["name"] for e in events if e["event"] == "slot"}
    assert "task" not in cleared and {"awaiting_confirmation", "confirmation_reply"} <= cleared


async def test_a_follow_up_that_would_get_the_same_general_answer_hears_where_to_ask_instead(
    action_settings, dispatcher, domain
):
    told = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_activate_card"}}
    events = [{"event": "user", "text": "在哪激活"}, told, {"event": "user", "text": "激活要钱吗"}]
    tracker = make_tracker(intent="activate_card", text="激活要钱吗", events=events)
    await ActionAnswerInfo().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_info_nothing_more"]
    other = [*events[:2], {"event": "user", "text": "外地能用吗"}]
    await ActionAnswerInfo().run(
        dispatcher, make_tracker(intent="cross_region", text="外地能用吗", events=other), domain
    )
    assert responses(dispatcher)[-1] == "utter_cross_region"  # another question gets its answer


@pytest.mark.parametrize(
    ("told", "text", "intent", "answer"),
    [
        ("utter_loss_reported", "did it work?", "out_of_scope", "utter_yes_loss_done"),
        ("utter_loss_reported", "挂上了吧？", "nlu_fallback", "utter_yes_loss_done"),
        ("utter_unblock_done", "成功没", "out_of_scope", "utter_yes_unblock_done"),
        ("utter_loss_reported", "what about the bank part", "out_of_scope", "utter_loss_bank_side"),
        ("utter_progress_loss_reported", "那银行那边呢", "nlu_fallback", "utter_loss_bank_side"),
        ("utter_progress_lost", "那银行那边要不要也挂失？", "nlu_fallback", "utter_loss_bank_side"),
        ("utter_unblock_done", "那银行那边的挂失也一起解了吗", "out_of_scope", "utter_unblock_bank_side"),
        # Questions that name no topic, about the one just explained
        ("utter_replace_card", "那要带啥材料", "out_of_scope", "utter_more_replace_documents"),
        ("utter_replace_card", "需要多少钱", "out_of_scope", "utter_more_replace_cost"),
        ("utter_apply_card", "what documents do I need", "cross_region", "utter_more_apply_documents"),
        ("utter_apply_card", "how long does it take", "replace_card", "utter_progress_timing"),
        ("utter_apply_card", "免费吗", "out_of_scope", "utter_more_apply_cost"),
        ("utter_activate_card", "手机上能弄吗", "update_info", "utter_more_activate_channels"),
        ("utter_cross_region", "接下来呢", "activate_card", "utter_more_cross_region_next"),
        ("utter_update_info", "要带什么证件", "out_of_scope", "utter_more_update_documents"),
        ("utter_card_note_replace_reported", "ok what should I do now", "out_of_scope", "utter_more_replace_next"),
    ],
)
async def test_a_follow_up_right_after_a_change_or_an_answer_is_answered(
    action_settings, dispatcher, domain, told, text, intent, answer
):
    events = [
        {"event": "user", "text": "确认"},
        {"event": "bot", "text": "…", "metadata": {"utter_action": told}},
        {"event": "user", "text": text},
    ]
    action = ActionNluFallback() if intent == "nlu_fallback" else ActionAnswerInfo()
    await action.run(dispatcher, make_tracker(intent=intent, text=text, events=events), domain)
    assert responses(dispatcher) == [answer]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("我要注销社保卡", "utter_close_card"),
        ("please close my card, I'm leaving China", "utter_close_card"),
        ("可以让我妈去领吗", "utter_proxy"),
        ("can someone else pick it up for me", "utter_proxy"),
        ("那边几点开门？周六上班吗", "utter_office_hours"),
        ("the card must have gone out with the rubbish on Saturday", "utter_out_of_scope"),  # no hours asked
        ("where can I find my ID number? I'm a foreigner", "utter_id_number_where"),
        ("今天天气怎么样", "utter_out_of_scope"),
    ],
)
async def test_questions_only_a_service_hall_settles_are_told_where_to_ask(dispatcher, domain, text, answer):
    await ActionAnswerInfo().run(dispatcher, make_tracker(intent="out_of_scope", text=text), domain)
    assert responses(dispatcher) == [answer]


@pytest.mark.parametrize(
    ("intent", "text"), [("replace_card", "社保卡补办可以代办吗"), ("apply_card", "do I have to apply in person")]
)
async def test_applying_or_replacing_for_someone_else_hears_the_answer_then_who_may_act(
    dispatcher, domain, intent, text
):
    await ActionAnswerInfo().run(dispatcher, make_tracker(intent=intent, text=text), domain)
    assert responses(dispatcher)[-1] == "utter_proxy" and len(responses(dispatcher)) == 2


def after_told(response: str, text: str, *, turns_between: int = 0) -> list[dict]:
    """`text` sent after the bot's answer `response`, with `turns_between` other exchanges between."""
    events = [{"event": "user", "text": "…"}, {"event": "bot", "text": "…", "metadata": {"utter_action": response}}]
    for _ in range(turns_between):
        events += [{"event": "user", "text": "嗯"}, {"event": "bot", "text": "…", "metadata": {}}]
    return [*events, {"event": "user", "text": text}]


@pytest.mark.parametrize(("fee", "answer"), [("20", "utter_more_replace_cost"), ("0", "utter_more_replace_cost_free")])
async def test_the_cost_of_a_replacement_is_the_citys_fee(
    action_settings, dispatcher, domain, monkeypatch, fee, answer
):
    monkeypatch.setenv("REPLACEMENT_FEE_YUAN", fee)
    services.cache_clear()
    tracker = make_tracker(intent="out_of_scope", text="收费吗", events=after_told("utter_replace_card", "收费吗"))
    await ActionAnswerInfo().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [answer] and dispatcher.messages[0]["fee"] == int(fee)


@pytest.mark.parametrize(
    ("events", "intent", "answer"),
    [
        (after_told("utter_replace_card", "要带啥", turns_between=3), "out_of_scope", "utter_out_of_scope"),  # long ago
        (after_told("utter_activate_card", "要钱吗"), "out_of_scope", "utter_info_nothing_more"),  # nothing to add
        (after_told("utter_replace_card", "激活要带啥"), "activate_card", "utter_activate_card"),  # its own topic
        (after_told("utter_greet", "要带啥"), "out_of_scope", "utter_out_of_scope"),  # no topic explained
    ],
)
async def test_a_question_after_no_topic_or_with_its_own_or_with_nothing_to_add_keeps_its_answer(
    action_settings, dispatcher, domain, events, intent, answer
):
    tracker = make_tracker(intent=intent, text=events[-1]["text"], events=events)
    await ActionAnswerInfo().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [answer]


async def test_a_follow_up_the_model_did_not_understand_is_answered_and_not_flagged(
    action_settings, session, dispatcher, domain
):
    tracker = make_tracker(
        intent="nlu_fallback", text="where do I go", events=after_told("utter_loss_reported", "where do I go")
    )
    assert await ActionNluFallback().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_more_loss_channels"]
    assert session.scalars(select(Flag)).all() == []


async def test_a_follow_up_after_a_follow_up_keeps_the_topic(action_settings, dispatcher, domain):
    events = [
        *after_told("utter_replace_card", "要带啥"),
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_more_replace_documents"}},
        {"event": "user", "text": "那网上能办不"},
    ]
    await ActionAnswerInfo().run(dispatcher, make_tracker(intent="deny", text="那网上能办不", events=events), domain)
    assert responses(dispatcher) == ["utter_more_replace_channels"]


@pytest.mark.parametrize(
    ("told", "text", "answer"),
    [
        ("utter_activate_card", "在哪激活", "utter_more_activate_channels"),  # the topic's own words
        ("utter_replace_card", "补办要多少钱", "utter_more_replace_cost"),
        ("utter_activate_card", "where do I go for the bank part", "utter_more_activate_channels"),
        ("utter_cross_region", "how do I set that up", "utter_more_cross_region_channels"),
        ("utter_progress_rejected", "那我该怎么办", "utter_more_rejected_next"),
        ("utter_progress_cancelled", "要带什么", "utter_more_apply_documents"),  # a new card is applied for
        ("utter_progress_shipped", "寄到哪里啊", "utter_more_pickup_channels"),
        ("utter_office_hours", "ok and where is it", "utter_more_hall_channels"),
        # What a loss report or a card on its way means, whether one is told, what comes next
        ("utter_loss_reported", "how long do I have", "utter_more_loss_time"),
        ("utter_progress_shipped", "到了会通知我吗", "utter_more_making_next"),
        ("utter_progress_in_production", "那要带什么去领", "utter_more_pickup_documents"),
        ("utter_loss_reported", "will I get a text about this", "utter_more_loss_notice"),
        ("utter_apply_card", "新卡出来了会通知我吗", "utter_more_apply_next"),
        ("utter_progress_loss_reported", "what's next", "utter_more_loss_next"),
        ("utter_progress_cancelled", "how much does that cost", "utter_info_nothing_more"),  # not a first card
    ],
)
async def test_a_follow_up_may_name_the_topic_just_explained_and_asks_what_it_means(
    action_settings, dispatcher, domain, told, text, answer
):
    tracker = make_tracker(intent="out_of_scope", text=text, events=after_told(told, text))
    await ActionAnswerInfo().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [answer]


async def test_a_follow_up_takes_the_newest_topic_that_has_an_answer_for_it(action_settings, dispatcher, domain):
    events = [
        *after_told("utter_progress_ready_for_pickup", "what time are they open"),
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_office_hours"}},
        {"event": "user", "text": "ok and what do I bring"},
    ]
    tracker = make_tracker(intent="out_of_scope", text="ok and what do I bring", events=events)
    await ActionAnswerInfo().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_more_pickup_documents"]  # not the hall's: it has nothing on documents


async def test_a_follow_up_taken_for_details_is_answered_not_asked_what_task(action_settings, dispatcher, domain):
    tracker = make_tracker(intent="inform", text="is it free", events=after_told("utter_apply_card", "is it free"))
    assert await ActionAskTask().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_more_apply_cost"]


async def test_how_a_loss_report_works_is_told_to_a_question_about_it_and_its_follow_ups_answered(
    action_settings, dispatcher, domain
):
    text = "万一以后卡丢了该咋办 先了解下"
    await ActionAnswerInfo().run(dispatcher, make_tracker(intent="out_of_scope", text=text), domain)
    assert responses(dispatcher) == ["utter_loss_how"]
    dispatcher.messages.clear()
    tracker = make_tracker(intent="out_of_scope", text="要带啥", events=after_told("utter_loss_how", "要带啥"))
    await ActionAnswerInfo().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_more_loss_documents"]


async def test_a_follow_up_after_the_halls_note_is_about_the_answer_before_it(action_settings, dispatcher, domain):
    events = [
        *after_told("utter_update_info", "要本人去吗"),
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_proxy"}},
        {"event": "user", "text": "app上可以不"},
    ]
    await ActionAnswerInfo().run(
        dispatcher, make_tracker(intent="out_of_scope", text="app上可以不", events=events), domain
    )
    assert responses(dispatcher) == ["utter_more_update_channels"]
