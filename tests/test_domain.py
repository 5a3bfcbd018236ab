"""The domain's promises: every response in both languages, every action implemented."""

import re

import yaml

from tests.support import DOMAIN, LANGUAGES, ROOT, buttons, chosen, chosen_variants

PLACEHOLDER = re.compile(r"{(\w+)}")
CONFIRMATIONS = ("utter_loss_warning", "utter_unblock_confirm", "utter_confirm_again", "utter_reoffer_loss")


def variants(name: str, voice: bool = False) -> tuple[str, str]:
    """(English, Mandarin) text of a response, in chat and SMS or on the phone."""
    english, mandarin = chosen(name, "en", voice), chosen(name, "zh", voice)
    assert len(english) == 1 and len(mandarin) == 1, name
    return english[0], mandarin[0]


def test_every_response_exists_in_english_and_mandarin_with_the_same_values():
    for name in DOMAIN["responses"]:
        chat_english, chat_mandarin = variants(name)
        for voice in (False, True):
            english, mandarin = variants(name, voice)
            assert re.search(r"[\u4e00-\u9fff]", mandarin), name
            assert not re.search(r"[\u4e00-\u9fff]", english.replace("(备案)", "")), name
            assert set(PLACEHOLDER.findall(english)) == set(PLACEHOLDER.findall(mandarin)), name
            # A spoken variant may leave a value out (a masked card number reads badly), never add one.
            assert set(PLACEHOLDER.findall(english)) <= set(PLACEHOLDER.findall(chat_english)), name


def test_variants_are_chosen_by_language_and_channel_only_and_never_at_random():
    for name, options in DOMAIN["responses"].items():
        for option in options:
            assert option.get("channel") in (None, "voice"), name  # chat and SMS share the written wording
            for condition in option.get("condition", []):
                assert condition["type"] == "slot", name
                assert (condition["name"], condition["value"]) in {("language", "en"), ("language", "zh")}, name
        for language in LANGUAGES:
            for voice in (False, True):
                assert len(chosen(name, language, voice)) == 1, (name, language, voice)


def test_the_tests_choose_variants_as_rasa_does():
    from rasa.core.nlg.generator import ResponseVariationFilter

    rasa = ResponseVariationFilter(DOMAIN["responses"])
    for name in DOMAIN["responses"]:
        for language in (*LANGUAGES, None):
            for channel in ("chat", "sms", "voice"):
                picked = rasa.responses_for_utter_action(name, channel, {"language": language})
                assert picked == chosen_variants(name, language, channel == "voice"), (name, language, channel)


def test_spoken_confirmations_say_what_to_say_or_press_first():
    for name in CONFIRMATIONS:
        english, mandarin = variants(name, voice=True)
        assert re.search(r"^[^.]*press 1[^.]*\.[^.]*press 2", english.removeprefix("OK. ")), name
        assert re.search(r"^[^。]*按 1[^。]*按 2", mandarin.removeprefix("好的。")), name
        assert len(mandarin) <= 60, name
        chat_english, chat_mandarin = variants(name)
        assert "press" not in chat_english and "按 1" not in chat_mandarin, name  # chat and SMS keep their wording


def test_the_spoken_id_number_question_explains_the_keypad():
    english, mandarin = variants("utter_ask_identity_form_id_number", voice=True)
    assert "star" in english and "hash" in english
    assert "星号" in mandarin and "井号" in mandarin and "键盘" in mandarin


def test_what_ends_a_task_asks_nothing_on_the_phone_where_the_hotline_asks_for_anything_else_itself():
    """The replies actions send just before marking a task finished (actions/tasks.py `_finished`)."""
    progress = [name for name in DOMAIN["responses"] if name.startswith("utter_progress_")]
    ending = ["utter_loss_reported", "utter_loss_already_reported", "utter_unblock_done", "utter_task_cancelled"]
    for name in [*progress, *ending, "utter_nothing_changed", "utter_confirmation_stopped"]:
        for spoken in variants(name, voice=True):
            assert not re.search(r"[?？吗]", spoken), spoken


def test_only_the_spoken_id_number_question_tells_the_hotline_that_digits_may_come_in_pieces():
    from bot.contract import ASKS_FOR_ID_NUMBER

    for name in DOMAIN["responses"]:
        for language in LANGUAGES:
            for voice in (False, True):
                (variant,) = chosen_variants(name, language, voice)
                marked = (variant.get("custom") or {}).get(ASKS_FOR_ID_NUMBER)
                assert bool(marked) == (voice and name == "utter_ask_identity_form_id_number"), (name, language)


def test_every_custom_action_is_implemented():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(DOMAIN["actions"]) <= set(executor.actions)


