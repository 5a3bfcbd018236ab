"""Identity checks before anything about a card is disclosed or changed (brief section 6).

Chat: ID number + registered full name. Phone: ID number + caller ID equal to the registered
phone, or its last four digits. Every attempt is recorded; failures are counted per conversation
(three ends the attempt) and per ID number across conversations (lockout window). A failure never
says which part was wrong or whether the ID number exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cards import find_cardholder
from bot.config import LossPolicy
from bot.errors import IdentityLocked, IdentityNotVerified
from bot.models import Cardholder, IdentityAttempt
from bot.phones import matches_last_four, same_phone
from bot.privacy import Vault

log = logging.getLogger(__name__)


def normalise_name(name: str) -> str:
    """Compare names without width, case, spacing or separator differences (阿依古丽·买买提 == 阿依古丽买买提)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "·•.-")


def _failures_since_success(session: Session, scope, since: dt.datetime) -> int:
    """Failures matching `scope` after `since` and after the last success in the same scope."""
    last_success = session.scalar(
        select(func.max(IdentityAttempt.created_at)).where(scope, IdentityAttempt.succeeded.is_(True))
    )
    window_start = max(since, last_success) if last_success else since
    return session.scalar(
        select(func.count(IdentityAttempt.id)).where(
            scope, IdentityAttempt.succeeded.is_(False), IdentityAttempt.created_at > window_start
        )
    )


def _failures_in_conversation(session: Session, conversation_id: str, since: dt.datetime) -> int:
    # Counted within the lockout window too: SMS conversations are named by phone number and
    # last for ever, so three failures months ago must not lock the person out today.
    return _failures_since_success(session, IdentityAttempt.conversation_id == conversation_id, since)


def _recent_failures_for_id(session: Session, id_hash: str, since: dt.datetime) -> int:
    return _failures_since_success(session, IdentityAttempt.id_hash == id_hash, since)


def attempts_left(session: Session, *, conversation_id: str, policy: LossPolicy, now: dt.datetime) -> int:
    """How many more identity attempts this conversation may make."""
    since = now - dt.timedelta(minutes=policy.lockout_minutes)
    return max(policy.max_identity_attempts - _failures_in_conversation(session, conversation_id, since), 0)


def _matches(holder: Cardholder | None, name: str | None, caller_id: str | None, phone_last4: str | None) -> bool:
    if holder is None:
        return False
    if name is not None:
        return normalise_name(name) == normalise_name(holder.name)
    return same_phone(caller_id, holder.phone) or (
        phone_last4 is not None and matches_last_four(phone_last4, holder.phone)
    )


def _check_not_locked(
    session: Session, *, policy: LossPolicy, conversation_id: str, id_hash: str, now: dt.datetime
) -> None:
    since = now - dt.timedelta(minutes=policy.lockout_minutes)
    if (
        _failures_in_conversation(session, conversation_id, since) >= policy.max_identity_attempts
        or _recent_failures_for_id(session, id_hash, since) >= policy.lockout_failures
    ):
        log.info("identity check refused: locked", extra={"conversation_id": conversation_id})
        raise IdentityLocked("identity checks are locked for now")


def recognise_caller(
    session: Session,
    *,
    vault: Vault,
    policy: LossPolicy,
    conversation_id: str,
    id_number: str,
    caller_id: str | None,
    now: dt.datetime,
) -> Cardholder | None:
    """The cardholder if the call comes from their registered phone, else None.

    A different caller ID is not a failed attempt (people call from other phones): the caller is
    then asked for the last four digits. A match is recorded as a successful check.
    """
    id_hash = vault.id_hash(id_number)
    _check_not_locked(session, policy=policy, conversation_id=conversation_id, id_hash=id_hash, now=now)
    holder = find_cardholder(session, vault=vault, id_number=id_number)
    if holder is None or not same_phone(caller_id, holder.phone):
        return None
    _record_attempt(session, id_hash=id_hash, conversation_id=conversation_id, channel="voice", succeeded=True, now=now)
    return holder


def _record_attempt(
    session: Session, *, id_hash: str, conversation_id: str, channel: str, succeeded: bool, now: dt.datetime
) -> None:
    session.add(
        IdentityAttempt(
            id_hash=id_hash, conversation_id=conversation_id, channel=channel, succeeded=succeeded, created_at=now
        )
    )
    session.flush()
    log.info("identity check", extra={"conversation_id": conversation_id, "succeeded": succeeded})


def verify_identity(
    session: Session,
    *,
    vault: Vault,
    policy: LossPolicy,
    conversation_id: str,
    channel: str,
    id_number: str,
    now: dt.datetime,
    name: str | None = None,
    caller_id: str | None = None,
    phone_last4: str | None = None,
) -> Cardholder:
    """Return the verified cardholder, or raise IdentityNotVerified / IdentityLocked.

    Give `name` for chat, or `caller_id` and/or `phone_last4` for phone. The attempt is added to
    the session whatever the outcome: commit the session even when this raises.
    """
    if name is None and caller_id is None and phone_last4 is None:
        raise ValueError("a name, a caller ID or the last four phone digits is needed")
    id_hash = vault.id_hash(id_number)
    _check_not_locked(session, policy=policy, conversation_id=conversation_id, id_hash=id_hash, now=now)
    holder = find_cardholder(session, vault=vault, id_number=id_number)
    ok = _matches(holder, name, caller_id, phone_last4)
    _record_attempt(session, id_hash=id_hash, conversation_id=conversation_id, channel=channel, succeeded=ok, now=now)
    if ok:
        return holder
    left = attempts_left(session, conversation_id=conversation_id, policy=policy, now=now)
    if left == 0:
        raise IdentityLocked("too many failed identity checks in this conversation")
    raise IdentityNotVerified("the details do not match our records", attempts_left=left)
