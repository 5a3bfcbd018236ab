"""Live handovers of web chat and SMS conversations to staff, and callback requests.

When the assistant hands a conversation over (`bot.contract.HANDOVER` in an action's reply), the channel
opens a handover: in staff hours the person waits in a queue; out of hours, or when nobody takes
it within the policy's wait, they are offered a callback. While a handover is open the bot is
paused for the conversation: what the person writes is kept here (encrypted) for staff instead
of going to Rasa. One member of staff takes it (a conditional update, so two never hold it),
replies, and hands it back to the bot or closes it. Everything staff do is in the audit log as
``staff:<name>``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter

from bot.contract import HANDOVER
from bot.errors import BotError, InvalidPhoneNumber
from bot.handover import texts
from bot.identity.privacy import mask_phone
from bot.language.phones import parse_phone
from bot.language.spoken import normalise_number
from bot.language.text import says_stop
from bot.models import FLAG_REASONS, HANDOVER_OPEN_STATES, Callback, Handover, LiveMessage
from bot.review.audit import record_audit
from bot.review.queue import Reviewer
from bot.sms.outbox import Outbox

log = logging.getLogger(__name__)

# The key of an action's custom payload that hands the conversation to staff (the hotline
# transfers on it; chat and SMS open a handover). Its other keys say what the bot knows.
# Channels where staff answer in the conversation itself (the hotline transfers the call instead).
LIVE_CHANNELS = ("chat", "sms")
MAX_STAFF_MESSAGE = 500
MAX_CALLBACK_NOTE = 200
# A callback is promised by the close of a staff day that has at least this long left.
CALLBACK_LEAD = dt.timedelta(hours=1)


class HandoverError(BotError, ValueError):
    """A staff action on a handover that cannot be done; `code` names it for the console's words."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StaffHours:
    """Weekday hours (city time) when staff answer conversations (TRANSFER_HOURS)."""

    start: dt.time
    end: dt.time
    timezone: ZoneInfo

    def open_at(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.timezone)
        return local.weekday() < 5 and self.start <= local.time() < self.end

    def callback_due(self, moment: dt.datetime) -> dt.datetime:
        """The close of the first staff day from `moment` with CALLBACK_LEAD still left in it."""
        local = moment.astimezone(self.timezone)
        day = local.date()
        for _ in range(8):
            if day.weekday() < 5:
                opens = dt.datetime.combine(day, self.start, self.timezone)
                closes = dt.datetime.combine(day, self.end, self.timezone)
                if max(local, opens) + min(CALLBACK_LEAD, closes - opens) <= closes:
                    return closes.astimezone(dt.timezone.utc)
            day += dt.timedelta(days=1)
        raise ValueError("staff hours must leave some time in a weekday")

    def describe(self, language: str) -> str:
        return texts.staff_hours_text(self.start.strftime("%H:%M"), self.end.strftime("%H:%M"), language)


@dataclass(frozen=True)
class HandoverPolicy:
    hours: StaffHours
    wait: dt.timedelta = dt.timedelta(minutes=5)  # HANDOVER_WAIT_MINUTES
    hotline: str = "12333"


@dataclass(frozen=True)
class HandoverRequest:
    """What the bot knew when it handed over: why, the task in hand, whether identity was verified."""

    reason: str = "human_requested"
    task: str | None = None
    verified: bool = False
    flag_id: int | None = None
    language: str = "zh"

    def payload(self) -> dict[str, Any]:
        return {
            HANDOVER: True, "reason": self.reason, "task": self.task, "verified": self.verified,
            "flag_id": self.flag_id, "language": self.language,
        }  # fmt: skip


def handover_request(replies: list[dict]) -> HandoverRequest | None:
    """The handover an action asked for in these replies, if any (the payload comes through Rasa's
    signed channel from our own action server; anything odd in it falls back to safe defaults)."""
    for message in replies:
        custom = message.get("custom")
        if not isinstance(custom, dict) or custom.get(HANDOVER) is not True:
            continue
        reason = custom.get("reason")
        flag_id = custom.get("flag_id")
        task = custom.get("task")
        return HandoverRequest(
            reason=reason if reason in FLAG_REASONS else "human_requested",
            task=task if isinstance(task, str) and len(task) <= 20 else None,
            verified=custom.get("verified") is True,
            flag_id=flag_id if isinstance(flag_id, int) and flag_id > 0 else None,
            language="en" if custom.get("language") == "en" else "zh",
        )
    return None


