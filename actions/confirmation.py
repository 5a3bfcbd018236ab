"""The confirmation step: while a loss report or an unblock waits for a yes, every reply comes here.

`confirmation_form` takes each message, whatever the classifier made of it (affirm, deny,
report_loss, nlu_fallback, ...), and reads it with `bot.language.confirmation.decide` on the words as
typed or spoken: a clear yes (keypad 1) sets ``confirmed``, any negation, hesitation or keypad 2
``declined``, a request for staff that is not a yes ``human``; an unclear reply re-asks briefly, and
after `MAX_REASKS` re-asks the step stops without acting (``unanswered``). The rules then run
`action_confirm_task`, `action_decline_task` or `action_handover`.
A clear yes (whatever its intent, affirm or deny) within a couple of messages of a "no" offers the declined change again
(`action_reconsider`), so a change of mind is honoured but never acted on without a fresh yes.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.info import answered_as_follow_up
from actions.runtime import answers_only, traced, typed_text
from actions.tasks import cancel_task, under_way
from actions.verification import forget_everything, take_leave
from bot.contract import TASK_FINISHED
from bot.identity.answers import says_card_was_wrong
from bot.language.confirmation import Decision, asks_if_done, decide, ends_in_question, only_a_pause
from bot.language.confirmation import read_reply as words_of
from bot.language.text import a_pause

SLOT = "confirmation_reply"
MAX_REASKS = 2
"""Unclear replies re-asked before the step stops without acting."""
RECONSIDER_WITHIN = 2
"""User messages after a "no" (this one included) in which a clear yes offers the change again."""
# The intent that asks for each change, so a yes that restates the task ("是的，挂失吧") counts.
TASK_INTENTS = {"loss": "report_loss", "unblock": "cancel_loss"}
_OUTCOMES = {Decision.YES: "confirmed", Decision.NO: "declined"}


def read_reply(tracker: Tracker, pending: str) -> Decision:
    """What the latest message means for the pending change `pending` (``loss`` or ``unblock``)."""
    intent = tracker.latest_message.get("intent") or {}
    return decide(typed_text(tracker), intent.get("name"), intent.get("confidence"), task_intent=TASK_INTENTS[pending])


class ValidateConfirmationForm(FormValidationAction):
    """Validates `confirmation_form`: one place decides what a reply to a confirmation means."""

    def name(self) -> str:
        return "validate_confirmation_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return domain_slots if tracker.get_slot("awaiting_confirmation") in TASK_INTENTS else []

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return await super().run(dispatcher, tracker, domain)

    async def extract_confirmation_reply(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Every message while asked, so no intent can slip past the decision to another rule.
        if tracker.get_slot(REQUESTED_SLOT) != SLOT:
            return {}
        return {SLOT: typed_text(tracker) or "?"}

    @answers_only
    async def validate_confirmation_reply(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        pending = tracker.get_slot("awaiting_confirmation")
        decision = read_reply(tracker, pending)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if decision is not Decision.YES and intent == "request_human":
            # "转人工" / "can I talk to a person": nothing is done, and staff take over with the task.
            return {SLOT: "human"}
        if decision is not Decision.YES and asks_if_done(typed_text(tracker)):
            # "那到底挂上了没有": not a no read into its 没, and never left unanswered before a hang-up.
            dispatcher.utter_message(response=f"utter_not_done_{pending}")
            return {SLOT: None}
        if (
            decision is not Decision.YES
            and intent != "goodbye"
            and ends_in_question(typed_text(tracker), TASK_INTENTS[pending])
        ):
            # "挂失后还能用吗？", "等一下，要收费吗": what the change does, then the question again. Not a
            # no and not an unclear reply: the person is weighing it up.
            dispatcher.utter_message(response=f"utter_about_{pending}")
            return {SLOT: None}
        if decision is not Decision.YES and only_a_pause(typed_text(tracker)):
            # "等一下", "嗯 我想想", "hold on let me check my bag": the change waits for the answer,
            # rather than being dropped (a caller who then said "确认" was only asked again).
            dispatcher.utter_message(response="utter_confirm_when_ready")
            return {SLOT: None}
        if decision in _OUTCOMES:
            return {SLOT: _OUTCOMES[decision]}
        unclear = int(tracker.get_slot("unclear_replies") or 0) + 1
        if unclear > MAX_REASKS:
            return {SLOT: "unanswered"}
        return {SLOT: None, "unclear_replies": unclear}


class ActionAskConfirmationReply(Action):
    """Asks again after an unclear reply; silent on the first ask, which the task's question made."""

    def name(self) -> str:
        return "action_ask_confirmation_reply"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if tracker.get_slot("unclear_replies"):
            dispatcher.utter_message(response="utter_confirm_again")
        return []


