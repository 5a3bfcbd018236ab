"""One-time codes sent by SMS to unblock a card (解挂).

A code is 6 digits, valid for a few minutes, bound to one card and one conversation, tried at
most three times, and kept only as a keyed hash with a salt of its own. At most three are sent
per card per hour, so nobody can flood a holder's phone. Checking the right code marks it
verified; the unblock then consumes it, so one code unblocks once.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.errors import (
    CodeAttemptsExhausted,
    CodeExpired,
    NoRegisteredMobile,
    TooManyCodes,
    UnblockCodeRequired,
    WrongCode,
)
from bot.identity.privacy import Vault
from bot.language.phones import is_mobile
from bot.models import Card, OneTimeCode
from bot.sms.outbox import Outbox

log = logging.getLogger(__name__)

CODE_LENGTH = 6


@dataclass(frozen=True)
class CodePolicy:
    valid_minutes: int = 5
    max_tries: int = 3
    per_card_per_hour: int = 3
    # How long after the right code the person has to confirm the unblock.
    confirm_minutes: int = 10


POLICY = CodePolicy()


def _hash(vault: Vault, salt: str, code: str) -> str:
    return vault.keyed_token(f"{salt}:{code}", purpose="one-time-code", length=64)


def issue_code(
    session: Session,
    *,
    outbox: Outbox,
    vault: Vault,
    card: Card,
    conversation_id: str,
    language: str,
    now: dt.datetime,
    policy: CodePolicy = POLICY,
) -> OneTimeCode:
    """Send a new code to the holder's mobile (queued in this transaction); earlier live ones stop working."""
    if not is_mobile(card.cardholder.phone):
        raise NoRegisteredMobile("the holder has no registered mobile number")
    recent = session.scalar(
        select(func.count(OneTimeCode.id)).where(
            OneTimeCode.card_id == card.id, OneTimeCode.created_at > now - dt.timedelta(hours=1)
        )
    )
    if recent >= policy.per_card_per_hour:
        raise TooManyCodes("too many codes for this card in the last hour")
    session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.card_id == card.id, OneTimeCode.state.in_(("active", "verified")))
        .values(state="superseded")
    )
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    salt = secrets.token_hex(16)
    record = OneTimeCode(
        card_id=card.id,
        conversation_id=conversation_id,
        code_hash=_hash(vault, salt, code),
        salt=salt,
        state="active",
        attempts=0,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=policy.valid_minutes),
    )
    session.add(record)
    session.flush()
    outbox.notify(
        session,
        kind="code",
        card=card,
        key=f"code:{record.id}",
        now=now,
        language=language,
        conversation_id=conversation_id,
        code=code,
        minutes=policy.valid_minutes,
    )
    log.info("one-time code issued", extra={"one_time_code_id": record.id, "card_id": card.id})
    return record


def _live_code(session: Session, *, card_id: int, conversation_id: str, state: str) -> OneTimeCode | None:
    return session.scalars(
        select(OneTimeCode)
        .where(
            OneTimeCode.card_id == card_id,
            OneTimeCode.conversation_id == conversation_id,
            OneTimeCode.state == state,
        )
        .order_by(OneTimeCode.id.desc())
        .with_for_update()
    ).first()


def check_code(
    session: Session,
    *,
    vault: Vault,
    card_id: int,
    conversation_id: str,
    given: str,
    now: dt.datetime,
    policy: CodePolicy = POLICY,
) -> None:
    """Accept the code sent in this conversation, or raise WrongCode / CodeAttemptsExhausted / CodeExpired."""
    record = _live_code(session, card_id=card_id, conversation_id=conversation_id, state="active")
    if record is None or record.expires_at <= now:
        raise CodeExpired("no live code for this card in this conversation")
    if hmac.compare_digest(record.code_hash, _hash(vault, record.salt, given.strip())):
        record.state, record.verified_at = "verified", now
        session.flush()
        return
    record.attempts += 1
    left = policy.max_tries - record.attempts
    if left <= 0:
        record.state = "failed"
        session.flush()
        log.info("one-time code tries used up", extra={"one_time_code_id": record.id})
        raise CodeAttemptsExhausted("the code was wrong too many times")
    session.flush()
    raise WrongCode("that is not the code sent", attempts_left=left)


def consume_verified_code(
    session: Session, *, card_id: int, conversation_id: str, now: dt.datetime, policy: CodePolicy = POLICY
) -> None:
    """Use up the code checked in this conversation, or raise UnblockCodeRequired."""
    record = _live_code(session, card_id=card_id, conversation_id=conversation_id, state="verified")
    if record is None or record.verified_at + dt.timedelta(minutes=policy.confirm_minutes) <= now:
        raise UnblockCodeRequired("no code was checked for this card in this conversation")
    record.state = "used"
    session.flush()
