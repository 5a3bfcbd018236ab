import pytest
from sqlalchemy import delete, select

from actions.identity import ValidateIdentityForm
from bot.channels.signed import CHANNEL_NAME
from bot.models import Card, Flag, IdentityAttempt
from tests.factories import ID_ZHANG, add_card
from tests.support import make_tracker, responses

FORM = ValidateIdentityForm()


async def test_id_number_is_normalised(action_settings, dispatcher, domain):
    tracker = make_tracker(active_loop="identity_form")
    result = await FORM.validate_id_number("110105 19491231 002x", dispatcher, tracker, domain)
    assert result == {"id_number": ID_ZHANG}
    assert dispatcher.messages == []


async def test_malformed_id_number_is_asked_again(action_settings, dispatcher, domain):
    result = await FORM.validate_id_number("12345", dispatcher, make_tracker(), domain)
    assert result == {"id_number": None}
    assert responses(dispatcher) == ["utter_invalid_id_number"]


@pytest.mark.parametrize("answer", ["嗯好的", "ok"])
async def test_an_answer_without_digits_is_asked_again_without_a_complaint(action_settings, dispatcher, domain, answer):
    assert await FORM.validate_id_number(answer, dispatcher, make_tracker(), domain) == {"id_number": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize("answer", ["稍等", "稍等一下啊 我去找一下身份证", "hold on let me get my ID card"])
async def test_a_pause_is_told_to_take_its_time_then_asked_again(action_settings, dispatcher, domain, answer):
    # However it was classified (a no, out of scope), it is an answer, so the request goes on.
    for intent in ("deny", "out_of_scope"):
        tracker = asked_for_details({}, answer, intent)
        assert await FORM.extract_id_number(dispatcher, tracker, domain) == {"id_number": answer}
    assert await FORM.validate_id_number(answer, dispatcher, make_tracker(), domain) == {"id_number": None}
    assert responses(dispatcher) == ["utter_take_your_time"]
    dispatcher.messages.clear()
    assert await FORM.validate_phone_last4(answer, dispatcher, make_tracker(), domain) == {"phone_last4": None}
    assert responses(dispatcher) == ["utter_take_your_time"]


def asked_for_details(slots: dict, text: str, intent: str, *, slot: str = "id_number"):
    """A message while the identity form asks for `slot` (a verified conversation when `slots` say so)."""
    tracker = make_tracker({"requested_slot": slot, **slots}, intent=intent, text=text, active_loop="identity_form")
    tracker.latest_message["intent"]["confidence"] = 0.97
    return tracker


async def test_another_task_asked_for_while_details_are_asked_goes_on_with_the_check(dispatcher, domain):
    events = await FORM.run(
        dispatcher, asked_for_details({"task": "loss"}, "不是挂失，我要查进度", "check_progress"), domain
    )
    assert {"event": "slot", "name": "task", "value": "progress", "timestamp": None} in events
    assert responses(dispatcher) == []  # no complaint: the form asks for the ID number again, for the new task


async def test_someone_elses_card_after_a_verification_starts_a_new_check(action_settings, dispatcher, domain):
    verified = {"verified_id_number": ID_ZHANG, "id_number": ID_ZHANG, "person_name": "张伟", "task": "progress"}
    tracker = asked_for_details(verified, "我老婆的也查一下", "check_progress")
    tracker.slots["requested_slot"] = None
    events = await FORM.run(dispatcher, tracker, domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["verified_id_number"] is None and slots["id_number"] is None and slots["person_name"] is None
    assert responses(dispatcher) == []  # nothing of his card again: the form asks for her ID number


async def test_right_name_verifies(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG}, text="我叫张伟")
    result = await FORM.validate_person_name("我叫张伟。", dispatcher, tracker, domain)
    assert result == {"person_name": "张伟", "verified_id_number": ID_ZHANG, "verified_loss_only": False}


async def test_wrong_name_and_unknown_id_fail_the_same_way(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    wrong_name = await FORM.validate_person_name("李四", dispatcher, make_tracker({"id_number": ID_ZHANG}), domain)
    unknown_id = await FORM.validate_person_name(
        "张伟", dispatcher, make_tracker({"id_number": "320102198503121015"}, sender_id="conv-2"), domain
    )
    # The name is asked again either way: nothing tells an unknown ID number from a wrong name.
    assert wrong_name == unknown_id == {"person_name": None}
    assert [m["response"] for m in dispatcher.messages] == ["utter_identity_not_verified"] * 2
    assert dispatcher.messages[0]["attempts_left"] == dispatcher.messages[1]["attempts_left"] == 2


async def test_third_failure_locks_and_flags(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG, "task": "progress"})
    for _ in range(2):
        await FORM.validate_person_name("李四", dispatcher, tracker, domain)
    result = await FORM.validate_person_name("李四", dispatcher, tracker, domain)
    assert result["identity_locked"] is True and result["task"] is None
    assert responses(dispatcher)[-1] == "utter_identity_locked"
    flags = session.scalars(select(Flag)).all()
    assert [(f.conversation_id, f.reason) for f in flags] == [("conv-1", "identity_failed")]


def naming(text: str, **slots):
    """The person's answer to the name question in a chat that asked for a card task."""
    asked = {"id_number": ID_ZHANG, "requested_slot": "person_name", "task": "progress", **slots}
    return make_tracker(asked, text=text, active_loop="identity_form")


async def test_the_answer_comes_with_the_check_that_completes_the_form(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault)
    session.commit()
    events = await FORM.run(dispatcher, naming("张伟"), domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["verified_id_number"] == ID_ZHANG and slots["holder_masked"] == "张*"
    assert slots["requested_slot"] is None and slots["task"] is None  # the form ends, the task is done
    assert responses(dispatcher) == ["utter_progress_active", None]  # and the end-of-task marker


async def test_the_check_and_the_card_it_answers_about_are_one_transaction(
    action_settings, session, vault, dispatcher, domain, monkeypatch
):
    from actions import identity, tasks

    add_card(session, vault)
    session.commit()
    works = []
    for module in (identity, tasks):
        counted = module.in_transaction

        async def counting(work, _counted=counted, **kwargs):
            works.append(work.__name__)
            return await _counted(work, **kwargs)

        monkeypatch.setattr(module, "in_transaction", counting)
    await FORM.run(dispatcher, naming("张伟"), domain)
    assert works == ["check_identity_and_card"]
    # the card kept for that call is gone after it: a task started later reads the card again
    await tasks.start_task(dispatcher, make_tracker({"verified_id_number": ID_ZHANG, "task": "progress"}))
    assert works == ["check_identity_and_card", "card_overview"]


async def test_a_holder_whose_card_is_gone_is_told_as_before(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.execute(delete(Card))  # the check passes on the holder; the task finds no card
    session.commit()
    events = await FORM.run(dispatcher, naming("张伟"), domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["verified_id_number"] == ID_ZHANG and "holder_masked" not in slots
    assert responses(dispatcher) == ["utter_identity_locked"]


async def test_a_failed_check_starts_nothing(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    events = await FORM.run(dispatcher, naming("李四"), domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"person_name": None}  # the form asks again; no task, nothing about the card
    assert responses(dispatcher) == ["utter_identity_not_verified"]


async def test_nothing_more_is_asked_once_verified(action_settings, dispatcher, domain):
    tracker = make_tracker({"verified_id_number": ID_ZHANG})
    assert await FORM.required_slots(["id_number", "person_name"], dispatcher, tracker, domain) == []
    assert await FORM.required_slots(["id_number", "person_name"], dispatcher, make_tracker(), domain) == [
        "id_number",
        "person_name",
    ]


async def test_database_down_gets_an_apology_and_no_lock(settings, monkeypatch, dispatcher, domain):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("ID_HASH_KEY", settings.id_hash_key)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", settings.data_encryption_key)
    from actions.runtime import services

    services.cache_clear()
    tracker = make_tracker(
        {"id_number": ID_ZHANG, "person_name": "张伟", "requested_slot": "person_name"},
        text="张伟",
        active_loop="identity_form",
        events=[{"event": "user", "text": "张伟"}, {"event": "slot", "name": "person_name", "value": "张伟"}],
    )
    events = await FORM.run(dispatcher, tracker, domain)
    services.cache_clear()
    assert responses(dispatcher) == ["utter_service_unavailable"]
    slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert slots == {"id_number": None, "person_name": None, "phone_last4": None, "task": None, "requested_slot": None}
    assert "identity_locked" not in slots  # once the database is back, the person can try again


def answering(slot: str, text: str, intent: str, confidence: float):
    tracker = make_tracker({"requested_slot": slot}, text=text, intent=intent, active_loop="identity_form")
    tracker.latest_message["intent"]["confidence"] = confidence
    return tracker


async def test_any_answer_to_the_name_question_is_the_name(dispatcher, domain):
    tracker = answering("person_name", "Maria Garcia", "cancel_loss", 0.55)
    assert await FORM.extract_person_name(dispatcher, tracker, domain) == {"person_name": "Maria Garcia"}


async def test_stop_and_sure_questions_are_not_answers(dispatcher, domain):
    for text, intent, confidence in [
        ("算了", "deny", 0.6),
        ("转人工", "request_human", 0.99),
        ("异地能用吗", "cross_region", 0.97),
    ]:
        tracker = answering("person_name", text, intent, confidence)
        assert await FORM.extract_person_name(dispatcher, tracker, domain) == {}


async def test_a_no_with_digits_where_digits_were_asked_is_a_corrected_answer(dispatcher, domain):
    corrected = "不对不对，我说错了，是三二零一零二一九八五零三一二一零一五"
    tracker = answering("id_number", corrected, "deny", 0.9)
    assert await FORM.extract_id_number(dispatcher, tracker, domain) == {"id_number": corrected}
    tracker = answering("phone_last4", "no no, it's 1 0 1 2", "deny", 0.8)
    assert await FORM.extract_phone_last4(dispatcher, tracker, domain) == {"phone_last4": "no no, it's 1 0 1 2"}
    # A no without digits still stops, and a name is no number.
    assert await FORM.extract_id_number(dispatcher, answering("id_number", "不对，不办了", "deny", 0.9), domain) == {}
    assert await FORM.extract_person_name(dispatcher, answering("person_name", "不是3号", "deny", 0.9), domain) == {}


async def test_a_no_that_corrects_the_name_or_asks_something_does_not_drop_the_request(dispatcher, domain):
    for text in ("不对，打错了，是王芳", "不对不对，是陈静，打错了", "sorry typo, it's Bai Xue"):
        tracker = answering("person_name", text, "deny", 0.9)
        assert await FORM.extract_person_name(dispatcher, tracker, domain) == {"person_name": text}, text
    asked = answering("person_name", "到底挂上了没有", "deny", 0.9)  # asked again, not stopped
    assert await FORM.extract_person_name(dispatcher, asked, domain) == {"person_name": "到底挂上了没有"}
    for stop in ("不要了", "算了不查了", "不对"):
        assert await FORM.extract_person_name(dispatcher, answering("person_name", stop, "deny", 0.9), domain) == {}
    wait_but_stop = "no wait, I think it's at my friend's place, don't report it yet"  # a pause that stops
    assert await FORM.extract_id_number(dispatcher, answering("id_number", wait_but_stop, "deny", 0.9), domain) == {}


async def test_a_name_that_reads_as_words_is_the_name_whatever_the_classifier_made_of_it(dispatcher, domain):
    tracker = answering("person_name", "钱多多", "out_of_scope", 0.98)
    assert await FORM.extract_person_name(dispatcher, tracker, domain) == {"person_name": "钱多多"}
    for question in ("多少钱", "要带啥"):  # questions are not names
        assert (
            await FORM.extract_person_name(dispatcher, answering("person_name", question, "out_of_scope", 0.98), domain)
            == {}
        )


async def test_a_sure_yes_is_still_an_answer_so_the_form_carries_on(dispatcher, domain):
    tracker = answering("phone_last4", "好的", "affirm", 0.99)
    assert await FORM.extract_phone_last4(dispatcher, tracker, domain) == {"phone_last4": "好的"}


async def test_malformed_id_answer_is_taken_for_feedback(dispatcher, domain):
    tracker = answering("id_number", "1101051949", "inform", 0.8)
    assert await FORM.extract_id_number(dispatcher, tracker, domain) == {"id_number": "1101051949"}
    assert await FORM.extract_person_name(dispatcher, tracker, domain) == {}


VOICE = {"channel": "voice", "language": "zh"}


async def test_voice_asks_for_the_last_four_digits_instead_of_the_name(dispatcher, domain):
    tracker = make_tracker(metadata=VOICE)
    assert await FORM.required_slots(["id_number", "person_name"], dispatcher, tracker, domain) == [
        "id_number",
        "phone_last4",
    ]


async def test_caller_id_of_the_registered_phone_verifies(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker(metadata={**VOICE, "caller": "+8613912345678"})
    result = await FORM.validate_id_number("幺幺洞幺洞五幺九四九幺两三幺洞洞两叉", dispatcher, tracker, domain)
    assert result == {"id_number": ID_ZHANG, "verified_id_number": ID_ZHANG, "verified_loss_only": False}


async def test_another_caller_id_costs_no_attempt(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker(metadata={**VOICE, "caller": "+8613000000000"})
    result = await FORM.validate_id_number(ID_ZHANG, dispatcher, tracker, domain)
    assert result == {"id_number": ID_ZHANG, "verified_id_number": None}
    assert session.scalars(select(IdentityAttempt)).all() == []


async def test_last_four_digits_verify_or_fail_neutrally(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=VOICE)
    wrong = await FORM.validate_phone_last4("1234", dispatcher, tracker, domain)
    assert wrong == {"id_number": None, "person_name": None, "phone_last4": None}
    assert responses(dispatcher) == ["utter_identity_not_verified"]
    right = await FORM.validate_phone_last4("五六七八", dispatcher, tracker, domain)
    assert right == {"phone_last4": "5678", "verified_id_number": ID_ZHANG, "verified_loss_only": False}


async def test_malformed_last_four_is_asked_again_without_an_attempt(action_settings, session, dispatcher, domain):
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=VOICE)
    assert await FORM.validate_phone_last4("567", dispatcher, tracker, domain) == {"phone_last4": None}
    assert responses(dispatcher) == ["utter_invalid_last_four"]
    assert session.scalars(select(IdentityAttempt)).all() == []


@pytest.mark.parametrize("said", ["我不记得了", "那怎么办啊", "确认", "I don't know his number, he's got a new phone"])
async def test_no_digits_where_the_last_four_were_asked_hears_what_else_can_be_done(
    action_settings, session, dispatcher, domain, said
):
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=VOICE)
    assert await FORM.validate_phone_last4(said, dispatcher, tracker, domain) == {"phone_last4": None}
    assert responses(dispatcher) == ["utter_last_four_help"]
    assert dispatcher.messages[0]["office_hours"]
    assert session.scalars(select(IdentityAttempt)).all() == []


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("号码不对", "deny"),
        ("哎呀 说错了", "deny"),
        ("wrong number", "inform"),
        ("不是 你听错了 最后是四零四六", "deny"),
    ],
)
async def test_an_id_number_read_back_wrong_is_asked_again_for_the_same_request(
    action_settings, session, dispatcher, domain, said, intent
):
    tracker = answering("phone_last4", said, intent, 0.95)
    tracker.slots.update({"id_number": ID_ZHANG, "task": "loss"})
    assert await FORM.extract_phone_last4(dispatcher, tracker, domain) == {"phone_last4": said}
    assert await FORM.validate_phone_last4(said, dispatcher, tracker, domain) == {
        "id_number": None,
        "phone_last4": None,
    }
    assert session.scalars(select(IdentityAttempt)).all() == []


async def test_last_four_digits_taken_back_in_the_same_breath_are_the_later_ones(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=VOICE)
    result = await FORM.validate_phone_last4(
        "five six eight seven, no sorry, five six seven eight", dispatcher, tracker, domain
    )
    assert result == {"phone_last4": "5678", "verified_id_number": ID_ZHANG, "verified_loss_only": False}


async def test_last_four_said_beside_the_id_number_are_the_answer_to_come(action_settings, dispatcher, domain):
    text = "查进度 身份证一一零一零五 一九四九一二三一 零零二叉 手机尾号五六七八"
    entities = [{"entity": "id_number", "value": ID_ZHANG}]
    tracker = make_tracker({"requested_slot": "id_number"}, intent="check_progress", text=text, entities=entities)
    assert await FORM.extract_phone_last4(dispatcher, tracker, domain) == {"phone_last4": "5678"}
    # The caller ID already verified them with the ID number: nothing more is checked.
    tracker.slots["verified_id_number"] = ID_ZHANG
    assert await FORM.validate_phone_last4("5678", dispatcher, tracker, domain) == {"phone_last4": None}


async def test_the_name_is_what_was_typed_not_the_normalised_text(dispatcher, domain):
    tracker = answering("person_name", "于丹", "inform", 0.7)  # NLU text: traditional 於 made simple
    tracker.events = [{"event": "user", "text": "於丹"}]
    assert await FORM.extract_person_name(dispatcher, tracker, domain) == {"person_name": "於丹"}


async def test_a_sure_thanks_is_not_checked_as_a_name(action_settings, session, dispatcher, domain):
    tracker = answering("person_name", "谢谢", "thank", 0.98)
    tracker.slots["id_number"] = ID_ZHANG
    assert await FORM.validate_person_name("谢谢", dispatcher, tracker, domain) == {"person_name": None}
    assert session.scalars(select(IdentityAttempt)).all() == []


@pytest.mark.parametrize("said", ["后四位是五六七八。", "it's five six seven eight", "5 6 7 8"])
async def test_spoken_last_four_with_words_and_punctuation(action_settings, session, vault, dispatcher, domain, said):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata=VOICE)
    result = await FORM.validate_phone_last4(said, dispatcher, tracker, domain)
    assert result == {"phone_last4": "5678", "verified_id_number": ID_ZHANG, "verified_loss_only": False}


async def test_a_latin_name_read_as_small_talk_is_still_checked(action_settings, session, vault, dispatcher, domain):
    add_card(session, vault, name="Qian Lu")
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG, "requested_slot": "person_name"}, intent="greet", text="Qian Lu")
    assert await FORM.extract_person_name(dispatcher, tracker, domain) == {"person_name": "Qian Lu"}
    result = await FORM.validate_person_name("Qian Lu", dispatcher, tracker, domain)
    assert result["verified_id_number"] == ID_ZHANG


