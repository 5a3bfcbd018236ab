"""The outbound SMS worker (`python -m bot outbox run`): claim, send, record, repeat.

Each message is claimed in a transaction of its own, sent outside any transaction, and its
outcome recorded in a third; a failure to send never touches the change that queued it.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from bot.config import SmsSettings
from bot.identity.privacy import Vault
from bot.sms.outbox import Claimed, claim, mark_sent, mark_unsent
from bot.sms.senders import OutcomeUnknown, Sender, SendFailed

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def status_callback_for(sms: SmsSettings, message_id: int) -> str | None:
    """Where Twilio reports delivery; it names our message so a status can settle an unrecorded send."""
    return f"{sms.status_callback_url}?message={message_id}" if sms.status_callback_url else None


def send_one(
    sessions: sessionmaker[Session], *, sender: Sender, vault: Vault, sms: SmsSettings, clock: Clock = _utcnow
) -> bool:
    """Handle the next due message; False when there is none."""
    with sessions.begin() as session:
        claimed = claim(session, vault=vault, sms=sms, now=clock())
    if claimed is None:
        return False
    try:
        _deliver(sessions, claimed, sender=sender, sms=sms, clock=clock)
    except OutcomeUnknown as unknown:
        # Left claimed: after the lease another pass looks it up at Twilio before sending again.
        log.warning(
            "sms outcome unknown (%s); will check before resending", unknown, extra={"outbound_message_id": claimed.id}
        )
    return True


def _deliver(
    sessions: sessionmaker[Session], claimed: Claimed, *, sender: Sender, sms: SmsSettings, clock: Clock
) -> None:
    if claimed.recovering:
        sid = sender.find(to=claimed.to, body=claimed.body, since=claimed.since)
        if sid is not None:
            with sessions.begin() as session:
                mark_sent(session, message_id=claimed.id, sid=sid, now=clock())
            return
    try:
        sent = sender.send(to=claimed.to, body=claimed.body, status_callback=status_callback_for(sms, claimed.id))
    except SendFailed as failure:
        with sessions.begin() as session:
            mark_unsent(
                session, message_id=claimed.id, error=failure.error, permanent=failure.permanent, sms=sms, now=clock()
            )
        return
    with sessions.begin() as session:
        mark_sent(session, message_id=claimed.id, sid=sent.sid, now=clock(), state=sent.state)


def run_worker(
    sessions: sessionmaker[Session],
    *,
    sender: Sender,
    vault: Vault,
    sms: SmsSettings,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
) -> None:
    """Send due messages until SIGTERM/SIGINT (or `stop`); sleeps `poll_seconds` when idle."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    log.info("outbox worker started", extra={"mode": "twilio" if sms.configured else "local sink"})
    try:
        while not stop.is_set():
            try:
                busy = send_one(sessions, sender=sender, vault=vault, sms=sms)
            except Exception as error:  # noqa: BLE001 - a database outage must not end the worker
                log.error("outbox pass failed: %s", type(error).__name__)
                busy = False
            if not busy:
                stop.wait(poll_seconds)
    finally:
        sender.close()
    log.info("outbox worker stopped")
