"""SMS through Twilio: a text message in, the bot's replies out as TwiML."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from bot.errors import InvalidPhoneNumber
from bot.phones import parse_phone
from bot.text import detect_language
from webhooks.turns import BadMessage, check_message, take_turn
from webhooks.twilio_auth import twilio_signed

bp = Blueprint("sms", __name__, url_prefix="/twilio")


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
    body = request.form.get("Body")
    try:
        text = check_message(body, detect_language(body or "") or "zh")
    except BadMessage as refusal:
        return _twiml(str(refusal))
    # Named by a keyed hash of the number: stable per person, no phone number in conversation ids.
    conversation_id = "sms-" + web.vault.keyed_token(sender, purpose="sms")
    return _twiml(*take_turn(web, conversation_id=conversation_id, channel="sms", text=text))