async def test_the_name_beside_the_id_number_is_taken(dispatcher, domain):
    text = f"我叫张伟，身份证号{ID_ZHANG}"
    entities = [{"entity": "id_number", "value": ID_ZHANG}]
    for asking in (None, "id_number", "person_name"):
        tracker = make_tracker({"requested_slot": asking}, intent="check_progress", text=text, entities=entities)
        assert await FORM.extract_person_name(dispatcher, tracker, domain) == {"person_name": "张伟"}
    # An ID number sent while the name is asked for is never taken as the name.
    bare = make_tracker({"requested_slot": "person_name"}, text=ID_ZHANG, entities=entities)
    assert await FORM.extract_person_name(dispatcher, bare, domain) == {}


async def test_a_mistyped_id_number_in_the_request_is_taken_as_the_answer(dispatcher, domain):
    text = f"i want to report lost card {ID_ZHANG[:-1]}3"
    starting = make_tracker({"requested_slot": None}, intent="report_loss", text=text)
    assert await FORM.extract_id_number(dispatcher, starting, domain) == {"id_number": ID_ZHANG[:-1] + "3"}
    asked_name = make_tracker({"requested_slot": "person_name"}, intent="inform", text=text)
    assert await FORM.extract_id_number(dispatcher, asked_name, domain) == {}  # the name's answer is read there


