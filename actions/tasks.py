"""Tasks for a verified person: progress, temporary loss report (挂失) and its cancellation (解挂).

The task starts (`start_task`) inside the validation that completes the identity form, in the
same action call: progress is answered, a change to the card is asked for confirmation, and
`action_confirm_task` makes it only after an explicit yes. An unblock first needs the one-time
code texted to the registered mobile (actions/unblock.py): the task's start sends it, and starts
again inside the code form's last validation to ask for the confirmation once the code was right.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.info import answered_as_follow_up
from actions.runtime import (
    DatabaseAction,
    channel_of,
    format_date,
    in_transaction,
    language_of,
    now,
    request_text,
    service_values,
    services,
    told_lately,
    traced,
    typed_text,
)
from actions.verification import forget_verification, idle_too_long, take_leave
from bot.cards.statuses import IN_THE_MAKING, CardStatus
from bot.contract import LOSS_CREATED, LOSS_REFERENCE, TASK_FINISHED
from bot.errors import (
    CardFormallyLost,
    CardNotFound,
    LossReportNotAllowed,
    NoActiveLossReport,
    NoRegisteredMobile,
    SelfServiceUnblockDisabled,
    TooManyCodes,
    UnblockCodeRequired,
)
from bot.identity.privacy import mask_card_number
from bot.language.text import (
    asks_when,
    asks_where_or_what_to_bring,
    card_refused,
    for_the_hall,
    mentions_bank,
    says_farewell,
)
from bot.services import (
    CardOverview,
    card_overview,
    check_loss_report_possible,
    check_unblock_possible,
    report_card_lost,
    send_unblock_code,
    unblock_card,
)

# The code form's slot once the code was right; the code itself never goes into the tracker's slots.
CODE_ACCEPTED = "accepted"
_CLOSED = frozenset({CardStatus.LOST, CardStatus.CANCELLED})
# A loss report the person says they did not make ("我没挂过啊 谁挂的", "I never reported it lost, who did?").
_NOT_BY_ME = re.compile(
    r"没挂|没有挂|没报|没有报|谁挂|谁报|谁给我挂|冒充|不是我挂|不是我报|不是本人"
    r"|\b(?:never|didn'?t|did not|haven'?t) (?:report|reported)\b|\bwho (?:reported|did|blocked)\b|\bwasn'?t me\b",
    re.IGNORECASE,
)
# Cards whose progress answer names the office to collect them from, and what to bring.
_AT_AN_OFFICE = frozenset({CardStatus.SHIPPED, CardStatus.READY_FOR_PICKUP})
# Refusals of a change to the card, whether found when the task starts or when it is confirmed,
# and what the person is told.
_REFUSALS: dict[type[Exception], str] = {
    CardFormallyLost: "utter_unblock_formally_lost",  # before the kind of refusal it is
    NoActiveLossReport: "utter_unblock_no_active_report",
    SelfServiceUnblockDisabled: "utter_unblock_not_self_service",
    UnblockCodeRequired: "utter_code_expired",
    NoRegisteredMobile: "utter_unblock_no_mobile",
    TooManyCodes: "utter_code_too_many",
}
_REFUSED = tuple(_REFUSALS)


# The card the identity check read in its transaction, for the task the same action call starts:
# set by the check, and scoped to one run of the form's validation (`keeping_checked_card`) so that
# nothing passes to another call, even on the same connection.
_CHECKED_CARD: ContextVar[tuple[str, CardOverview] | None] = ContextVar("checked_card", default=None)


@contextmanager
def keeping_checked_card() -> Iterator[None]:
    """Scope for `keep_checked_card`: what a check keeps inside is gone after it."""
    token = _CHECKED_CARD.set(None)
    try:
        yield
    finally:
        _CHECKED_CARD.reset(token)


def keep_checked_card(id_number: str, overview: CardOverview | None) -> None:
    """Keep the card a passed check of `id_number` just read, for the task started in the same call."""
    _CHECKED_CARD.set(None if overview is None else (id_number, overview))


async def _current_card(id_number: str) -> CardOverview:
    """The card the check kept for `id_number`, else read now."""
    kept = _CHECKED_CARD.get()
    if kept is not None and kept[0] == id_number:
        return kept[1]
    return await in_transaction(card_overview, id_number=id_number, now=now())


def task_done() -> list[dict]:
    """The slots of a task, cleared when it ends however it ends."""
    return [
        SlotSet("task", None),
        SlotSet("awaiting_confirmation", None),
        SlotSet("one_time_code", None),
        SlotSet("confirmation_reply", None),
        SlotSet("unclear_replies", None),
    ]


def _finished(dispatcher: CollectingDispatcher) -> None:
    """Mark the end of a task, so the hotline asks whether the caller needs anything else."""
    dispatcher.utter_message(json_message={TASK_FINISHED: True})


def _mark_reference(dispatcher: CollectingDispatcher, reference: str, *, created: bool) -> None:
    """Say which number in the replies is the loss reference, so the hotline can repeat it.

    `created` tells a new report from one that already existed, so the web app counts each once.
    """
    dispatcher.utter_message(json_message={LOSS_REFERENCE: reference, LOSS_CREATED: created})


def _refused(dispatcher: CollectingDispatcher, error: Exception) -> list[dict]:
    """Tell the person why the change was refused; the task ends."""
    dispatcher.utter_message(response=next(r for kind, r in _REFUSALS.items() if isinstance(error, kind)))
    return task_done()


def _just_confirmed(tracker: Tracker) -> bool:
    """True when confirmation_form has just read the latest message as a clear yes."""
    if tracker.get_slot("confirmation_reply") != "confirmed":
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "action":
            return event.get("name") == "confirmation_form"
        if event.get("event") == "user":
            return False  # nothing has read the latest message yet
    return False


async def start_task_when_done(
    form: FormValidationAction, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> list[dict]:
    """The task's start once `form`'s validation has left nothing to ask, else nothing.

    Called last in the validation of the forms a task waits for, with their events already on
    `tracker`. Nothing to ask is Rasa's own test for ending the form: no required slot is empty.
    Answering here rather than in an action of its own saves an action-server call and a policy
    prediction on the turn that completes the form; `requested_slot` None ends the form in Rasa,
    and the rules go on from `awaiting_confirmation` (data/rules.yml).
    """
    required = await form.required_slots(form.domain_slots(domain), dispatcher, tracker, domain)
    if any(tracker.get_slot(slot) is None for slot in required):
        return []
    return [SlotSet(REQUESTED_SLOT, None), *await start_task(dispatcher, tracker)]


async def start_task(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
    """Answer progress, or ask to confirm a loss report or its cancellation, for the verified person.

    Database failures are the calling form's to turn into an apology.
    """
    id_number = tracker.get_slot("verified_id_number")
    task = tracker.get_slot("task")
    if task not in _ANSWERS:
        return task_done()
    if not id_number:
        if tracker.get_slot("identity_locked"):  # a new request in a conversation locked earlier
            dispatcher.utter_message(response="utter_identity_locked", **service_values(tracker))
        return task_done()
    if tracker.get_slot("verified_loss_only") and task != "loss":
        # Verified on a locked ID number by the stronger check: a loss report and nothing else.
        dispatcher.utter_message(response="utter_identity_locked", **service_values(tracker))
        return task_done()
    language = language_of(tracker)
    try:
        overview = await _current_card(id_number)
    except CardNotFound:
        # Verified people have a card; this only happens if it was removed meanwhile.
        dispatcher.utter_message(response="utter_identity_locked", **service_values(tracker))
        return task_done()
    whose = {
        "holder_masked": overview.holder_masked,
        "card_number_masked": mask_card_number(overview.card_number, to_holder=True),
    }
    values = {
        **service_values(tracker),
        **whose,
        "office": overview.office,
        "updated_date": format_date(overview.status_changed_at, language),
        "reference": overview.active_reference or "",
        "expires_date": format_date(overview.active_expires_at, language) if overview.active_expires_at else "",
    }
    # Kept in slots too, so the confirmation's read-back names the same card.
    events = await _ANSWERS[task](dispatcher, tracker, overview, values)
    return [*(SlotSet(slot, value) for slot, value in whose.items()), *events]


FOLLOW_UP_TURNS = 3
"""A question within this many messages of the progress answer is a follow-up to it."""


def _answered_lately(tracker: Tracker, response: str, card: str) -> bool:
    """Whether the bot answered one of the person's last `FOLLOW_UP_TURNS` messages with `response`
    about the card `card` (masked as it was told: another person's card in the same state is news)."""
    return any(
        told.get("utter_action") == response and told.get("card_number_masked") == card
        for told in told_lately(tracker, FOLLOW_UP_TURNS)
    )


async def _answer_progress(
    dispatcher: CollectingDispatcher, tracker: Tracker, overview: CardOverview, values: dict
) -> list[dict]:
    """The card's progress; a follow-up right after it ("还要多久", "能让别人代领吗") is not told the
    same status again: how long is answered as far as it can be, where to go and what to bring by the
    status again where it names them, anything else says there is no more to see here and where to ask.
    (What the status means for the person, "那下一步是啥", is answered before the identity form starts:
    actions/identity.py.)"""
    status = f"utter_progress_{overview.status.value}"
    text = typed_text(tracker)
    # What the request itself said, when the ID number and name came after it ("卡刷不了，提示已挂失，可我
    # 从来没挂过" … "3201… 赵敏"): the answer is to that too.
    said = {text, request_text(tracker)}
    follow_up = _answered_lately(tracker, status, values["card_number_masked"])
    tell = not follow_up or (overview.status in _AT_AN_OFFICE and asks_where_or_what_to_bring(text))
    if tell:
        dispatcher.utter_message(response=status, **values)
    extras = []
    if overview.status in (CardStatus.LOSS_REPORTED, CardStatus.LOST) and any(map(_NOT_BY_ME.search, said)):
        extras.append("utter_loss_not_by_you")
    if overview.status is CardStatus.ACTIVE and any(map(card_refused, said)):
        # "卡用不了了": a working card refused somewhere; the state alone would contradict the person.
        extras.append("utter_active_card_refused_elsewhere")
    # "能让我妈替我去领吗", "几点上班" beside the request
    extras += sorted({hall for one in said if (hall := for_the_hall(one)) in ("utter_proxy", "utter_office_hours")})
    if overview.status in IN_THE_MAKING and asks_when(text):  # on its way: "how long" has an answer of sorts
        extras.append("utter_progress_timing")
    for extra in extras:
        dispatcher.utter_message(response=extra, **values)
    if not tell and not extras:
        dispatcher.utter_message(response="utter_progress_nothing_more", **values)
    _finished(dispatcher)
    return task_done()


async def _answer_loss(
    dispatcher: CollectingDispatcher, tracker: Tracker, overview: CardOverview, values: dict
) -> list[dict]:
    """Ask to confirm a loss report, unless the card already has one or is not the person's to report.

    A word of the card's bank function ("银行那边也要挂吗") is answered first: this report does not
    cover it, and "no need to report it again" must not read as if the bank were covered. A
    follow-up to a change just made ("那银行那边的挂失也一起解了吗" after an unblock) is answered as
    that, and no new report is offered."""
    if answered_as_follow_up(dispatcher, tracker, for_the_task=True):  # else the report in force, its date
        _finished(dispatcher)
        return task_done()
    if mentions_bank(typed_text(tracker)):
        dispatcher.utter_message(response="utter_loss_bank_side")
    if overview.active_reference:
        dispatcher.utter_message(response="utter_loss_already_reported", **values)
        _mark_reference(dispatcher, overview.active_reference, created=False)
        return task_done()
    try:
        check_loss_report_possible(overview)
    except LossReportNotAllowed:
        closed = overview.status in _CLOSED
        dispatcher.utter_message(response="utter_loss_already_closed" if closed else "utter_loss_not_held")
        return task_done()
    dispatcher.utter_message(response="utter_loss_warning", **values)
    return [SlotSet("awaiting_confirmation", "loss")]


async def _answer_unblock(
    dispatcher: CollectingDispatcher, tracker: Tracker, overview: CardOverview, values: dict
) -> list[dict]:
    """Text a one-time code first; once it was right, ask to confirm the cancellation."""
    try:
        check_unblock_possible(overview, services().settings)
    except _REFUSED as error:
        events = _refused(dispatcher, error)
        if isinstance(error, NoActiveLossReport) and not isinstance(error, CardFormallyLost):
            # "帮我解冻, 药店刷不了" on a card not reported lost: the state it is in, and for a working
            # card where else the trouble may lie.
            dispatcher.utter_message(response=f"utter_progress_{overview.status.value}", **values)
            if overview.status is CardStatus.ACTIVE:
                dispatcher.utter_message(response="utter_active_card_refused_elsewhere", **values)
        return events
    if tracker.get_slot("one_time_code") == CODE_ACCEPTED:
        dispatcher.utter_message(response="utter_unblock_confirm", **values)
        return [SlotSet("awaiting_confirmation", "unblock")]
    return await _send_code(dispatcher, tracker)


# What each task answers once the person is verified, naming whose card it is.
_ANSWERS = {"progress": _answer_progress, "loss": _answer_loss, "unblock": _answer_unblock}


async def _send_code(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
    """Text a one-time code to the registered mobile and ask for it (the rules start unblock_code_form)."""
    try:
        phone = await in_transaction(
            send_unblock_code,
            id_number=tracker.get_slot("verified_id_number"),
            conversation_id=tracker.sender_id,
            language=language_of(tracker),
            now=now(),
        )
    except _REFUSED as error:
        return _refused(dispatcher, error)
    dispatcher.utter_message(response="utter_code_sent", phone=phone)
    return [SlotSet("awaiting_confirmation", "code"), SlotSet("one_time_code", None)]


class ActionConfirmTask(DatabaseAction):
    """confirmation_form read a clear yes: make the loss report or cancel it, then read back the result."""

    def name(self) -> str:
        return "action_confirm_task"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        pending = tracker.get_slot("awaiting_confirmation")
        id_number = tracker.get_slot("verified_id_number")
        if (
            pending not in ("loss", "unblock")
            or not id_number
            or (pending != "loss" and tracker.get_slot("verified_loss_only"))
        ):
            return task_done()
        if not _just_confirmed(tracker):
            # Only a yes that confirmation_form just read confirms anything.
            dispatcher.utter_message(response="utter_ask_what_task")
            return task_done()
        if idle_too_long(tracker):
            # The yes came after the screen or the phone had gone quiet: whoever answers now must
            # be verified again before the card changes.
            dispatcher.utter_message(response="utter_confirmation_expired")
            return [*task_done(), *forget_verification()]
        language = language_of(tracker)
        change = report_card_lost if pending == "loss" else unblock_card
        try:
            outcome = await in_transaction(
                change,
                id_number=id_number,
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                now=now(),
                language=language,
            )
        except (LossReportNotAllowed, CardNotFound):
            dispatcher.utter_message(response="utter_loss_already_closed")
            return task_done()
        except _REFUSED as error:
            return _refused(dispatcher, error)
        if pending == "unblock":
            dispatcher.utter_message(response="utter_unblock_done")
            _finished(dispatcher)
            return task_done()
        report, created = outcome
        dispatcher.utter_message(
            response="utter_loss_reported" if created else "utter_loss_already_reported",
            reference=report.reference,
            expires_date=format_date(report.expires_at, language),
        )
        _mark_reference(dispatcher, report.reference, created=created)
        _finished(dispatcher)
        return task_done()


class ActionDeclineTask(Action):
    """No (or no clear answer) to the confirmation: nothing changes.

    The declined change is remembered for `action_reconsider`, which offers it again if a clear
    yes follows at once ("actually, please do report it").
    """

    def name(self) -> str:
        return "action_decline_task"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        unanswered = tracker.get_slot("confirmation_reply") == "unanswered"
        dispatcher.utter_message(response="utter_confirmation_stopped" if unanswered else "utter_nothing_changed")
        if (tracker.latest_message.get("intent") or {}).get("name") == "goodbye" and says_farewell(typed_text(tracker)):
            # "再见" at the question; "maybe later", which the classifier may also call a goodbye, is a no
            dispatcher.utter_message(response="utter_goodbye")
            return [*task_done(), *take_leave(dispatcher)]
        _finished(dispatcher)
        return [*task_done(), SlotSet("declined_task", tracker.get_slot("awaiting_confirmation"))]


class ActionCancelTask(Action):
    """The person stopped ("算了", "cancel"): forget the task and any half-given identity details."""

    def name(self) -> str:
        return "action_cancel_task"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return cancel_task(dispatcher)


def under_way(tracker: Tracker) -> bool:
    """Whether a request is under way: a task, or an ID number given and not yet verified."""
    given = tracker.get_slot("id_number")
    return bool(tracker.get_slot("task") or (given and given != tracker.get_slot("verified_id_number")))


def cancel_task(dispatcher: CollectingDispatcher) -> list[dict]:
    """Say the request was stopped, and forget it with any half-given identity details."""
    dispatcher.utter_message(response="utter_task_cancelled")
    _finished(dispatcher)
    return [
        *task_done(),
        SlotSet("id_number", None),
        SlotSet("person_name", None),
        SlotSet("requested_slot", None),
    ]
