"""Senders of outbound SMS: Twilio's REST API, or the local sink when no account is configured.

The worker talks to a `Sender` only. `TwilioSender` uses Twilio's own client; its base URL is
`TWILIO_API_BASE_URL`, so tests point the real client at a fake of the Messages API.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bot.config import SmsSettings

log = logging.getLogger(__name__)

# Seconds to wait for Twilio's answer; past that the outcome is unknown and the message is
# looked up before it is sent again.
REQUEST_TIMEOUT = 10
# How many of the latest messages are searched for one a dead worker may have sent.
FIND_LIMIT = 200


class SendFailed(Exception):
    """Twilio refused the message or could not be reached; `permanent` when retrying cannot help."""

    def __init__(self, error: str, *, permanent: bool) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent


class OutcomeUnknown(Exception):
    """The request may have reached Twilio (a timeout or a dropped connection after sending)."""


@dataclass(frozen=True)
class Sent:
    sid: str | None
    state: str  # "sent" (accepted by Twilio) or "local" (kept in the local sink)


class Sender(Protocol):
    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        """Send one message; raises SendFailed or OutcomeUnknown."""

    def find(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        """The SID of this message if Twilio already has it (sent by a worker that then died)."""

    def close(self) -> None:
        """Release connections."""


class LocalSink:
    """No Twilio account: messages stay in the outbox, readable with `python -m bot outbox list`."""

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        return Sent(sid=None, state="local")

    def find(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        return None

    def close(self) -> None:
        pass


class TwilioSender:
    """Sends with `messages.create` from the configured number or messaging service."""

    def __init__(self, sms: SmsSettings) -> None:
        self._sms = sms
        # Twilio's client logs query parameters (a recipient's number) at INFO: keep it to warnings.
        quiet = logging.getLogger(f"{__name__}.twilio")
        quiet.setLevel(logging.WARNING)
        self._http = TwilioHttpClient(timeout=REQUEST_TIMEOUT, logger=quiet)
        self._client = Client(sms.account_sid, sms.auth_token, http_client=self._http)
        self._client.api.base_url = sms.api_base_url

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        sender = (
            {"messaging_service_sid": self._sms.messaging_service_sid}
            if self._sms.messaging_service_sid
            else {"from_": self._sms.from_number}
        )
        extra = {"status_callback": status_callback} if status_callback else {}
        try:
            message = self._client.messages.create(to=to, body=body, **sender, **extra)
        except TwilioRestException as error:
            # 4xx other than throttling: the request itself is wrong (bad number, unsubscribed).
            permanent = 400 <= error.status < 500 and error.status != 429
            raise SendFailed(f"twilio {error.status} {error.code or ''}".strip(), permanent=permanent) from None
        except RequestsConnectionError as error:
            if _never_connected(error):
                raise SendFailed("twilio unreachable", permanent=False) from None
            raise OutcomeUnknown(type(error).__name__) from None
        except (RequestException, TwilioException) as error:
            raise OutcomeUnknown(type(error).__name__) from None
        return Sent(sid=message.sid, state="sent")

    def find(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        # Filtered by our own sender, never by the recipient: request URLs end up in debug logs.
        sender = {"from_": self._sms.from_number} if self._sms.from_number else {}
        try:
            recent = self._client.messages.list(limit=FIND_LIMIT, **sender)
        except (TwilioRestException, RequestException, TwilioException) as error:
            raise OutcomeUnknown(type(error).__name__) from None
        margin = since - dt.timedelta(minutes=1)
        for message in recent:
            created = message.date_created
            if message.to == to and message.body == body and (created is None or created >= margin):
                return message.sid
        return None


def _never_connected(error: RequestsConnectionError) -> bool:
    """True when the request cannot have reached Twilio (no connection was ever made)."""
    if isinstance(error, ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def make_sender(sms: SmsSettings) -> Sender:
    return TwilioSender(sms) if sms.configured else LocalSink()