def _messages_since_decline(tracker: Tracker) -> int | None:
    """User messages since the last "no" to a confirmation, or None when there was none."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            count += 1
        elif event.get("event") == "action" and event.get("name") == "action_decline_task":
            return count
    return None


def _answers_anything_else(tracker: Tracker) -> bool:
    """Whether the latest message answers the bot's last turn, which finished a task and so asked
    (on the phone) or offered (in chat) whether there was anything else, with no task under way."""
    if tracker.get_slot("task"):
        return False
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return False
        elif users == 1 and event.get("event") == "bot":
            if ((event.get("data") or {}).get("custom") or {}).get(TASK_FINISHED):
                return True
    return False


class ActionReconsider(Action):
    """A yes or no with nothing pending: offer again a change declined just before if the words say
    yes ("不对，还是挂了吧" is often classified ``deny``); otherwise a yes asks what is wanted, a no
    to "anything else?" after a finished task says goodbye, any other no stops whatever was under
    way, and a no with nothing under way ("不用了，谢谢" after an answer) says goodbye too; a no that
    says the number or card was wrong ("号码不对") asks again, for a new check. A follow-up question
    taken for a yes ("然后呢" after an answer) is answered as that."""

    def name(self) -> str:
        return "action_reconsider"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        declined = tracker.get_slot("declined_task")
        since = _messages_since_decline(tracker)
        if (
            declined in TASK_INTENTS
            and tracker.get_slot("verified_id_number")
            and not (declined != "loss" and tracker.get_slot("verified_loss_only"))
            and since is not None
            and since <= RECONSIDER_WITHIN
            # The words alone: this only offers the change again, which then needs a yes of its own
            # ("还是找不到 挂了吧" is classified a no for its 找不到).
            and words_of(typed_text(tracker), TASK_INTENTS[declined]) == "yes"
        ):
            dispatcher.utter_message(response=f"utter_reoffer_{declined}")
            return [
                SlotSet("task", declined),
                SlotSet("awaiting_confirmation", declined),
                SlotSet("declined_task", None),
                SlotSet("unclear_replies", None),
            ]
        if answered_as_follow_up(dispatcher, tracker):  # "然后呢", "那下一步是啥" are often classified a yes
            return []
        if a_pause(typed_text(tracker)):
            # "wait, let me check my bag first": neither a no to anything nor a goodbye.
            dispatcher.utter_message(response="utter_take_your_time")
            return []
        if (tracker.latest_message.get("intent") or {}).get("name") == "deny":
            if under_way(tracker) and not _answers_anything_else(tracker):
                return cancel_task(dispatcher)
            if says_card_was_wrong(typed_text(tracker)):
                # "号码不对" after the answer: not that card; the next request starts a new check.
                dispatcher.utter_message(response="utter_ask_what_task")
                return [*forget_everything(), SlotSet("awaiting_confirmation", None)]
            # "没有了" to "anything else?", or "不用了，谢谢" with nothing under way: nothing more is wanted.
            dispatcher.utter_message(response="utter_goodbye")
            return take_leave(dispatcher)
        dispatcher.utter_message(response="utter_ask_what_task")
        return [SlotSet("awaiting_confirmation", None)]
