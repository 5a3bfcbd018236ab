"""Twilio request signatures: every Twilio webhook is checked before it can change anything."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL plus path and query behind a proxy, else the request's own."""
    base = current_app.config["WEB"].public_base_url
    if not base:
        return request.url
    query = request.query_string.decode()
    return base + request.path + (f"?{query}" if query else "")


def twilio_signed(view: Callable) -> Callable:
    """Refuse (403) any request whose X-Twilio-Signature does not match our auth token."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_app.config["WEB"].twilio_auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        if not token or not RequestValidator(token).validate(signed_url(), request.form.to_dict(), signature):
            log.warning("refused a request with a bad Twilio signature", extra={"path": request.path})
            abort(403)
        return view(*args, **kwargs)

    return checked