async def test_a_request_with_the_id_number_not_known_is_told_where_to_find_it_first(dispatcher, domain):
    text = "I'd like to check my application but I don't remember my ID number"
    starting = make_tracker({"requested_slot": None}, intent="check_progress", text=text)
    assert await FORM.extract_id_number(dispatcher, starting, domain) == {"id_number": None}
    assert responses(dispatcher) == ["utter_id_number_where"]


async def test_a_wrong_check_character_is_named(action_settings, dispatcher, domain):
    wrong = ID_ZHANG[:-1] + "3"
    assert await FORM.validate_id_number(wrong, dispatcher, make_tracker(), domain) == {"id_number": None}
    assert responses(dispatcher) == ["utter_id_number_checksum"]


async def test_questions_about_the_id_number_are_answered_and_the_form_goes_on(action_settings, dispatcher, domain):
    for text, response in (
        ("我不知道身份证号码", "utter_id_number_where"),
        ("why do you need it?", "utter_id_number_why"),
    ):
        tracker = make_tracker({"requested_slot": "id_number"}, intent="deny", text=text)
        # An answer of sorts: the form is not rejected (a no would stop the request), it asks again.
        assert await FORM.extract_id_number(dispatcher, tracker, domain) == {"id_number": None}
        assert responses(dispatcher)[-1] == response
    asked_name = make_tracker({"requested_slot": "person_name", "id_number": ID_ZHANG}, text="身份证号在哪看")
    assert await FORM.extract_id_number(dispatcher, asked_name, domain) == {}  # the number given stays


