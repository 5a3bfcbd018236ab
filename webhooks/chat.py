"""The web chat page and its JSON endpoint; the browser never talks to Rasa directly.

The page keeps what was said in the tab's sessionStorage, so a reload shows it again. It files it
under the conversation's history key, a keyed token of the conversation id: a new conversation
(after "end conversation", or in a new browser session) has a new key, so the page never shows
another conversation's messages, and the key cannot be used to reach the conversation.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from bot.contract import CHANNEL, CLIENT, conversation_id
from bot.handover.live import any_overdue, end_for_person, expire_waiting, person_updates
from bot.language.text import detect_language
from webhooks import messages
from webhooks.rasa_client import RasaUnavailable
from webhooks.throttle import limited
from webhooks.turns import BadMessage, answer, check_message, client_token

log = logging.getLogger(__name__)
bp = Blueprint("chat", __name__, template_folder="templates")
# What ending the chat says to the old conversation: a goodbye (Rasa reads "/intent" as that intent).
_GOODBYE = "/goodbye"


def _conversation_id() -> str:
    """One conversation per browser session, with an id that carries no personal data."""
    if "conversation_id" not in session:
        session["conversation_id"] = conversation_id("chat", secrets.token_hex(12))
    return session["conversation_id"]


@bp.errorhandler(CSRFError)
def expired_page(_error: CSRFError):
    """The page's token is missing or stale (e.g. left open overnight): ask for a reload."""
    return jsonify(error="页面已过期，请刷新后再试。This page has expired; please reload it."), 400


def _history_key() -> str:
    """Names the page's stored history of this conversation (see the module's docstring)."""
    return current_app.config["WEB"].vault.keyed_token(_conversation_id(), purpose="chat-history", length=24)


@bp.get("/")
def page():
    return render_template("chat/index.html", history_key=_history_key())


@bp.errorhandler(429)
def too_many_messages(_error: Exception):
    """More turns from this address than a person types (the limit is per address, not per page)."""
    return jsonify(error=messages.say_both(messages.TOO_MANY)), 429


def _turn_limit() -> str:
    return f"{current_app.config['WEB'].chat_turns_per_minute} per minute"


def _client_address() -> str:
    """Where the message came from, as limits count it (behind TRUSTED_PROXIES, the address they
    forwarded). An IPv6 client counts by its /64, which one subscriber usually holds whole."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@bp.post("/chat/message")
@limited(_turn_limit, _client_address)
def message():
    body = request.get_json(silent=True)
    raw = body.get("message") if isinstance(body, dict) else None
    language = detect_language(raw) if isinstance(raw, str) else None
    try:
        text = check_message(raw, language or "zh")
    except BadMessage as refusal:
        return jsonify(error=str(refusal)), 400
    web = current_app.config["WEB"]
    client = client_token(web, _client_address())
    replies = answer(web, conversation_id=_conversation_id(), channel="chat", text=text, client=client)
    # `replies` stays the plain texts it always was; `messages` adds each one's language and buttons.
    return jsonify(
        replies=[r.text for r in replies],
        messages=[asdict(r) for r in replies],
        language=language,
        history=_history_key(),
    )


@bp.post("/chat/end")
@limited(_turn_limit, _client_address)
def end():
    """End the conversation: the old one gets a goodbye, so nothing verified survives in it, and
    this browser session goes on in a new conversation. Without Rasa the old one is still left
    behind (no page can reach it again) and its verification lapses after the idle limit."""
    old = session.pop("conversation_id", None)
    if old:
        web = current_app.config["WEB"]
        _leave_staff(web, old)
        try:
            web.rasa.send(old, _GOODBYE, {CHANNEL: "chat", CLIENT: client_token(web, _client_address())})
        except RasaUnavailable:
            log.warning("could not end a conversation in Rasa", extra={"conversation_id": old})
    return jsonify(ended=True, history=_history_key())


def _leave_staff(web, conversation_id: str) -> None:
    """A person who ends the chat leaves the staff queue too (nobody would read the answer)."""
    try:
        with web.sessions.begin() as db:
            end_for_person(db, conversation_id=conversation_id, now=web.clock())
    except SQLAlchemyError as error:
        log.warning("could not close a handover: %s", type(error).__name__, extra={"conversation_id": conversation_id})


@bp.get("/chat/updates")
def updates():
    """What staff said since message `after`, and where the handover stands; the page polls this
    while its conversation is with staff (nothing to report for a conversation that never was)."""
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 12:
        return jsonify(error="after must be a message id"), 400
    conversation_id = session.get("conversation_id")
    if not conversation_id:
        return jsonify(state=None, messages=[])
    web = current_app.config["WEB"]
    policy, now = web.handover_policy, web.clock()
    try:
        with web.read_sessions.begin() as db:
            overdue = any_overdue(db, policy=policy, now=now, conversation_id=conversation_id)
        if overdue:  # the write lock only when the wait ran out
            with web.sessions.begin() as db:
                expire_waiting(db, policy=policy, outbox=web.outbox, now=now, conversation_id=conversation_id)
        with web.read_sessions.begin() as db:
            body = person_updates(db, conversation_id=conversation_id, after=int(after))
    except SQLAlchemyError as error:
        log.warning("handover updates unavailable: %s", type(error).__name__)
        return jsonify(error=f"{messages.say(messages.UNAVAILABLE, 'zh', hotline=web.core.service.hotline)}"), 503
    return jsonify(body)
