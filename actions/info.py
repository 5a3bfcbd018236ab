"""Answers that need no identity: replacing, applying, activating, cross-region use, details."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import (
    UNAVAILABLE,
    gives_id_number,
    in_transaction,
    language_of,
    now,
    service_values,
    told_lately,
    traced,
    typed_text,
)
from actions.verification import forget_verification, idle_too_long, other_than_verified
from bot.cards.statuses import NOT_YET_HELD, CardStatus
from bot.errors import BotError, InvalidIdNumber
from bot.identity.answers import (
    about_someone_else,
    id_number_question,
    id_number_unknown,
    looks_like_latin_name,
    name_alone,
    name_beside_id,
    name_from_answer,
)
from bot.identity.idnumbers import validate_id_number
from bot.language.confirmation import asks_if_done
from bot.language.extraction import id_number_attempt
from bot.language.follow_ups import follow_up_aspect
from bot.language.text import asks_how_loss_reporting_works, for_the_hall, mentions_bank
from bot.services import card_overview

log = logging.getLogger(__name__)

INFO_RESPONSES = {
    "replace_card": "utter_replace_card",
    "cross_region": "utter_cross_region",
    "apply_card": "utter_apply_card",
    "activate_card": "utter_activate_card",
    "update_info": "utter_update_info",
    "out_of_scope": "utter_out_of_scope",
    "bot_challenge": "utter_iamabot",
}
# Questions about using or replacing a card, and what a verified person is told of their own card
# beside the general answer when it cannot be used as that answer says ("can I use it at a hospital
# in Shanghai?" with the card reported lost an hour ago; "怎么补卡" after the report, which hears that
# the report is done and the replacement is next, not "report it first if…").
_ABOUT_OWN_CARD = frozenset({"cross_region", "activate_card", "replace_card"})


def card_note(intent: str, status: CardStatus) -> str | None:
    """The response that says what the verified person's own card means for a question about use
    or replacement."""
    if intent == "replace_card":
        return "utter_card_note_replace_reported" if status in (CardStatus.LOSS_REPORTED, CardStatus.LOST) else None
    if status in (CardStatus.LOSS_REPORTED, CardStatus.LOST, CardStatus.CANCELLED, CardStatus.REJECTED):
        return f"utter_card_note_{status.value}"
    if status in NOT_YET_HELD:
        return "utter_card_note_not_yet_held"
    if status is CardStatus.ISSUED and intent == "cross_region":
        return "utter_card_note_not_activated"
    if status is CardStatus.ACTIVE and intent == "activate_card":
        return "utter_card_note_already_active"
    return None


# General answers that a follow-up asking more ("激活要钱吗" after the activation answer) would get
# again word for word: it hears instead that this is all there is here, and where to ask.
_GENERAL = frozenset(
    {"utter_replace_card", "utter_replace_card_free", "utter_cross_region", "utter_apply_card", "utter_activate_card"}
)


# Questions that keep their general answer when asked for someone else or in person ("社保卡补办可以
# 代办吗", "激活要本人去吗"), and hear after it that the service hall decides who may act.
_PROXY_NOTED = frozenset({"apply_card", "replace_card", "activate_card", "update_info", "cross_region"})


# Why the ID number is asked for, or where to find it (bot.identity.answers.id_number_question).
ID_HELP = {"where": "utter_id_number_where", "why": "utter_id_number_why"}


def say_what_is_wrong(dispatcher: CollectingDispatcher, invalid: InvalidIdNumber) -> None:
    """Tell what is wrong with a number given as the ID number: 18 characters whose check character
    does not fit (a digit mistyped), or not an ID number at all."""
    wrong_check = invalid.reason == "checksum"
    dispatcher.utter_message(response="utter_id_number_checksum" if wrong_check else "utter_invalid_id_number")


# What a finished change said, and the short answer to "did it work?" asked after it.
_DONE = {
    "utter_loss_reported": "utter_yes_loss_done",
    "utter_loss_already_reported": "utter_yes_loss_done",
    "utter_unblock_done": "utter_yes_unblock_done",
}


# What a loss report, or the news of one, said: the bank side is a follow-up to it.
_LOSS_TOLD = frozenset(
    {
        "utter_loss_reported",
        "utter_loss_already_reported",
        "utter_loss_warning",
        "utter_progress_loss_reported",
        "utter_progress_lost",
    }
)


# The topic each answer explains: the topic of a follow-up that names none ("要带什么材料" after the
# replacement answer; "那下一步是啥" after a loss report).
_TOPIC_ANSWERS = {
    "utter_apply_card": "apply",
    "utter_replace_card": "replace",
    "utter_replace_card_free": "replace",
    "utter_card_note_replace_reported": "replace",
    "utter_progress_lost": "replace",  # formally reported lost: a replacement is what comes next
    "utter_card_note_lost": "replace",
    "utter_activate_card": "activate",
    "utter_progress_issued": "activate",
    "utter_card_note_not_activated": "activate",
    "utter_update_info": "update",
    "utter_cross_region": "cross_region",
    "utter_loss_reported": "loss",
    "utter_loss_already_reported": "loss",
    "utter_progress_loss_reported": "loss",
    "utter_card_note_loss_reported": "loss",
    "utter_yes_loss_done": "loss",
    "utter_progress_ready_for_pickup": "pickup",
    "utter_progress_submitted": "making",
    "utter_progress_under_review": "making",
    "utter_progress_in_production": "making",
    "utter_progress_shipped": "making",
    "utter_card_note_not_yet_held": "making",
    "utter_progress_rejected": "rejected",
    "utter_card_note_rejected": "rejected",
    "utter_progress_cancelled": "cancelled",
    "utter_card_note_cancelled": "cancelled",
    "utter_loss_how": "loss",
    "utter_office_hours": "hall",
    "utter_close_card": "hall",
    "utter_proxy": "hall",
}
# What there is to say of each part of a topic (bot.language.follow_ups); a part with no answer
# here is answered as before (the classifier's intent, or "that is all I can tell you").
_MORE = {
    "apply": {
        "documents": "utter_more_apply_documents",
        "channels": "utter_more_apply_channels",
        "next": "utter_more_apply_next",
        "notice": "utter_more_apply_next",
        "cost": "utter_more_apply_cost",
        "time": "utter_progress_timing",
    },
    # A cancelled card: a new one is applied for (not as a first card, so nothing is said of its cost).
    "cancelled": {
        "documents": "utter_more_apply_documents",
        "channels": "utter_more_apply_channels",
        "next": "utter_more_apply_next",
    },
    "replace": {
        "documents": "utter_more_replace_documents",
        "channels": "utter_more_replace_channels",
        "next": "utter_more_replace_next",
        "cost": "utter_more_replace_cost",
        "time": "utter_progress_timing",
    },
    "activate": {
        "documents": "utter_more_activate_documents",
        "channels": "utter_more_activate_channels",
        "next": "utter_more_activate_next",
    },
    "update": {"documents": "utter_more_update_documents", "channels": "utter_more_update_channels"},
    "cross_region": {"channels": "utter_more_cross_region_channels", "next": "utter_more_cross_region_next"},
    "loss": {
        "documents": "utter_more_loss_documents",
        "channels": "utter_more_loss_channels",
        "next": "utter_more_loss_next",
        "notice": "utter_more_loss_notice",
        "time": "utter_more_loss_time",
    },
    "pickup": {
        "documents": "utter_more_pickup_documents",
        "channels": "utter_more_pickup_channels",
        "next": "utter_more_pickup_next",
    },
    "making": {
        "documents": "utter_more_pickup_documents",
        "channels": "utter_more_pickup_channels",
        "next": "utter_more_making_next",
        "notice": "utter_more_making_next",
        "time": "utter_progress_timing",
    },
    "rejected": {"documents": "utter_more_rejected_next", "next": "utter_more_rejected_next"},
    "hall": {"channels": "utter_more_hall_channels"},
}


# ... and a follow-up's own answer keeps its topic for the next one ("要带什么" then "网上能办吗").
_TOPIC_TOLD = {
    **_TOPIC_ANSWERS,
    **{response: topic for topic, parts in _MORE.items() for response in parts.values() if topic in response},
    "utter_more_replace_cost_free": "replace",
}


# Answers that name the replacement fee, and what they say where replacing is free.
_WHEN_FREE = {
    "utter_replace_card": "utter_replace_card_free",
    "utter_more_replace_cost": "utter_more_replace_cost_free",
}


def _for_the_fee(response: str, values: dict) -> str:
    """`response`, or its free-of-charge wording where this city charges nothing to replace a card."""
    return _WHEN_FREE.get(response, response) if values["fee"] == 0 else response


def _more_about_topic(told: list[str | None], text: str, *, for_the_task: bool) -> str | None:
    """The answer to a follow-up that asks about a part of a topic just explained (the newest that
    has an answer for it: "ok and what do I bring" after the pickup answer and then the hall's
    hours), or None. A part there is nothing more to say of ("异地就医要钱吗") hears that and where
    to ask, unless it is asked `for_the_task` of a verified person, whose task's answer says more of
    it and of how long ("那挂失什么时候过期": the report in force, with its date)."""
    topics = list(dict.fromkeys(_TOPIC_TOLD[said] for said in told if said in _TOPIC_TOLD))  # newest first
    topics.sort(key=lambda topic: topic == "hall")  # the hall's note beside an answer is not what is asked about
    asked = {topic: follow_up_aspect(text, topic) for topic in topics}
    if for_the_task:
        asked = {topic: part for topic, part in asked.items() if part != "time"}
    response = next((_MORE[topic][part] for topic, part in asked.items() if part in _MORE[topic]), None)
    if response is None and not for_the_task and topics and asked[topics[0]]:
        response = "utter_info_nothing_more"
    return response


# How many of the person's messages back an answer still gives a follow-up its topic (a thanks, or
# another question, may come between).
_TOPIC_TURNS = 3


def answered_as_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, *, for_the_task: bool = False) -> bool:
    """Answer a short follow-up to a change just made or told of, whatever the classifier made of
    it (a loss report, even): "did it go through?" / "挂上了吧", or "what about the bank part" /
    "银行那边呢" after a loss report or an unblock; and a question that names no topic of its own
    ("要带什么材料", "can I do it online", "那下一步是啥") about the topic just explained. False when
    the message is not that."""
    text = typed_text(tracker)
    told = [told.get("utter_action") for told in told_lately(tracker, 2)]
    if mentions_bank(text) and _LOSS_TOLD.intersection(told):
        dispatcher.utter_message(response="utter_loss_bank_side")
        return True
    if mentions_bank(text) and "utter_unblock_done" in told:  # "那银行那边的挂失也一起解了吗"
        dispatcher.utter_message(response="utter_unblock_bank_side")
        return True
    done = next((_DONE[said] for said in told if said in _DONE), None) if asks_if_done(text) else None
    if done is not None:
        dispatcher.utter_message(response=done)
        return True
    lately = [told.get("utter_action") for told in told_lately(tracker, _TOPIC_TURNS)]
    if tracker.get_slot("task") == "loss":  # "要带什么" at the ID number prompt of a loss report
        lately.append("utter_loss_how")
    if more := _more_about_topic(lately, text, for_the_task=for_the_task):
        values = service_values(tracker)
        dispatcher.utter_message(response=_for_the_fee(more, values), **values)
        return True
    return False


class ActionAnswerInfo(Action):
    """Answers the latest information question with this city's values (hotline, hours, fee)."""

    def name(self) -> str:
        return "action_answer_info"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = typed_text(tracker)
        asking = tracker.get_slot("requested_slot") if tracker.active_loop_name == "identity_form" else None
        if not asking and answered_as_follow_up(dispatcher, tracker):
            return []
        if asking == "person_name" and looks_like_latin_name(name_from_answer(text)):
            return []  # a name read as a question: the identity form, which runs next, takes it
        response = INFO_RESPONSES.get(intent, "utter_default")
        if response == "utter_out_of_scope":
            # Where it is settled, how a loss report works, or where the ID number is found, rather
            # than "I can't answer that".
            response = (
                for_the_hall(text)
                or ("utter_loss_how" if asks_how_loss_reporting_works(text) else None)
                or (ID_HELP["where"] if id_number_unknown(text) else response)
            )
        if asking in ("id_number", "person_name") and (question := id_number_question(text)):
            response = ID_HELP[question]
        values = service_values(tracker)
        response = _for_the_fee(response, values)
        if response in _GENERAL and any(told.get("utter_action") == response for told in told_lately(tracker, 1)):
            response = "utter_info_nothing_more"
        dispatcher.utter_message(response=response, **values)
        if intent in _PROXY_NOTED and for_the_hall(text) == "utter_proxy":
            # "社保卡补办可以代办吗", "do I have to apply in person": the general answer, then who may act.
            dispatcher.utter_message(response="utter_proxy", **values)
        if intent in _ABOUT_OWN_CARD and not asking and (verified := _own_card_known(tracker)):
            await _say_card_note(dispatcher, intent, verified, language_of(tracker), values)
        return []