async def test_a_slot_cleared_earlier_in_the_turn_is_no_answer(action_settings, session, vault, dispatcher, domain):
    """Rasa hands the validation every slot set since the message, cleared ones too (a task's start
    clears its slots, a lapsed verification is forgotten): None is nothing to check or to complain of."""
    add_card(session, vault)
    session.commit()
    cleared = [
        {"event": "user", "text": ID_ZHANG, "input_channel": CHANNEL_NAME},
        {"event": "slot", "name": "id_number", "value": ID_ZHANG},
        {"event": "slot", "name": "person_name", "value": None},
    ]
    tracker = make_tracker(
        {"id_number": ID_ZHANG, "requested_slot": "person_name", "task": "progress"},
        text=ID_ZHANG, events=cleared, active_loop="identity_form",
        entities=[{"entity": "id_number", "value": ID_ZHANG}],
    )  # fmt: skip
    events = await FORM.run(dispatcher, tracker, domain)
    assert responses(dispatcher) == []
    assert session.scalars(select(IdentityAttempt)).all() == []  # no check of a name nobody gave
    assert {e["name"]: e["value"] for e in events} == {"id_number": ID_ZHANG, "person_name": None}


async def test_no_validation_reads_none_as_an_answer(action_settings, dispatcher, domain):
    from actions.confirmation import ValidateConfirmationForm
    from actions.unblock import ValidateUnblockCodeForm

    tracker = make_tracker({"id_number": ID_ZHANG, "verified_id_number": ID_ZHANG}, text="")
    for form, slots in [
        (FORM, ("id_number", "person_name", "phone_last4")),
        (ValidateUnblockCodeForm(), ("one_time_code",)),
        (ValidateConfirmationForm(), ("confirmation_reply",)),
    ]:
        for slot in slots:
            assert await getattr(form, f"validate_{slot}")(None, dispatcher, tracker, domain) == {slot: None}, slot
    assert dispatcher.messages == []