def _open(conversation_id: str | BindParameter[str]) -> Select:
    return select(Handover).where(Handover.conversation_id == conversation_id, Handover.state.in_(HANDOVER_OPEN_STATES))


def open_handover(session: Session, conversation_id: str, *, lock: bool = False) -> Handover | None:
    query = _open(conversation_id)
    return session.scalars(query.with_for_update() if lock else query).first()


# Built once: building the statement and its cache key on each turn cost three times running it.
_WITH_STAFF = _open(bindparam("conversation_id")).with_only_columns(Handover.id).limit(1)


def is_with_staff(connection: Connection, conversation_id: str) -> bool:
    """Whether staff have the conversation, read on a bare connection: every chat turn asks, and
    an ORM session with the whole row cost five times as much (about 0.3 ms against 0.05 on SQLite)."""
    return connection.execute(_WITH_STAFF, {"conversation_id": conversation_id}).first() is not None


def start_handover(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    request: HandoverRequest,
    policy: HandoverPolicy,
    now: dt.datetime,
    cardholder_id: int | None = None,
    reply_to: str | None = None,
) -> list[str]:
    """Open a handover (or keep the open one) and say honestly what happens next."""
    language = request.language
    existing = open_handover(session, conversation_id)
    if existing is not None:
        return _where_things_stand(session, existing, policy)
    staffed = policy.hours.open_at(now)
    handover = Handover(
        conversation_id=conversation_id, channel=channel, state="waiting" if staffed else "callback",
        reason=request.reason, language=language, task=request.task, verified=request.verified,
        flag_id=request.flag_id, cardholder_id=cardholder_id if request.verified else None, created_at=now,
    )  # fmt: skip
    session.add(handover)
    handover.reply_to = reply_to
    session.flush()
    log.info("handover opened", extra={"handover_id": handover.id, "state": handover.state, "channel": channel})
    if not staffed:
        return [texts.say("after_hours", language, hours=policy.hours.describe(language))]
    return [texts.say("waiting", language, ahead=_ahead(session, handover), wait_minutes=_minutes(policy))]


