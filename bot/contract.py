"""What the channels, Rasa and the action server tell one another, each named once.

The web app (chat page, SMS, voice webhooks) puts metadata on every message it sends Rasa, and the
actions believe it only from Rasa's signed channel. Actions attach small JSON payloads to their
replies (`json_message`), which the channels act on. Conversation ids begin with their channel's
prefix, so the console and /metrics can tell channels apart from the tracker store alone.
"""

from __future__ import annotations

# --- message metadata, set by the web app on each message ---
CHANNEL = "channel"  # one of CHANNELS
CALLER = "caller"  # the caller's number on the phone, E.164 (None when withheld)
LANGUAGE = "language"  # the language a caller chose on the hotline's menu
CLIENT = "client"  # keyed token of where the message came from: identity failures are counted per client
CHANNELS = ("chat", "sms", "voice")

# --- payloads actions attach to replies ---
LOSS_REFERENCE = "loss_reference"  # a loss report's reference, which the phone reads back twice
LOSS_CREATED = "created"  # beside LOSS_REFERENCE: a new report, not one that already existed
TASK_FINISHED = "task_finished"  # a task ended: the phone asks whether the caller needs anything else
CONVERSATION_OVER = "conversation_over"  # the person took their leave: the phone hangs up after the replies
HANDOVER = "handover"  # hand the conversation to staff (bot.handover.live.HandoverRequest)
# --- payloads responses carry (domain.yml) ---
ASKS_FOR_ID_NUMBER = "asks_for_id_number"  # the phone's ID-number question: the next digits may be its first piece

# The intent Rasa's FallbackClassifier gives a message it did not understand.
FALLBACK_INTENT = "nlu_fallback"

# --- what Rasa sends the action server ---
# The events of a session from this many user messages back (rasa_addons/action_calls.py); an
# action that looks further back than that sees the start of this window as the start of the session.
ACTION_HISTORY_MESSAGES = 8

# --- conversation ids ---
PREFIX_LENGTH = 4  # the first characters of an id that tell its channel
_PREFIXES = {"chat": "web-", "sms": "sms-", "voice": "call-"}


def conversation_id(channel: str, token: str) -> str:
    """The id of a conversation of `channel` named by `token` (random, or a keyed token of a number)."""
    return _PREFIXES[channel] + token


def channel_of_conversation(conversation_id: str) -> str | None:
    """The channel a conversation id belongs to, or None (e.g. `make chat`'s terminal conversations)."""
    start = conversation_id[:PREFIX_LENGTH]
    return next((channel for channel, prefix in _PREFIXES.items() if prefix[:PREFIX_LENGTH] == start), None)