def _own_card_known(tracker: Tracker) -> str | None:
    """The verified ID number when the question may be answered about that person's own card: a
    full verification still in force, and a question not about someone else's card."""
    verified = tracker.get_slot("verified_id_number")
    if not verified or tracker.get_slot("verified_loss_only") or idle_too_long(tracker):
        return None
    return None if about_someone_else(typed_text(tracker)) else verified


async def _say_card_note(
    dispatcher: CollectingDispatcher, intent: str, verified_id_number: str, language: str, values: dict
) -> None:
    """Add what the person's own card means for their question, if anything. The general answer
    stands alone when the card cannot be read: no apology for an extra the person did not ask for."""
    try:
        overview = await in_transaction(card_overview, id_number=verified_id_number, now=now())
    except (*UNAVAILABLE, BotError) as error:  # BotError: no card on record, which the person would ask about
        log.warning("card note left out: %s", type(error).__name__)
        return
    note = card_note(intent, overview.status)
    if note:
        dispatcher.utter_message(response=note, status=overview.status.label(language), **values)


class ActionAskTask(Action):
    """A number or name given out of the blue: keep it, and ask what the person wants to do.

    A new ID number is kept with the name given beside it, if any, for the check the request
    starts; one other than the verified ID number ends that verification (this card gets its own).
    A name sent on its own after such an ID number is kept too: the request then finds both.
    """

    def name(self) -> str:
        return "action_ask_task"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        verified = tracker.get_slot("verified_id_number")
        if not gives_id_number(tracker):
            if answered_as_follow_up(dispatcher, tracker):  # "is it free" after the application answer
                return []
            if attempt := id_number_attempt(typed_text(tracker)):
                try:
                    validate_id_number(attempt)
                except InvalidIdNumber as invalid:
                    say_what_is_wrong(dispatcher, invalid)
            dispatcher.utter_message(response="utter_ask_what_task")
            return _name_for_kept_id_number(tracker)
        dispatcher.utter_message(response="utter_ask_what_task")
        if verified and not other_than_verified(tracker):
            return []
        name = name_beside_id(typed_text(tracker))
        return [
            *(forget_verification() if verified else []),
            SlotSet("person_name", name),
            SlotSet("phone_last4", None),
        ]


def _name_for_kept_id_number(tracker: Tracker) -> list[dict]:
    """The name in a message that is only a name, kept for an ID number given out of the blue and
    not yet checked (a verified conversation's name is already its holder's)."""
    kept = tracker.get_slot("id_number")
    if not kept or kept == tracker.get_slot("verified_id_number") or tracker.get_slot("person_name"):
        return []
    name = name_alone(typed_text(tracker))
    return [SlotSet("person_name", name)] if name else []