@pytest.mark.parametrize("answer", ["为什么没通过啊 照片不行吗", "算了不查了 拜拜", "Zhao"])
async def test_what_could_not_be_a_name_costs_no_attempt(action_settings, session, vault, dispatcher, domain, answer):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG, "requested_slot": "person_name"}, intent="inform", text=answer)
    assert await FORM.validate_person_name(answer, dispatcher, tracker, domain) == {"person_name": None}
    assert session.scalars(select(IdentityAttempt)).all() == []


async def test_a_name_said_around_a_yes_is_checked_though_the_classifier_heard_the_yes(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG, "requested_slot": "person_name"}, intent="affirm", text="嗯，是张伟")
    result = await FORM.validate_person_name("嗯，是张伟", dispatcher, tracker, domain)
    assert result["verified_id_number"] == ID_ZHANG
    bare_yes = make_tracker({"id_number": ID_ZHANG, "requested_slot": "person_name"}, intent="affirm", text="好的")
    assert await FORM.validate_person_name("好的", dispatcher, bare_yes, domain) == {"person_name": None}


async def test_a_name_introduced_in_the_request_is_kept_and_checked_with_the_id_number_that_follows(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault)
    session.commit()
    request = make_tracker(
        intent="check_progress", text="你好，我叫张伟，想查下社保卡到哪了", active_loop="identity_form"
    )
    assert await FORM.extract_person_name(dispatcher, request, domain) == {"person_name": "张伟"}
    assert await FORM.validate_person_name("张伟", dispatcher, request, domain) == {"person_name": "张伟"}
    assert session.scalars(select(IdentityAttempt)).all() == []  # nothing to check it with yet
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    then = make_tracker(
        {"person_name": "张伟", "requested_slot": "id_number"}, text=ID_ZHANG, active_loop="identity_form"
    )
    result = await FORM.validate_id_number(ID_ZHANG, dispatcher, then, domain)
    assert result["id_number"] == ID_ZHANG and result["verified_id_number"] == ID_ZHANG


