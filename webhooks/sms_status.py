"""Twilio's delivery reports for the SMS the outbox sent (`POST /twilio/sms-status`), signed like every webhook."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, current_app, request

from bot.models import utcnow
from bot.sms.outbox import record_status
from webhooks.twilio_auth import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("sms_status", __name__, url_prefix="/twilio")

_SID = re.compile(r"SM[0-9a-f]{32}|MM[0-9a-f]{32}")


@bp.post("/sms-status")
@twilio_signed
def status() -> Response:
    sid = request.form.get("MessageSid", "")
    state = request.form.get("MessageStatus", "")
    message_id = request.args.get("message", "")
    if not _SID.fullmatch(sid) or not state:
        return Response("MessageSid and MessageStatus are required", status=400)
    web = current_app.config["WEB"]
    with web.sessions.begin() as session:
        message = record_status(
            session, message_id=int(message_id) if message_id.isdigit() else None, sid=sid, status=state, now=utcnow()
        )
    log.info("sms status %s", state, extra={"outbound_message_id": message.id if message else None})
    return Response(status=204)
