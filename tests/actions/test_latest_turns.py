"""The actions decide the same on the latest turns Rasa sends as on the whole session.

Rasa sends the action server the events from the ACTION_HISTORY_MESSAGES-th last user message on
(rasa_addons/action_calls.py). Every action that walks back through the events is checked here
against the whole session, over generated conversations.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa_sdk import Tracker

from actions.confirmation import RECONSIDER_WITHIN, _messages_since_decline
from actions.handover import misses_in_a_row
from actions.runtime import typed_text
from actions.tasks import _just_confirmed
from actions.verification import idle_too_long
from bot.contract import ACTION_HISTORY_MESSAGES, FALLBACK_INTENT
from rasa_addons.action_calls import latest_turns

ACTIONS = ["action_listen", "action_nlu_fallback", "action_decline_task", "confirmation_form", "utter_greet"]


@st.composite
def sessions(draw) -> list:
    events, clock = [], 1000.0
    for kind in draw(st.lists(st.sampled_from(["user", "action", "slot"]), max_size=60)):
        clock += draw(st.sampled_from([1.0, 30.0, 900.0]))
        if kind == "user":
            intent = draw(st.sampled_from([FALLBACK_INTENT, "affirm", "deny", "report_loss"]))
            text = draw(st.sampled_from(["嗯", "对", "不是", "挂失"]))
            events.append(UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=clock))
        elif kind == "action":
            events.append(ActionExecuted(draw(st.sampled_from(ACTIONS)), timestamp=clock))
        else:
            events.append(SlotSet("confirmation_reply", draw(st.sampled_from(["confirmed", None])), timestamp=clock))
    return events


def sdk_tracker(events: list) -> Tracker:
    return Tracker(
        "web-1",
        {"confirmation_reply": "confirmed"},
        {"text": "", "intent": {}, "entities": []},
        [event.as_dict() for event in events],
        False,
        None,
        None,
        None,
    )


def decisions(tracker: Tracker) -> tuple:
    since = _messages_since_decline(tracker)
    return (
        misses_in_a_row(tracker) >= 2,  # actions/handover.py hands over at two
        since is not None and since <= RECONSIDER_WITHIN,
        typed_text(tracker),
        idle_too_long(tracker, idle_minutes=10),
        _just_confirmed(tracker),
    )


@settings(max_examples=300, deadline=None)
@given(sessions())
def test_every_walk_back_decides_the_same_on_the_latest_turns(events):
    window = latest_turns(events)
    assert decisions(sdk_tracker(window)) == decisions(sdk_tracker(events))


def test_the_window_starts_at_the_nth_last_user_message():
    events = []
    for turn in range(12):
        events += [ActionExecuted("action_listen"), UserUttered(f"第{turn}句"), ActionExecuted("utter_greet")]
    window = latest_turns(events)
    said = [event.text for event in window if isinstance(event, UserUttered)]
    assert said == [f"第{turn}句" for turn in range(12 - ACTION_HISTORY_MESSAGES, 12)]
    assert window[0] is events[-3 * ACTION_HISTORY_MESSAGES + 1]  # the user message itself, and all after it
    assert latest_turns(events[:9]) == events[:9]  # fewer messages than the window: all of them


def test_the_window_is_wider_than_what_the_actions_look_back():
    assert RECONSIDER_WITHIN + 1 < ACTION_HISTORY_MESSAGES
    assert 2 + 1 < ACTION_HISTORY_MESSAGES  # two misses in a row and the message before them