async def test_a_wrong_name_introduced_first_fails_the_check_and_is_asked_for(
    action_settings, session, vault, dispatcher, domain
):
    add_card(session, vault)
    session.commit()
    then = make_tracker(
        {"person_name": "李四", "requested_slot": "id_number"}, text=ID_ZHANG, active_loop="identity_form"
    )
    result = await FORM.validate_id_number(ID_ZHANG, dispatcher, then, domain)
    assert result == {"id_number": ID_ZHANG, "person_name": None}  # the ID number stays, the name is asked for
    assert responses(dispatcher) == ["utter_identity_not_verified"]


@pytest.mark.parametrize(("text", "taken"), [("Lena Vogel", True), ("never mind", False), ("no thanks", False)])
async def test_a_latin_name_read_as_a_no_is_still_the_name_and_a_no_is_not(dispatcher, domain, text, taken):
    tracker = answering("person_name", text, "deny", 0.6)
    assert await FORM.extract_person_name(dispatcher, tracker, domain) == ({"person_name": text} if taken else {})


async def test_an_id_number_whose_end_is_corrected_in_the_same_breath_is_the_corrected_one(
    action_settings, dispatcher, domain
):
    said = "一一零一零五 一九四九 一二三一 零零二五 不对不对 是零零二叉"
    assert await FORM.validate_id_number(said, dispatcher, make_tracker(), domain) == {"id_number": ID_ZHANG}


