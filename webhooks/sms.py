"""SMS through Twilio: a text message in, the bot's replies out as TwiML."""

from __future__ import annotations

import datetime as dt
import logging
import re

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.inbound_sms import claim_message
from bot.contract import conversation_id
from bot.errors import InvalidPhoneNumber
from bot.language.phones import parse_phone
from bot.language.text import detect_language
from bot.models import utcnow
from bot.sms.outbox import recipient_token, set_opt_out
from bot.sms.texts import OPT_IN_REPLY, OPT_OUT_REPLY
from webhooks.settings import WebSettings
from webhooks.turns import BadMessage, check_message, client_token, take_turn
from webhooks.twilio_auth import twilio_signed

log = logging.getLogger(__name__)
_MESSAGE_SID = re.compile(r"[A-Za-z0-9]{2,64}")

bp = Blueprint("sms", __name__, url_prefix="/twilio")

# Whole-message keywords that stop or resume the optional "card ready" notices for the sender.
OPT_OUT_KEYWORDS = frozenset({"退订", "TD", "STOP", "UNSUBSCRIBE"})
OPT_IN_KEYWORDS = frozenset({"订阅", "START", "UNSTOP"})


def _twiml(*texts: str) -> Response:
    reply = MessagingResponse()
    for text in texts:
        reply.message(text)
    return Response(str(reply), mimetype="application/xml")


@bp.post("/sms")
@twilio_signed
def incoming():
    web = current_app.config["WEB"]
    try:
        sender = parse_phone(request.form.get("From", ""))
    except InvalidPhoneNumber:
        return Response("a sender number is required", status=400)
    message_sid = request.form.get("MessageSid", "")
    if not _MESSAGE_SID.fullmatch(message_sid):
        return Response("a MessageSid is required", status=400)
    if not _first_delivery(web, message_sid):
        return _twiml()  # a replay: answered once already, nothing more to say or do
    body = request.form.get("Body")
    keyword = (body or "").strip().upper()
    if keyword in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS:
        return _keyword_reply(web, sender, opted_out=keyword in OPT_OUT_KEYWORDS, language=detect_language(body))
    try:
        text = check_message(body, detect_language(body or "") or "zh")
    except BadMessage as refusal:
        return _twiml(str(refusal))
    # Named by a keyed hash of the number: stable per person, no phone number in conversation ids.
    conversation = conversation_id("sms", web.vault.keyed_token(sender, purpose="sms"))
    client = client_token(web, sender)
    replies = take_turn(web, conversation_id=conversation, channel="sms", text=text, client=client, reply_to=sender)
    return _twiml(*replies)


def _first_delivery(web: WebSettings, message_sid: str) -> bool:
    """False when this message was answered before; if the database cannot tell, answer it."""
    try:
        with web.sessions.begin() as session:
            return claim_message(session, message_sid=message_sid, now=dt.datetime.now(dt.timezone.utc))
    except SQLAlchemyError as error:
        log.warning("inbound SMS memory unavailable: %s", type(error).__name__)
        return True


def _keyword_reply(web, sender: str, *, opted_out: bool, language: str | None) -> Response:
    """Stop or resume "card ready" notices for this number; security notices and codes always go."""
    with web.sessions.begin() as session:
        set_opt_out(session, token=recipient_token(web.vault, sender), opted_out=opted_out, now=utcnow())
    replies = OPT_OUT_REPLY if opted_out else OPT_IN_REPLY
    return _twiml(replies["en" if language == "en" else "zh"])