def _minutes(policy: HandoverPolicy) -> int:
    return max(1, int(policy.wait.total_seconds() // 60))


def _ahead(session: Session, handover: Handover) -> int:
    return session.scalar(
        select(func.count()).select_from(Handover).where(Handover.state == "waiting", Handover.id < handover.id)
    )


def _where_things_stand(session: Session, handover: Handover, policy: HandoverPolicy) -> list[str]:
    language = handover.language
    if handover.state == "waiting":
        return [texts.say("still_waiting", language, ahead=_ahead(session, handover))]
    if handover.state == "callback":
        return [texts.say("after_hours", language, hours=policy.hours.describe(language))]
    return []


def _normal(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", text.lower()).strip()


# Particles and thanks that may stand around the words that leave ("算了 取消吧", "不用了谢谢").
_POLITE = frozenset({"吧", "啊", "呀", "了", "嘛", "哈", "谢谢", "谢了", "please", "thanks", "thank you", " "})


def wants_out(text: str) -> bool:
    """Whether the message says nothing but that the person no longer wants staff: it splits into
    words of `texts.CANCEL_WORDS` and particles, with at least one of the former.

    Split position by position, which stays linear in the message: a regular expression of the same
    words backtracked exponentially on words that split two ways ("算了吧" is 算了 + 吧 too).
    """
    said = _normal(text)
    # For each position reached from the start: whether a leave-word was passed on the way there.
    reached: dict[int, bool] = {0: False}
    for start in range(len(said)):
        if start not in reached:
            continue
        for word in (*texts.CANCEL_WORDS, *_POLITE):
            if said.startswith(word, start):
                end = start + len(word)
                reached[end] = reached.get(end, False) or reached[start] or word in texts.CANCEL_WORDS
    return reached.get(len(said), False) if said else False


def person_turn(
    session: Session, *, conversation_id: str, text: str, policy: HandoverPolicy, outbox: Outbox, now: dt.datetime
) -> list[str] | None:
    """The replies to a person's message while their conversation is with staff; None when it is
    not (the bot answers). Messages to staff are kept, encrypted, for the handover's transcript."""
    handover = open_handover(session, conversation_id, lock=True)
    if handover is None:
        return None
    if _expire(session, handover, policy=policy, outbox=outbox, now=now):
        # The callback offer has only just been made (the page shows it, an SMS carries it):
        # this message was written without it, so it is kept, not read as an answer to it.
        _add_message(session, handover, sender="person", text=text, now=now)
        return []
    language = handover.language
    if handover.state == "taken":
        _add_message(session, handover, sender="person", text=text, now=now)
        return []
    if wants_out(text):
        _end(handover, "closed", now)
        log.info("handover left by the person", extra={"handover_id": handover.id})
        return [texts.say("cancelled", language)]
    if handover.state == "waiting":
        _add_message(session, handover, sender="person", text=text, now=now)
        return [texts.say("still_waiting", language, ahead=_ahead(session, handover))]
    return _collect_callback(session, handover, text, policy=policy, now=now)


# A callback declined in words, with a number in the message that is not one to call back.
_NO_CALLBACK = re.compile(r"不用|不需要|不要|别|\bno need\b|\bdon'?t\b|\bno thanks?\b|\bnot needed\b", re.IGNORECASE)


def _number_in(text: str) -> str | None:
    """The phone number a message gives (``我的电话是139…`` too), or None when it gives none at all."""
    runs = re.findall(r"\+?\d{5,}", normalise_number(text))
    return max(runs, key=len) if runs else None


def _collect_callback(
    session: Session, handover: Handover, text: str, *, policy: HandoverPolicy, now: dt.datetime
) -> list[str] | None:
    """First the number (checked with phonenumbers), then a short note; then a callback item.
    A message with no number in it when one is asked for declines the offer (None: the bot answers)."""
    language = handover.language
    if handover.callback_phone is None:
        digits = _number_in(text)
        if digits is None or says_stop(text):
            # Not taking up the offer ("算了 不用了 我自己查吧 3201… 王芳"): the person carries on with the bot.
            _end(handover, "closed", now)
            return None
        try:
            handover.callback_phone = parse_phone(digits)
        except InvalidPhoneNumber:
            if _NO_CALLBACK.search(text):  # "不用回电了 我自己打12333": the hotline's number, not theirs
                _end(handover, "closed", now)
                return None
            return [texts.say("bad_number", language)]
        return [texts.say("ask_note", language, phone=mask_phone(handover.callback_phone), limit=MAX_CALLBACK_NOTE)]
    if len(text) > MAX_CALLBACK_NOTE:
        return [texts.say("note_too_long", language, limit=MAX_CALLBACK_NOTE)]
    due = policy.hours.callback_due(now)
    callback = Callback(
        conversation_id=handover.conversation_id, channel=handover.channel, handover_id=handover.id,
        language=language, status="open", due_at=due, created_at=now,
    )  # fmt: skip
    session.add(callback)
    callback.phone = handover.callback_phone
    callback.note = text
    handover.callback_phone = None  # kept once, on the callback
    _end(handover, "closed", now)
    session.flush()
    log.info("callback requested", extra={"callback_id": callback.id, "handover_id": handover.id})
    local_due = due.astimezone(policy.hours.timezone)
    return [
        texts.say(
            "booked", language, due=texts.due_text(local_due, language), phone=mask_phone(callback.phone),
            hotline=policy.hotline,
        )
    ]  # fmt: skip


def _end(handover: Handover, state: str, now: dt.datetime) -> None:
    handover.state = state
    handover.ended_at = now


def _add_message(
    session: Session, handover: Handover, *, sender: str, text: str, now: dt.datetime, staff_name: str | None = None
) -> LiveMessage:
    message = LiveMessage(handover=handover, sender=sender, staff_name=staff_name, created_at=now)
    session.add(message)
    message.text = text
    session.flush()
    return message


def _tell(
    session: Session,
    handover: Handover,
    text: str,
    *,
    outbox: Outbox,
    now: dt.datetime,
    sender: str = "system",
    staff_name: str | None = None,
) -> LiveMessage:
    """Say something to the person outside their own turn: shown on the chat page's next poll, or texted."""
    message = _add_message(session, handover, sender=sender, text=text, now=now, staff_name=staff_name)
    if handover.channel == "sms" and handover.reply_to:
        outbox.send_text(
            session, to=handover.reply_to, body=text, key=f"handover-message:{message.id}",
            language=handover.language, conversation_id=handover.conversation_id, now=now,
        )  # fmt: skip
    return message


def _expire(session: Session, handover: Handover, *, policy: HandoverPolicy, outbox: Outbox, now: dt.datetime) -> bool:
    """A handover nobody took in time is turned into a callback offer (unless it was just taken)."""
    if handover.state != "waiting" or handover.created_at + policy.wait > now:
        return False
    moved = session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.state == "waiting")
        .values(state="callback")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handover)
    if moved:
        _tell(session, handover, texts.say("timed_out", handover.language), outbox=outbox, now=now)
        log.info("handover not taken in time", extra={"handover_id": handover.id})
    return bool(moved)


def _overdue(policy: HandoverPolicy, now: dt.datetime, conversation_id: str | None):
    query = select(Handover).where(Handover.state == "waiting", Handover.created_at <= now - policy.wait)
    return query if conversation_id is None else query.where(Handover.conversation_id == conversation_id)


def any_overdue(
    session: Session, *, policy: HandoverPolicy, now: dt.datetime, conversation_id: str | None = None
) -> bool:
    """Whether someone (or this conversation) has waited longer than the policy allows: a read, so
    pages that poll take the write lock only when there is something to change."""
    return session.scalars(_overdue(policy, now, conversation_id).limit(1)).first() is not None


def expire_waiting(
    session: Session, *, policy: HandoverPolicy, outbox: Outbox, now: dt.datetime, conversation_id: str | None = None
) -> int:
    """Offer a callback to everyone (or this conversation) who has waited longer than the policy
    allows; how many."""
    overdue = session.scalars(_overdue(policy, now, conversation_id)).all()
    return sum(_expire(session, handover, policy=policy, outbox=outbox, now=now) for handover in overdue)


# ---- staff ------------------------------------------------------------------------------------


def get_handover(session: Session, handover_id: int) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise HandoverError(f"no handover {handover_id}", "no_handover")
    return handover


def take(session: Session, *, handover_id: int, by: Reviewer, outbox: Outbox, now: dt.datetime) -> Handover:
    """Take a waiting conversation. The update only matches while it is still waiting, so of two
    members of staff racing for it exactly one gets it; the other is refused."""
    taken = session.execute(
        update(Handover)
        .where(Handover.id == handover_id, Handover.state == "waiting")
        .values(state="taken", taken_by_id=by.id, taken_by=by.username, taken_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        get_handover(session, handover_id)
        raise HandoverError("the conversation is no longer waiting", "not_waiting")
    handover = get_handover(session, handover_id)
    session.refresh(handover)
    record_audit(session, actor=by.actor, action="handover_taken", target_type="handover", target_id=handover_id)
    _tell(session, handover, texts.say("taken", handover.language), outbox=outbox, now=now)
    log.info("handover taken", extra={"handover_id": handover_id})
    return handover


def _held_by(session: Session, handover_id: int, by: Reviewer) -> Handover:
    handover = session.get(Handover, handover_id, with_for_update=True)
    if handover is None:
        raise HandoverError(f"no handover {handover_id}", "no_handover")
    if handover.state != "taken" or handover.taken_by_id != by.id:
        raise HandoverError("only the member of staff who took the conversation can do that", "not_yours")
    return handover


def staff_reply(
    session: Session, *, handover_id: int, by: Reviewer, text: str, outbox: Outbox, now: dt.datetime
) -> LiveMessage:
    """A reply from the member of staff holding the conversation: to the page, or by SMS."""
    text = (text or "").strip()
    if not text:
        raise HandoverError("the reply is empty", "reply_empty")
    if len(text) > MAX_STAFF_MESSAGE:
        raise HandoverError("the reply is too long", "reply_long")
    handover = _held_by(session, handover_id, by)
    message = _tell(session, handover, text, outbox=outbox, now=now, sender="staff", staff_name=by.username)
    record_audit(session, actor=by.actor, action="handover_reply", target_type="handover", target_id=handover_id,
                 detail={"message_id": message.id})  # fmt: skip
    return message


def hand_back(session: Session, *, handover_id: int, by: Reviewer, outbox: Outbox, now: dt.datetime) -> Handover:
    """The bot takes the conversation up where it left it (nothing reached it meanwhile)."""
    handover = _held_by(session, handover_id, by)
    _end(handover, "handed_back", now)
    record_audit(session, actor=by.actor, action="handover_handed_back", target_type="handover", target_id=handover_id)
    _tell(session, handover, texts.say("handed_back", handover.language), outbox=outbox, now=now)
    return handover


def close(session: Session, *, handover_id: int, by: Reviewer, outbox: Outbox, now: dt.datetime) -> Handover:
    """End the handover: the holder closes a conversation they took, anyone may close a waiting one,
    and an admin one somebody else holds (its holder went home: the person is not left waiting)."""
    handover = session.get(Handover, handover_id, with_for_update=True)
    if handover is None:
        raise HandoverError(f"no handover {handover_id}", "no_handover")
    if handover.state != "waiting" and not (by.is_admin and handover.state == "taken"):
        handover = _held_by(session, handover_id, by)
    _end(handover, "closed", now)
    record_audit(session, actor=by.actor, action="handover_closed", target_type="handover", target_id=handover_id)
    _tell(session, handover, texts.say("closed", handover.language), outbox=outbox, now=now)
    return handover


def live_queue(session: Session) -> tuple[list[Handover], list[Handover]]:
    """Conversations waiting for staff (longest wait first), and those staff hold."""
    waiting = session.scalars(select(Handover).where(Handover.state == "waiting").order_by(Handover.id)).all()
    taken = session.scalars(select(Handover).where(Handover.state == "taken").order_by(Handover.taken_at)).all()
    return list(waiting), list(taken)


def messages_after(session: Session, handover_id: int, after: int = 0) -> list[LiveMessage]:
    return list(
        session.scalars(
            select(LiveMessage)
            .where(LiveMessage.handover_id == handover_id, LiveMessage.id > after)
            .order_by(LiveMessage.id)
        )
    )


def person_updates(session: Session, *, conversation_id: str, after: int) -> dict[str, Any]:
    """For the person's page: staff replies and notices after message `after`, and where things
    stand (run expire_waiting first, so a wait that ran out shows as the callback offer)."""
    latest = session.scalars(
        select(Handover).where(Handover.conversation_id == conversation_id).order_by(Handover.id.desc()).limit(1)
    ).first()
    if latest is None:
        return {"state": None, "messages": []}
    shown = session.scalars(
        select(LiveMessage)
        .join(Handover)
        .where(
            Handover.conversation_id == conversation_id,
            LiveMessage.sender.in_(("staff", "system")),
            LiveMessage.id > after,
        )
        .order_by(LiveMessage.id)
        .limit(50)
    ).all()
    state: dict[str, Any] = {
        "state": latest.state,
        "messages": [{"id": m.id, "from": m.sender, "text": m.text} for m in shown],
    }
    if latest.state == "waiting":
        state["ahead"] = _ahead(session, latest)
    return state


def end_for_person(session: Session, *, conversation_id: str, now: dt.datetime) -> None:
    """The person ended the chat: an open handover of theirs is closed (nobody is there to answer)."""
    handover = open_handover(session, conversation_id, lock=True)
    if handover is not None:
        _end(handover, "closed", now)


# ---- callbacks ---------------------------------------------------------------------------------


def open_callbacks(session: Session) -> list[Callback]:
    """Callbacks still to make, the soonest due first."""
    return list(session.scalars(select(Callback).where(Callback.status == "open").order_by(Callback.due_at)))


def callback_done(session: Session, *, callback_id: int, by: Reviewer, now: dt.datetime) -> Callback:
    callback = session.get(Callback, callback_id, with_for_update=True)
    if callback is None:
        raise HandoverError(f"no callback {callback_id}", "no_callback")
    if callback.status == "done":
        raise HandoverError("the callback was already made", "callback_done")
    callback.status, callback.done_by, callback.done_at = "done", by.username, now
    record_audit(session, actor=by.actor, action="callback_done", target_type="callback", target_id=callback_id)
    return callback


def show_callback_number(session: Session, *, callback_id: int, by: Reviewer) -> str:
    """The number to dial, for the member of staff making the call; audited like any reveal."""
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise HandoverError(f"no callback {callback_id}", "no_callback")
    record_audit(session, actor=by.actor, action="callback_number_shown", target_type="callback",
                 target_id=callback_id)  # fmt: skip
    return callback.phone


def purge_handovers(session: Session, *, before: dt.datetime) -> int:
    """Retention: delete handovers that ended before `before` (with their messages) and callbacks
    made before it; return how many records went. Open ones stay, whatever their age."""
    callbacks = session.execute(delete(Callback).where(Callback.status == "done", Callback.done_at < before)).rowcount
    ended = select(Handover.id).where(Handover.state.not_in(HANDOVER_OPEN_STATES), Handover.ended_at < before)
    session.execute(
        delete(LiveMessage).where(LiveMessage.handover_id.in_(ended)).execution_options(synchronize_session=False)
    )
    handovers = session.execute(
        delete(Handover).where(Handover.state.not_in(HANDOVER_OPEN_STATES), Handover.ended_at < before)
    ).rowcount
    return callbacks + handovers