@pytest.mark.parametrize(("said", "intent"), [("号码不对", "deny"), ("wrong number", "deny")])
async def test_a_wrong_number_at_the_id_step_is_asked_again_not_a_stop(
    action_settings, dispatcher, domain, said, intent
):
    tracker = answering("id_number", said, intent, 0.95)
    assert await FORM.extract_id_number(dispatcher, tracker, domain) == {"id_number": said}
    assert await FORM.validate_id_number(said, dispatcher, tracker, domain) == {"id_number": None}


async def test_not_knowing_with_a_stop_is_a_stop(dispatcher, domain):
    tracker = answering("phone_last4", "不知道 算了", "deny", 0.95)
    assert await FORM.extract_phone_last4(dispatcher, tracker, domain) == {}  # the rules stop the request


@pytest.mark.parametrize(("name", "hint"), [("Huang Lei", True), ("李四", False)])
async def test_a_latin_name_that_fails_hears_that_a_chinese_name_is_typed_in_characters(
    action_settings, session, vault, dispatcher, domain, name, hint
):
    add_card(session, vault)
    session.commit()
    tracker = make_tracker({"id_number": ID_ZHANG, "requested_slot": "person_name"}, text=name)
    await FORM.validate_person_name(name, dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_identity_not_verified", *(["utter_name_in_characters"] if hint else [])]


def _after(response: str, text: str, intent: str, slots: dict | None = None):
    """`text`, classified `intent`, just after the bot answered with `response`; the form starting."""
    told = {"event": "bot", "text": "…", "metadata": {"utter_action": response}}
    events = [{"event": "user", "text": "…"}, told, {"event": "user", "text": text}]
    task = {"check_progress": "progress", "report_loss": "loss"}[intent]
    return make_tracker(
        {**(slots or {}), "task": task}, intent=intent, text=text, events=events, active_loop="identity_form"
    )


@pytest.mark.parametrize(
    ("tracker", "answer"),
    [
        (_after("utter_replace_card", "那个，要带什么材料啊", "check_progress"), "utter_more_replace_documents"),
        (_after("utter_apply_card", "多长时间能拿到", "check_progress"), "utter_progress_timing"),
        (_after("utter_update_info", "can I do it online", "report_loss"), "utter_more_update_channels"),
        (_after("utter_progress_ready_for_pickup", "那下一步呢", "check_progress", {"verified_id_number": ID_ZHANG}),
         "utter_more_pickup_next"),
        (_after("utter_progress_in_production", "what should I do now", "check_progress",
                {"verified_id_number": ID_ZHANG}), "utter_more_making_next"),
        (_after("utter_loss_reported", "然后我该干嘛", "report_loss", {"verified_id_number": ID_ZHANG}),
         "utter_more_loss_next"),
    ],
)  # fmt: skip
async def test_a_follow_up_taken_for_a_card_task_is_answered_and_starts_no_check(
    action_settings, dispatcher, domain, tracker, answer
):
    events = await FORM.run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [answer]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["requested_slot"] is None and slots["task"] is None  # the form ends before asking anything


async def test_a_request_after_an_answer_still_starts_the_check(action_settings, dispatcher, domain):
    events = await FORM.run(dispatcher, _after("utter_replace_card", "我卡丢了 要带什么", "report_loss"), domain)
    assert responses(dispatcher) == []  # the form goes on to ask for the ID number
    assert {"event": "slot", "name": "task", "value": None, "timestamp": None} not in events


async def test_a_follow_up_asked_at_the_id_number_prompt_is_answered_and_the_number_asked_again(
    action_settings, dispatcher, domain
):
    told = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_replace_card"}}
    prompt = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_ask_identity_form_id_number"}}
    events = [{"event": "user", "text": "补卡要多少钱"}, told, prompt, {"event": "user", "text": "那要带什么"}]
    tracker = make_tracker({"task": "loss", "requested_slot": "id_number"}, intent="out_of_scope", text="那要带什么",
                           events=events, active_loop="identity_form")  # fmt: skip
    events = await FORM.run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_more_replace_documents"]
    assert events == [{"event": "slot", "name": "id_number", "value": None, "timestamp": None}]  # asked again


async def test_a_question_at_the_id_number_prompt_of_a_loss_report_is_answered_about_it(
    action_settings, dispatcher, domain
):
    events = [{"event": "user", "text": "I lost my card"}, {"event": "user", "text": "what do I need to bring"}]
    tracker = make_tracker({"task": "loss", "requested_slot": "id_number"}, intent="report_loss",
                           text="what do I need to bring", events=events, active_loop="identity_form")  # fmt: skip
    assert await FORM.run(dispatcher, tracker, domain) == [
        {"event": "slot", "name": "id_number", "value": None, "timestamp": None}
    ]
    assert responses(dispatcher) == ["utter_more_loss_documents"]
