"""Identity checks before anything about a card is disclosed or changed (brief section 6).

Chat: ID number + registered full name. Phone: ID number + caller ID equal to the registered
phone, or its last four digits. Every attempt is recorded, and failures are counted:
- per conversation: three end the attempt;
- per ID number across conversations: a few lock the ID number for a while;
- per client (a keyed token of the web client's address, SMS sender or caller ID) and per claimed
  name (a keyed hash of it) across conversations, within an hour: this stops guessing the ID
  numbers that go with one name, one new conversation per guess.
A failure never says which part was wrong, whether the ID number exists, or which limit was hit.

A locked ID number still lets its holder report the card lost: a caller whose caller ID is the
registered phone AND who gives its last four digits is verified for the loss report alone.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from bot.cards.holders import find_cardholder
from bot.config import LossPolicy
from bot.errors import IdentityLocked, IdentityNotVerified
from bot.identity.privacy import Vault
from bot.language.phones import matches_last_four, same_phone
from bot.language.text import to_simplified
from bot.models import Cardholder, IdentityAttempt, UtcDateTime

log = logging.getLogger(__name__)

# The message metadata key under which the web app passes the keyed token of the client.


class Lock(enum.Enum):
    """Why identity checks are refused for now (never told to the person)."""

    CONVERSATION = "conversation"
    GUESSING = "guessing"  # too many failures from this client, or for this claimed name
    ID_NUMBER = "id_number"


@dataclass(frozen=True)
class Verified:
    """A passed check. `loss_only`: passed the stronger check on a locked ID number, which allows
    reporting the card lost and nothing else."""

    holder: Cardholder
    loss_only: bool = False


_NAME_SEPARATORS = re.compile(r"[\s·•.\-]+")


def normalise_name(name: str) -> str:
    """Compare names without width, case, spacing or separator differences (阿依古丽·买买提 ==
    阿依古丽买买提), in simplified characters (陳靜 == 陈静), and Latin-script names in either order
    of their parts (Garcia Maria == Maria Garcia: people give family name first or last)."""
    folded = to_simplified(unicodedata.normalize("NFKC", name)).casefold()
    parts = [part for part in _NAME_SEPARATORS.split(folded) if part]
    if any(ch.isascii() and ch.isalpha() for ch in folded):
        parts.sort()
    return "".join(parts)


def name_hash(vault: Vault, name: str) -> str:
    """A keyed hash of the normalised name: failures are counted per claimed name, never stored in clear."""
    return vault.keyed_token(normalise_name(name), purpose="claimed-name", length=64)


_SINCE = bindparam("since", type_=UtcDateTime())  # the start of the lockout window
_HOUR = bindparam("hour", type_=UtcDateTime())  # the start of the guessing window


def _failures(scope, *after) -> ScalarSelect:
    """The number of failed attempts in `scope` later than each of `after`."""
    failed = select(func.count(IdentityAttempt.id)).where(scope, IdentityAttempt.succeeded.is_(False))
    return failed.where(*(IdentityAttempt.created_at > moment for moment in after)).scalar_subquery()


def _failures_since_success(scope) -> ScalarSelect:
    """Failures in `scope` within the lockout window and after the last success in the same scope."""
    last_success = select(func.max(IdentityAttempt.created_at)).where(scope, IdentityAttempt.succeeded.is_(True))
    return _failures(scope, _SINCE, func.coalesce(last_success.scalar_subquery(), _SINCE))


# Every count a check needs, in one statement built once: building and running six statements
# was most of an identity check's time (a hash that is None matches no row, so counts nothing).
_COUNTS = select(
    # Counted within the lockout window too: SMS conversations are named by phone number and
    # last for ever, so three failures months ago must not lock the person out today.
    _failures_since_success(IdentityAttempt.conversation_id == bindparam("conversation_id")).label("conversation"),
    # Successes do not reset these two: a guesser could mix in checks of their own card.
    _failures(IdentityAttempt.client_hash == bindparam("client_hash"), _HOUR).label("client"),
    _failures(IdentityAttempt.name_hash == bindparam("name_hash"), _HOUR).label("name"),
    _failures_since_success(IdentityAttempt.id_hash == bindparam("id_hash")).label("id_number"),
)


@dataclass(frozen=True)
class _Claim:
    """Who is checking what, as stored: keyed hashes only."""

    conversation_id: str
    id_hash: str | None
    client_hash: str | None
    name_hash: str | None


def _failure_counts(session: Session, *, policy: LossPolicy, claim: _Claim, now: dt.datetime) -> Row:
    """The failures counted against `claim`: `conversation`, `client`, `name` and `id_number`."""
    return session.execute(
        _COUNTS,
        {
            "conversation_id": claim.conversation_id,
            "client_hash": claim.client_hash,
            "name_hash": claim.name_hash,
            "id_hash": claim.id_hash,
            "since": now - dt.timedelta(minutes=policy.lockout_minutes),
            "hour": now - dt.timedelta(minutes=policy.guess_window_minutes),
        },
    ).one()


def attempts_left(session: Session, *, conversation_id: str, policy: LossPolicy, now: dt.datetime) -> int:
    """How many more identity attempts this conversation may make."""
    counts = _failure_counts(session, policy=policy, claim=_Claim(conversation_id, None, None, None), now=now)
    return max(policy.max_identity_attempts - counts.conversation, 0)


def _lock(session: Session, *, policy: LossPolicy, claim: _Claim, now: dt.datetime) -> tuple[Lock, int] | None:
    """The lock in force, if any, and the failures on the ID number since its last success."""
    counts = _failure_counts(session, policy=policy, claim=claim, now=now)
    if counts.conversation >= policy.max_identity_attempts:
        return Lock.CONVERSATION, 0
    if counts.client >= policy.max_failures_per_client or counts.name >= policy.max_failures_per_name:
        return Lock.GUESSING, 0
    on_id = counts.id_number
    return (Lock.ID_NUMBER, on_id) if on_id >= policy.lockout_failures else None


def _refuse(lock: Lock, conversation_id: str) -> IdentityLocked:
    log.info("identity check refused: locked", extra={"conversation_id": conversation_id, "outcome": lock.value})
    return IdentityLocked("identity checks are locked for now")


def _stronger_check_open(policy: LossPolicy, lock: tuple[Lock, int] | None) -> bool:
    """Whether a locked ID number still takes the stronger check: a lock on the ID number alone,
    and only a few failed stronger checks since (so it is no way round the lock for a guesser)."""
    return (
        lock is not None
        and lock[0] is Lock.ID_NUMBER
        and lock[1] < policy.lockout_failures + policy.locked_phone_attempts
    )


def _passes_stronger_check(holder: Cardholder | None, caller_id: str | None, phone_last4: str | None) -> bool:
    """The registered phone calling AND its last four digits given.

    The other stronger check, a one-time code sent by SMS to the registered mobile, belongs here
    too once it exists.
    """
    return (
        holder is not None
        and same_phone(caller_id, holder.phone)
        and phone_last4 is not None
        and matches_last_four(phone_last4, holder.phone)
    )


def recognise_caller(
    session: Session,
    *,
    vault: Vault,
    policy: LossPolicy,
    conversation_id: str,
    id_number: str,
    caller_id: str | None,
    now: dt.datetime,
    client: str | None = None,
) -> Cardholder | None:
    """The cardholder if the call comes from their registered phone, else None.

    A different caller ID is not a failed attempt (people call from other phones): the caller is
    then asked for the last four digits. A match is recorded as a successful check. On a locked ID
    number a match is not enough: the caller is asked for the last four digits too, and any other
    caller is refused.
    """
    claim = _Claim(conversation_id, vault.id_hash(id_number), client, None)
    lock = _lock(session, policy=policy, claim=claim, now=now)
    holder = find_cardholder(session, vault=vault, id_number=id_number)
    if lock is not None:
        if _stronger_check_open(policy, lock) and holder is not None and same_phone(caller_id, holder.phone):
            return None
        raise _refuse(lock[0], conversation_id)
    if holder is None or not same_phone(caller_id, holder.phone):
        return None
    _record_attempt(session, claim=claim, channel="voice", succeeded=True, now=now)
    return holder


def _record_attempt(session: Session, *, claim: _Claim, channel: str, succeeded: bool, now: dt.datetime) -> None:
    session.add(
        IdentityAttempt(
            id_hash=claim.id_hash,
            client_hash=claim.client_hash,
            name_hash=claim.name_hash,
            conversation_id=claim.conversation_id,
            channel=channel,
            succeeded=succeeded,
            created_at=now,
        )
    )
    session.flush()
    log.info("identity check", extra={"conversation_id": claim.conversation_id, "succeeded": succeeded})


def _matches(holder: Cardholder | None, name: str | None, caller_id: str | None, phone_last4: str | None) -> bool:
    if holder is None:
        return False
    if name is not None:
        return normalise_name(name) == normalise_name(holder.name)
    return same_phone(caller_id, holder.phone) or (
        phone_last4 is not None and matches_last_four(phone_last4, holder.phone)
    )


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
    client: str | None = None,
) -> Verified:
    """Return the verified cardholder, or raise IdentityNotVerified / IdentityLocked.

    Give `name` for chat, or `caller_id` and/or `phone_last4` for phone; `client` is the keyed
    token of where the request came from, when known. The attempt is added to the session
    whatever the outcome: commit the session even when this raises.
    """
    if name is None and caller_id is None and phone_last4 is None:
        raise ValueError("a name, a caller ID or the last four phone digits is needed")
    claim = _Claim(
        conversation_id, vault.id_hash(id_number), client, name_hash(vault, name) if name is not None else None
    )
    lock = _lock(session, policy=policy, claim=claim, now=now)
    holder = find_cardholder(session, vault=vault, id_number=id_number)
    if lock is not None:
        if not (_stronger_check_open(policy, lock) and holder is not None and same_phone(caller_id, holder.phone)):
            raise _refuse(lock[0], conversation_id)
        ok = _passes_stronger_check(holder, caller_id, phone_last4)
    else:
        ok = _matches(holder, name, caller_id, phone_last4)
    _record_attempt(session, claim=claim, channel=channel, succeeded=ok, now=now)
    if ok:
        return Verified(holder, loss_only=lock is not None)
    if lock is not None:
        raise _refuse(lock[0], conversation_id)
    left = attempts_left(session, conversation_id=conversation_id, policy=policy, now=now)
    if left == 0:
        raise IdentityLocked("too many failed identity checks in this conversation")
    raise IdentityNotVerified("the details do not match our records", attempts_left=left)
