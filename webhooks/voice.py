"""The hotline: Twilio voice webhooks that talk to Rasa, turn by turn, in Mandarin or English.

Every step is reached through TwiML `action` URLs that carry the call's language and how many
turns in a row had no input; Twilio signs those URLs, so they cannot be tampered with. The call
is its own conversation (keyed by CallSid, not the caller's number). A voice route never answers
Twilio with an error: whatever fails, the caller hears an apology and is offered staff.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from bot.cards.holders import find_cardholder
from bot.channels.voice_turns import remember_answer, remembered_answer
from bot.contract import (
    ASKS_FOR_ID_NUMBER,
    CALLER,
    CHANNEL,
    CLIENT,
    CONVERSATION_OVER,
    LANGUAGE,
    LOSS_REFERENCE,
    TASK_FINISHED,
    conversation_id,
)
from bot.errors import ConfigError, InvalidPhoneNumber
from bot.handover.live import handover_request
from bot.handover.voicemails import record_voicemail, recording_from
from bot.identity.id_pieces import id_piece, join_piece
from bot.language.phones import parse_phone
from bot.language.text import a_pause, other_language_asked, speaks_english
from bot.models import FLAG_REASONS
from webhooks import twiml
from webhooks.rasa_client import RasaUnavailable
from webhooks.settings import WebSettings
from webhooks.turns import MAX_MESSAGE_LENGTH, client_token, flag_quietly, record_turn
from webhooks.twilio_auth import twilio_signed
from webhooks.voice_prompts import prompt

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio")

MAX_SILENT_TURNS = 3
ENGLISH_KEY = "9"
REPEAT_KEY = "*"
_ENGLISH = (prompt("english_offer", "zh"), "en")  # said in the English voice, for those who need it
# "再说一遍", "sorry, could you repeat that?": a short request to hear the last answer again.
_REPEAT_WORDS = re.compile(
    r"重复一[下遍次]|^\W*重复\W*$|再说一[遍次]|再讲一[遍次]|没听清|没听到|没听见|刚才说(?:的)?(?:什么|啥)|慢点说|说慢一?点|"
    r"\brepeat\b|\bsay (?:that|it) again\b|\bpardon\b|\bcome again\b|\bwhat was that\b|\bwhat did you say\b"
    r"|\bdidn'?t (?:catch|hear|get) (?:that|it|the)\b|\bone more time\b|\bwhat was the (?:reference|number)\b",
    re.IGNORECASE,
)
_SHORT = 60  # characters: longer speech is a request of its own, even with "再说一遍" in it
_ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}


def _web() -> WebSettings:
    return current_app.config["WEB"]


def _xml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="application/xml")


def _language() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _conversation_id() -> str:
    return conversation_id("voice", re.sub(r"[^A-Za-z0-9]", "", request.form.get("CallSid", ""))[:64])


def _step() -> int:
    raw = request.args.get("step", "0")
    return int(raw) if raw.isdigit() else 0


def _turn_url(
    language: str,
    silent: int = 0,
    greeting: bool = False,
    finished: bool = False,
    held: str | None = None,
    asked_id: bool = False,
) -> str:
    """The next step's URL: it names the step, so a replayed request can be recognised.

    `finished` says the caller was just asked whether they need anything else after a task;
    `held` is the start of an ID number given in pieces, encrypted (the URL is logged by Twilio);
    `asked_id` that the caller was just asked for the ID number.
    """
    step = _step() + 1 if request.endpoint == "voice.turn" else 1
    part = {"part": _web().vault.encrypt(held)} if held else {}
    asked = {"id": 1} if asked_id else {}
    return url_for(
        "voice.turn", lang=language, silent=silent, greeting=int(greeting), done=int(finished), step=step,
        **part, **asked,
    )  # fmt: skip


def _asks_to_repeat(speech: str) -> bool:
    return len(speech) <= _SHORT and bool(_REPEAT_WORDS.search(speech))


def _held_digits() -> str | None:
    """The start of an ID number the caller gave in earlier turns, if any."""
    token = request.args.get("part")
    if not token:
        return None
    try:
        return id_piece(_web().vault.decrypt(token))
    except ConfigError:
        return None


def _asked_for_id_number() -> bool:
    """Whether the caller was just asked for the ID number (only then are short digit runs held).

    The step's URL says so, from the question's marker (bot/contract.py): asking Rasa for the
    conversation instead loaded all of it, 9 ms of Rasa's CPU on every keyed-in answer.
    """
    return request.args.get("id") == "1"


def _keyed(digits: str) -> str:
    """Keypad input as text: ``*`` stands for the X that ends some ID numbers."""
    return digits.replace("*", "X")


def _caller() -> str | None:
    try:
        return parse_phone(request.form.get("From", ""))
    except InvalidPhoneNumber:
        return None  # withheld or foreign-format caller IDs simply do not count for identity


def _flag(reason: str, cardholder_id: int | None = None) -> None:
    flag_quietly(
        _web(), conversation_id=_conversation_id(), channel="voice", reason=reason, cardholder_id=cardholder_id
    )


def _verified_cardholder_id() -> int | None:
    """The cardholder this call was verified as, if it was: staff see whose card a voicemail is about."""
    web = _web()
    try:
        id_number = (web.rasa.tracker(_conversation_id(), web.rasa_token).get("slots") or {}).get("verified_id_number")
        if not id_number:
            return None
        with web.read_sessions.begin() as session:
            holder = find_cardholder(session, vault=web.vault, id_number=str(id_number))
            return holder.id if holder else None
    except (RasaUnavailable, SQLAlchemyError) as error:
        log.warning("could not tell whose call it was: %s", type(error).__name__)
        return None


def _handover(texts: list[str], language: str, reason: str) -> Response:
    """Transfer to staff in office hours; otherwise (or with no one to transfer to) a voicemail.

    The call is flagged for `reason` either way, with the verified cardholder when Rasa can say
    who that is (not after Rasa failed: asking it again could run past Twilio's time limit).
    """
    web = _web()
    _flag(reason, cardholder_id=None if reason == "action_error" else _verified_cardholder_id())
    if not web.agent_number:
        return _voicemail([*texts, prompt("no_agent", language)], language, reason=reason, cause="no_agent")
    if not web.handover_policy.hours.open_at(web.clock()):  # the same staff hours as chat and SMS
        start, end = (f"{t.hour}:{t.minute:02d}" for t in web.transfer_hours)
        texts = [*texts, prompt("after_hours", language, start=start, end=end)]
        return _voicemail(texts, language, reason=reason, cause="after_hours")
    texts = [*texts, prompt("transfer", language)]
    after = url_for("voice.after_dial", lang=language, reason=reason)
    return _xml(twiml.transfer(texts, number=web.agent_number, after=after, language=language, config=web.voice))


def _voicemail(texts: list[str], language: str, *, reason: str, cause: str) -> Response:
    """Say the texts, then record; both of Twilio's callbacks carry why (signed with the URL)."""
    after = url_for("voice.voicemail", lang=language, reason=reason, cause=cause)
    recorded = url_for("voice.recording", reason=reason, cause=cause)
    return _xml(twiml.voicemail(texts, after=after, recorded=recorded, language=language, config=_web().voice))


def _handover_reason() -> str:
    reason = request.args.get("reason", "")
    return reason if reason in FLAG_REASONS else "human_requested"


def _keep_recording(default_status: str) -> int:
    """Keep the recording Twilio describes on the call's flag: 204 when kept, 400 refused, 503 failed."""
    web = _web()
    try:
        recording = recording_from(request.form.to_dict(), default_status=default_status)
        with web.sessions.begin() as session:
            record_voicemail(
                session,
                conversation_id=_conversation_id(),
                reason=_handover_reason(),
                cause=request.args.get("cause", ""),
                recording=recording,
            )
    except ValueError:
        log.warning("refused a malformed recording notice")
        return 400
    except SQLAlchemyError as error:
        log.warning("could not keep a voicemail: %s", type(error).__name__)
        return 503
    return 204


def _marker(replies: list[dict], key: str) -> Any:
    """The first value an action or a response attached under `key` to the replies (`bot.contract`), else None."""
    return next((value for m in replies if (value := (m.get("custom") or {}).get(key))), None)


def _with_reference_twice(texts: list[str], replies: list[dict], language: str) -> list[str]:
    """A loss reference (marked by the action that committed it) is read back a second time."""
    reference = _marker(replies, LOSS_REFERENCE)
    return [*texts, prompt("reference_again", language, reference=reference)] if reference else texts


def _last_bot_messages(language: str) -> list[str]:
    web = _web()
    try:
        events = web.rasa.tracker(_conversation_id(), web.rasa_token).get("events", [])
    except RasaUnavailable:
        return [prompt("no_input", language)]
    said: list[str] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot" and event.get("text"):
            said.insert(0, event["text"])
    return [prompt("repeat_intro", language), *said] if said else [prompt("greeting", language)]


@bp.errorhandler(Exception)
def _apologise(error: Exception):
    """Never a 5xx to Twilio: an apology and staff instead (a refused signature stays a 403)."""
    if isinstance(error, HTTPException):
        return error
    log.error("voice turn failed: %s", type(error).__name__)
    language = _language()
    return _handover([prompt("unavailable", language)], language, "action_error")


@bp.post("/voice")
@twilio_signed
def incoming():
    """A call comes in: greet in Mandarin, offer English on the keypad, and listen."""
    web = _web()
    action = _turn_url("zh", greeting=True)
    return _xml(twiml.turn([prompt("greeting", "zh")], action=action, language="zh", config=web.voice, aside=_ENGLISH))


@bp.post("/voice/turn")
@twilio_signed
def turn():
    """One caller turn, answered once: a replay of the same step gets the same TwiML again."""
    key = f"{_conversation_id()}:{_step()}"
    vault = _web().vault  # answers can read back an ID number: kept encrypted
    try:
        with _web().read_engine.connect() as connection:
            remembered = remembered_answer(connection, key=key)
    except SQLAlchemyError as error:
        log.warning("voice turn memory unavailable: %s", type(error).__name__)
        return _answer_turn()
    if remembered is not None:
        return Response(vault.decrypt(remembered), mimetype="application/xml")
    answer = _answer_turn()
    try:
        sealed = vault.encrypt(answer.get_data(as_text=True))
        with _web().engine.begin() as connection:
            kept = remember_answer(connection, key=key, twiml=sealed, now=dt.datetime.now(dt.timezone.utc))
    except SQLAlchemyError as error:
        log.warning("voice turn memory unavailable: %s", type(error).__name__)
        return answer
    return Response(vault.decrypt(kept), mimetype="application/xml")


def _answer_turn() -> Response:
    """Speech or keys in, the assistant's replies spoken, then listen again."""
    web = _web()
    language = _language()
    # Capped as chat messages are: a forged or runaway transcript must not hold up the turn.
    speech = (request.form.get("SpeechResult") or "")[:MAX_MESSAGE_LENGTH].strip()
    digits = (request.form.get("Digits") or "")[:MAX_MESSAGE_LENGTH].strip()
    if request.args.get("greeting") == "1" and digits == ENGLISH_KEY and not speech:
        return _xml(twiml.turn([prompt("greeting", "en")], action=_turn_url("en"), language="en", config=web.voice))
    if language == "zh" and request.args.get("greeting") == "1" and speaks_english(speech):
        # A caller whose first words are English, without pressing 9, is answered in English from
        # here on; later English words in a Chinese call ("no thank you") leave its language alone.
        language = "en"
    wanted = other_language_asked(speech, language)
    if wanted is not None:
        # "Chinese please" after pressing 9 by mistake, "说英语" mid-call: the call goes on in it, at the
        # same step (the pieces of an ID number and the question asked stand).
        action = _turn_url(wanted, held=_held_digits(), asked_id=_asked_for_id_number())
        return _xml(twiml.turn([prompt("language_switched", wanted)], action=action, language=wanted, config=web.voice))
    text = speech or _keyed(digits)
    if not text:
        if request.args.get("done") == "1":
            # Silence after "anything else?" means the caller is done: not a request for staff.
            return _xml(twiml.goodbye([prompt("goodbye", language)], language=language, config=web.voice))
        silent = int(request.args.get("silent", "0") or 0) + 1
        if silent >= MAX_SILENT_TURNS:
            return _handover([], language, "human_requested")
        # A pause keeps the pieces given so far, the question they answer, and the greeting's offer
        # of English on key 9.
        greeting = request.args.get("greeting") == "1"
        retry = _turn_url(language, silent, greeting, held=_held_digits(), asked_id=_asked_for_id_number())
        aside = _ENGLISH if greeting else None
        return _xml(
            twiml.turn([prompt("no_input", language)], action=retry, language=language, config=web.voice, aside=aside)
        )
    held = _held_digits()
    if held and (digits == REPEAT_KEY or _asks_to_repeat(speech) or (a_pause(speech) and id_piece(speech) is None)):
        # Mid-number, "再说一遍" or "稍等，我找找身份证" asks for the rest again and keeps what was given.
        action = _turn_url(language, held=held)
        return _xml(twiml.turn([prompt("id_more", language)], action=action, language=language, config=web.voice))
    if digits == REPEAT_KEY or _asks_to_repeat(speech):
        texts = _last_bot_messages(language)
        action = _turn_url(language, asked_id=_asked_for_id_number())  # the question repeated stands
        return _xml(twiml.turn(texts, action=action, language=language, config=web.voice))
    piece = id_piece(text)
    if piece is not None and (held or _asked_for_id_number()):
        joined = join_piece(held, piece)
        if joined.held:  # part of the number: ask for the rest, Rasa hears the whole number
            action = _turn_url(language, held=joined.held)
            return _xml(twiml.turn([prompt("id_more", language)], action=action, language=language, config=web.voice))
        text = joined.number or text
    caller = _caller()
    metadata = {CHANNEL: "voice", LANGUAGE: language, CALLER: caller}
    if caller:
        metadata[CLIENT] = client_token(web, caller)
    try:
        replies = web.rasa.send(_conversation_id(), text, metadata)
    except RasaUnavailable:
        return _handover([prompt("unavailable", language)], language, "action_error")
    record_turn(web, conversation_id=_conversation_id(), channel="voice", replies=replies)
    texts = _with_reference_twice([m["text"] for m in replies if m.get("text")], replies, language)
    wanted = handover_request(replies)
    if wanted is not None:  # the action that asked for staff says why; the flag (and any voicemail) says so too
        return _handover(texts, language, wanted.reason)
    if _marker(replies, CONVERSATION_OVER):  # the goodbye was said
        return _xml(twiml.goodbye(texts, language=language, config=web.voice))
    finished = bool(_marker(replies, TASK_FINISHED))
    if finished:
        texts = [*texts, prompt("anything_else", language)]
    action = _turn_url(language, finished=finished, asked_id=bool(_marker(replies, ASKS_FOR_ID_NUMBER)))
    return _xml(twiml.turn(texts, action=action, language=language, config=web.voice))


@bp.post("/voice/after-dial")
@twilio_signed
def after_dial():
    """Staff did not answer: offer a voicemail; otherwise the call is over."""
    language = _language()
    if request.form.get("DialCallStatus") == "completed":
        return _xml(twiml.goodbye([prompt("goodbye", language)], language=language, config=_web().voice))
    return _voicemail([prompt("no_answer", language)], language, reason=_handover_reason(), cause="no_answer")


@bp.post("/voice/voicemail")
@twilio_signed
def voicemail():
    """The caller finished a voicemail: it joins the call's flag (the file may not be ready yet)."""
    language = _language()
    left = bool(request.form.get("RecordingSid")) and _keep_recording("in-progress") == 204
    texts = [prompt("message_left" if left else "goodbye", language)]
    return _xml(twiml.goodbye(texts, language=language, config=_web().voice))


@bp.post("/voice/recording")
@twilio_signed
def recording():
    """Twilio's recording status callback: the recording's final status and URL, for staff."""
    return Response(status=_keep_recording("completed"))


@bp.post("/status")
@twilio_signed
def status():
    """Call status callback: a call that ends in the middle of a task is flagged ``call_dropped``.

    A loss report already confirmed stays committed; the call then ended after the task, not in it.
    """
    if request.form.get("CallStatus") not in _ENDED:
        return Response(status=204)
    web = _web()
    try:
        tracker = web.rasa.tracker(_conversation_id(), web.rasa_token)
    except RasaUnavailable:
        tracker = None
    slots = (tracker or {}).get("slots") or {}
    in_task = tracker is None or (tracker.get("active_loop") or {}).get("name") or slots.get("awaiting_confirmation")
    if in_task:
        _flag("call_dropped")
    return Response(status=204)