def test_every_card_status_has_a_progress_answer():
    from bot.cards.statuses import CardStatus

    assert {f"utter_progress_{s.value}" for s in CardStatus} <= set(DOMAIN["responses"])


def test_spoken_variants_never_ask_to_reply_send_or_press_a_symbol_the_voice_cannot_say():
    spoken = [variants(name, voice=True) for name in DOMAIN["responses"]]
    chat = [variants(name) for name in DOMAIN["responses"]]
    for (english, mandarin), (chat_english, _) in zip(spoken, chat, strict=True):
        if english == chat_english:
            continue  # no spoken variant: the wording suits both
        assert not re.search(r"\breply\b|\bsend\b|#", english, re.IGNORECASE), english
        assert not re.search(r"回复|发送“|#", mandarin), mandarin


def test_written_variants_of_what_the_phone_says_its_own_way_give_no_keypad_instructions():
    """Where a reply has a spoken variant, the phone's instructions belong there: chat and SMS show
    theirs, which must not tell a reader to key in digits or press hash."""
    keypad = re.compile(r"\bkey (?:it |them )?in\b|\bpress\b|\bhash\b|#|按键|键盘|井号|电话中", re.IGNORECASE)
    for name in DOMAIN["responses"]:
        spoken, written = variants(name, voice=True), variants(name)
        if spoken == written:
            continue  # one wording for every channel, the phone's question included
        for text in written:
            assert not keypad.search(text), (name, text)


def test_what_a_form_says_of_a_wrong_answer_leaves_the_asking_to_the_form():
    """The form asks its question again right after these: were they to ask too, the person would
    be asked twice in a row (on the phone, two long prompts back to back)."""
    asking = re.compile(
        r"请(?:重新|直接)?(?:说出|输入|提供|发送|告诉)|重新(?:说出|输入|发送)|"
        r"\bplease (?:say|key|send|enter|give|type)\b|\b(?:say|key) (?:or|in)\b|"
        r"\b(?:send|enter|say) (?:it|them) again\b",
        re.IGNORECASE,
    )
    complaints = ["utter_invalid_id_number", "utter_id_number_checksum", "utter_invalid_last_four"]
    complaints += ["utter_code_format", "utter_code_wrong"]
    for name in complaints:
        for voice in (False, True):
            for text in variants(name, voice):
                assert not asking.search(text), (name, text)
    # The phone asks again from the ID number after a failed check; chat only asks for the name again.
    for text in variants("utter_identity_not_verified", voice=True):
        assert not asking.search(text), text


def test_every_information_question_the_rules_route_has_an_answer():
    from actions.info import INFO_RESPONSES

    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    answered = [rule for rule in rules if any(step.get("action") == "action_answer_info" for step in rule["steps"])]
    routed = {o["intent"] for rule in answered for step in rule["steps"] for o in step.get("or", []) if "intent" in o}
    assert routed and routed <= set(INFO_RESPONSES)
    assert set(INFO_RESPONSES) <= set(DOMAIN["intents"])


def test_buttons_are_chat_only_and_named_in_the_text_that_sms_receives():
    """The phone never hears of buttons, and SMS (text only) still names every choice the chat shows."""
    offering = [name for name in DOMAIN["responses"] if buttons(name, "zh") or buttons(name, "en")]
    assert set(CONFIRMATIONS) | {"utter_reoffer_unblock", "utter_ask_what_task", "utter_greet"} <= set(offering)
    for name in offering:
        for language in LANGUAGES:
            assert buttons(name, language, voice=True) == [], name
            (text,) = chosen(name, language, voice=False)
            offered = buttons(name, language)
            assert offered, (name, language)
            for button in offered:
                assert button["title"].lower() in text.lower(), (name, button)
        # The same choices in both languages, in the same order.
        assert [b["payload"] for b in buttons(name, "zh")] == [b["payload"] for b in buttons(name, "en")], name


def test_button_payloads_are_intents_and_their_titles_are_in_the_replys_language():
    for name in DOMAIN["responses"]:
        for language in LANGUAGES:
            for button in buttons(name, language):
                assert re.fullmatch(r"/([a-z_]+)", button["payload"]).group(1) in DOMAIN["intents"], button
                assert bool(re.search(r"[\u4e00-\u9fff]", button["title"])) == (language == "zh"), button


def test_every_confirmation_offers_yes_and_no():
    for name in (*CONFIRMATIONS, "utter_reoffer_unblock"):
        assert [b["payload"] for b in buttons(name, "zh")] == ["/affirm", "/deny"], name


def test_reviewers_label_with_exactly_the_domains_intents():
    """bot.models.INTENTS is the database's CHECK and the console's choice list: a new intent in the
    domain must be added there (and to a migration) before reviewers can label messages with it."""
    from bot.models import INTENTS

    assert sorted(INTENTS) == sorted(DOMAIN["intents"])
