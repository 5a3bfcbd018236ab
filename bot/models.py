"""The card database schema (SQLAlchemy 1.4 declarative, written in the 2.0 style)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declarative_base, object_session, relationship
from sqlalchemy.types import TypeDecorator

from bot.cards.statuses import CardStatus
from bot.errors import ConfigError
from bot.identity.privacy import Vault

Base = declarative_base()

LOSS_CHANNELS = ("chat", "voice", "sms", "counter")
LOSS_STATES = ("active", "lapsed", "cancelled", "formalised")
FLAG_REASONS = (
    "nlu_fallback",
    "human_requested",
    "identity_failed",
    "loss_reported",
    "loss_cancelled",
    "call_dropped",
    "action_error",
    "sms_failed",
)
FLAG_STATUSES = ("open", "reviewed", "escalated")
STAFF_ROLES = ("reviewer", "admin")
# The domain's intents (tests/test_domain.py holds them equal); a reviewer labels a misunderstood message with one.
INTENTS = (
    "greet", "goodbye", "thank", "affirm", "deny", "check_progress", "report_loss", "cancel_loss",
    "replace_card", "cross_region", "apply_card", "activate_card", "update_info", "request_human",
    "bot_challenge", "out_of_scope", "inform",
)  # fmt: skip
CARD_STATUSES = tuple(s.value for s in CardStatus)
# Where a session keeps the deployment's Vault (bot.db.make_session_factory puts it there).
VAULT_INFO_KEY = "vault"
# Outbound SMS: what caused each and where it is. `sending` is claimed by a worker, not yet settled.
SMS_KINDS = ("loss_reported", "unblocked", "lapsed", "code", "card_ready", "handover")
SMS_STATES = ("pending", "sending", "sent", "delivered", "failed", "local")
CODE_STATES = ("active", "verified", "used", "failed", "superseded")
# Live handovers to staff (bot.handover.live): waiting for a taker, held by one, collecting a callback
# request, or over. At most one open handover per conversation (a partial unique index).
HANDOVER_STATES = ("waiting", "taken", "callback", "handed_back", "closed")
HANDOVER_OPEN_STATES = ("waiting", "taken", "callback")
HANDOVER_CHANNELS = ("chat", "sms")
LIVE_SENDERS = ("person", "staff", "system")
CALLBACK_STATUSES = ("open", "done")
# Why a caller was asked to leave a voicemail instead of being put through to staff.
VOICEMAIL_CAUSES = ("no_agent", "after_hours", "no_answer")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{column}_known")


def _vault_of(record: Base) -> Vault:
    """The keys of the session `record` is in, to read or write its encrypted values."""
    session = object_session(record)
    vault = session.info.get(VAULT_INFO_KEY) if session is not None else None
    if vault is None:
        raise ConfigError(
            f"{type(record).__name__} holds encrypted values: read or set them while it is in a session "
            "made by bot.db.make_session_factory(engine, vault=...) (add a new one to the session first)"
        )
    return vault


class Cardholder(Base):
    """A citizen. Nothing personal is stored in clear (bot.identity.privacy): the ID number is a keyed hash
    and a ciphertext; the name and the phone (E.164) are ciphertexts, the phone with a keyed hash
    for lookups. `name` and `phone` read and write the clear values through the session's Vault.
    """

    __tablename__ = "cardholders"

    id: Mapped[int] = Column(Integer, primary_key=True)
    id_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    id_cipher: Mapped[str] = Column(Text, nullable=False)
    name_cipher: Mapped[str] = Column(Text, nullable=False)
    phone_cipher: Mapped[str] = Column(Text, nullable=False)
    phone_hash: Mapped[str] = Column(String(64), nullable=False, index=True)
    region: Mapped[str] = Column(String(6), nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    cards: Mapped[list[Card]] = relationship("Card", back_populates="cardholder", order_by="Card.id")

    @property
    def name(self) -> str:
        return _vault_of(self).decrypt(self.name_cipher)

    @name.setter
    def name(self, name: str) -> None:
        self.name_cipher = _vault_of(self).encrypt(name)

    @property
    def phone(self) -> str:
        """The registered phone number, E.164."""
        return _vault_of(self).decrypt(self.phone_cipher)

    @phone.setter
    def phone(self, e164: str) -> None:
        vault = _vault_of(self)
        self.phone_cipher, self.phone_hash = vault.encrypt(e164), vault.phone_hash(e164)

    @property
    def current_card(self) -> Card | None:
        """The most recently issued card (a replacement supersedes the one before)."""
        return self.cards[-1] if self.cards else None


class Card(Base):
    """One physical card and where it is in its life."""

    __tablename__ = "cards"
    __table_args__ = (_one_of("status", CARD_STATUSES),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    cardholder_id: Mapped[int] = Column(ForeignKey("cardholders.id", ondelete="CASCADE"), nullable=False, index=True)
    card_number: Mapped[str] = Column(String(9), nullable=False, unique=True)
    status: Mapped[str] = Column(String(20), nullable=False)
    office: Mapped[str] = Column(String(200), nullable=False)
    status_changed_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    cardholder: Mapped[Cardholder] = relationship("Cardholder", back_populates="cards")
    history: Mapped[list[CardStatusChange]] = relationship(
        "CardStatusChange", back_populates="card", order_by="CardStatusChange.id"
    )
    loss_reports: Mapped[list[LossReport]] = relationship("LossReport", back_populates="card", order_by="LossReport.id")


class CardStatusChange(Base):
    """One entry of a card's status history."""

    __tablename__ = "card_status_changes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    card_id: Mapped[int] = Column(ForeignKey("cards.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status: Mapped[str | None] = Column(String(20))
    to_status: Mapped[str] = Column(String(20), nullable=False)
    changed_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    source: Mapped[str] = Column(String(20), nullable=False)

    card: Mapped[Card] = relationship("Card", back_populates="history")


class LossReport(Base):
    """A loss report; at most one is active per card (a partial unique index enforces it)."""

    __tablename__ = "loss_reports"
    __table_args__ = (
        _one_of("channel", LOSS_CHANNELS),
        _one_of("state", LOSS_STATES),
        Index(
            "uq_loss_reports_one_active_per_card",
            "card_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(10), nullable=False, unique=True)
    card_id: Mapped[int] = Column(ForeignKey("cards.id", ondelete="CASCADE"), nullable=False, index=True)
    channel: Mapped[str] = Column(String(10), nullable=False)
    state: Mapped[str] = Column(String(12), nullable=False, default="active")
    previous_status: Mapped[str] = Column(String(20), nullable=False)
    conversation_id: Mapped[str | None] = Column(String(100), index=True)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    closed_at: Mapped[dt.datetime | None] = Column(UtcDateTime)

    card: Mapped[Card] = relationship("Card", back_populates="loss_reports")


class Flag(Base):
    """A conversation put in front of staff for review."""

    __tablename__ = "flags"
    __table_args__ = (
        _one_of("reason", FLAG_REASONS),
        _one_of("status", FLAG_STATUSES),
        Index("ix_flags_status_created", "status", "created_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(100), nullable=False, index=True)
    channel: Mapped[str] = Column(String(10), nullable=False)
    reason: Mapped[str] = Column(String(20), nullable=False)
    status: Mapped[str] = Column(String(10), nullable=False, default="open")
    note: Mapped[str | None] = Column(Text)
    cardholder_id: Mapped[int | None] = Column(ForeignKey("cardholders.id", ondelete="SET NULL"))
    loss_report_id: Mapped[int | None] = Column(ForeignKey("loss_reports.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = Column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = Column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = Column(UtcDateTime)

    notes: Mapped[list[FlagNote]] = relationship("FlagNote", order_by="FlagNote.id", cascade="all, delete-orphan")
    reviewer: Mapped[StaffUser | None] = relationship("StaffUser", foreign_keys=[reviewer_id])
    assignee: Mapped[StaffUser | None] = relationship("StaffUser", foreign_keys=[assignee_id])


class FlagNote(Base):
    """A reviewer's note on a flag (staff write these; they are not shown to citizens).

    Notes are free text in which staff may write a name or a callback number, so they are stored
    encrypted; `text` reads and writes the clear text through the session's Vault.
    """

    __tablename__ = "flag_notes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    flag_id: Mapped[int] = Column(ForeignKey("flags.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id: Mapped[int | None] = Column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    text_cipher: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    author: Mapped[StaffUser | None] = relationship("StaffUser")

    @property
    def text(self) -> str:
        return _vault_of(self).decrypt(self.text_cipher)

    @text.setter
    def text(self, text: str) -> None:
        self.text_cipher = _vault_of(self).encrypt(text)


class NluLabel(Base):
    """The right intent for a message the assistant misunderstood, with the text already scrubbed.

    One label per message (Rasa's message id); relabelling replaces it.
    """

    __tablename__ = "nlu_labels"
    __table_args__ = (
        _one_of("intent", INTENTS),
        UniqueConstraint("conversation_id", "message_id", name="uq_nlu_labels_message"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    flag_id: Mapped[int | None] = Column(ForeignKey("flags.id", ondelete="SET NULL"))
    conversation_id: Mapped[str] = Column(String(100), nullable=False)
    message_id: Mapped[str] = Column(String(64), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    predicted_intent: Mapped[str | None] = Column(String(40))
    intent: Mapped[str] = Column(String(40), nullable=False)
    labelled_by: Mapped[int | None] = Column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, index=True)


class StaffUser(Base):
    """A member of staff who reviews flagged conversations."""

    __tablename__ = "staff_users"
    __table_args__ = (_one_of("role", STAFF_ROLES),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    role: Mapped[str] = Column(String(10), nullable=False)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = Column(UtcDateTime)
    # Bumped on sign-out and deactivation: every session signed in before then stops working.
    session_epoch: Mapped[int] = Column(Integer, nullable=False, default=0, server_default=text("0"))


class IdentityAttempt(Base):
    """One identity check, kept to count failures per conversation, ID number, client and claimed name.

    `client_hash` is a keyed token of the sender (web client address, SMS number, caller ID) and
    `name_hash` one of the normalised name given: they limit guessing across conversations.
    """

    __tablename__ = "identity_attempts"
    # What an identity check counts, per scope: failures since a moment, and the last success. With
    # the outcome before the time, each count reads only its own rows from the index; with the time
    # alone it read every success of the scope too (thousands for one ID number: 7.6 ms a check).
    __table_args__ = (
        Index("ix_identity_attempts_conversation_outcome", "conversation_id", "succeeded", "created_at"),
        Index("ix_identity_attempts_id_outcome", "id_hash", "succeeded", "created_at"),
        Index("ix_identity_attempts_client_outcome", "client_hash", "succeeded", "created_at"),
        Index("ix_identity_attempts_name_outcome", "name_hash", "succeeded", "created_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    id_hash: Mapped[str | None] = Column(String(64))
    client_hash: Mapped[str | None] = Column(String(64))
    name_hash: Mapped[str | None] = Column(String(64))
    conversation_id: Mapped[str] = Column(String(100), nullable=False)
    channel: Mapped[str] = Column(String(10), nullable=False)
    succeeded: Mapped[bool] = Column(Boolean, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who did what to which record, and when; personal values never go in `detail`."""

    __tablename__ = "audit_log"

    id: Mapped[int] = Column(Integer, primary_key=True)
    actor: Mapped[str] = Column(String(80), nullable=False)
    action: Mapped[str] = Column(String(40), nullable=False)
    target_type: Mapped[str] = Column(String(30), nullable=False)
    target_id: Mapped[str | None] = Column(String(40))
    detail: Mapped[str | None] = Column(Text)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, index=True)


class VoiceTurn(Base):
    """The TwiML answered to one step of a call, so a replayed webhook gets it again unchanged."""

    __tablename__ = "voice_turns"

    key: Mapped[str] = Column(String(120), primary_key=True)
    twiml: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, index=True)


class OutboundMessage(Base):
    """One SMS to a cardholder, written in the transaction of the change that causes it.

    Recipient and text are stored encrypted (the text may carry a one-time code); `to_token` is a
    keyed token of the number, to honour opt-outs without decrypting. `key` names the cause
    (``loss_reported:42``), so the same event never queues two messages.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        _one_of("kind", SMS_KINDS),
        _one_of("state", SMS_STATES),
        Index("ix_outbound_messages_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    key: Mapped[str] = Column(String(80), nullable=False, unique=True)
    kind: Mapped[str] = Column(String(20), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False)
    to_cipher: Mapped[str] = Column(Text, nullable=False)
    to_token: Mapped[str] = Column(String(32), nullable=False, index=True)
    body_cipher: Mapped[str] = Column(Text, nullable=False)
    reference: Mapped[str | None] = Column(String(10))
    card_id: Mapped[int | None] = Column(ForeignKey("cards.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[str | None] = Column(String(100))
    state: Mapped[str] = Column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    claimed_at: Mapped[dt.datetime | None] = Column(UtcDateTime)
    twilio_sid: Mapped[str | None] = Column(String(40), unique=True)
    error: Mapped[str | None] = Column(String(40))
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = Column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = Column(UtcDateTime)


class SmsOptOut(Base):
    """A number that replied 退订/TD/STOP: no more "card ready" notices (security notices still go)."""

    __tablename__ = "sms_opt_outs"

    to_token: Mapped[str] = Column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class OneTimeCode(Base):
    """A code sent by SMS to unblock a card, bound to the card and the conversation; kept hashed."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        _one_of("state", CODE_STATES),
        Index("ix_one_time_codes_card_created", "card_id", "created_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    card_id: Mapped[int] = Column(ForeignKey("cards.id", ondelete="CASCADE"), nullable=False)
    conversation_id: Mapped[str] = Column(String(100), nullable=False)
    code_hash: Mapped[str] = Column(String(64), nullable=False)
    salt: Mapped[str] = Column(String(32), nullable=False)
    state: Mapped[str] = Column(String(10), nullable=False, default="active")
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    verified_at: Mapped[dt.datetime | None] = Column(UtcDateTime)


class SeenSms(Base):
    """An inbound SMS already answered, by Twilio's MessageSid: a replayed request is not a second turn."""

    __tablename__ = "seen_sms"

    message_sid: Mapped[str] = Column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, index=True)


_OPEN_HANDOVER = "state IN ('waiting', 'taken', 'callback')"


class Handover(Base):
    """A web chat or SMS conversation handed to staff: while open the bot is paused for it.

    `taken_by_id` is set only by a conditional update from ``waiting`` (bot.handover.live.take), so two
    members of staff never hold one conversation. `reply_to` is the SMS sender (E.164), encrypted;
    `callback_phone` the number a person gave for a callback while one is being collected.
    """

    __tablename__ = "handovers"
    __table_args__ = (
        _one_of("state", HANDOVER_STATES),
        CheckConstraint("channel IN ('chat', 'sms')", name="ck_handover_channel_known"),
        Index(
            "uq_handovers_one_open_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text(_OPEN_HANDOVER),
            postgresql_where=text(_OPEN_HANDOVER),
        ),
        Index("ix_handovers_state_created", "state", "created_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(100), nullable=False, index=True)
    channel: Mapped[str] = Column(String(10), nullable=False)
    state: Mapped[str] = Column(String(12), nullable=False)
    reason: Mapped[str] = Column(String(20), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False, default="zh")
    task: Mapped[str | None] = Column(String(20))
    verified: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    flag_id: Mapped[int | None] = Column(ForeignKey("flags.id", ondelete="SET NULL"))
    cardholder_id: Mapped[int | None] = Column(ForeignKey("cardholders.id", ondelete="SET NULL"))
    reply_to_cipher: Mapped[str | None] = Column(Text)
    callback_phone_cipher: Mapped[str | None] = Column(Text)
    taken_by_id: Mapped[int | None] = Column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    taken_by: Mapped[str | None] = Column(String(64))
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    taken_at: Mapped[dt.datetime | None] = Column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = Column(UtcDateTime)

    messages: Mapped[list[LiveMessage]] = relationship(
        "LiveMessage", order_by="LiveMessage.id", cascade="all, delete-orphan", back_populates="handover"
    )

    @property
    def reply_to(self) -> str | None:
        return _vault_of(self).decrypt(self.reply_to_cipher) if self.reply_to_cipher else None

    @reply_to.setter
    def reply_to(self, e164: str | None) -> None:
        self.reply_to_cipher = _vault_of(self).encrypt(e164) if e164 else None

    @property
    def callback_phone(self) -> str | None:
        return _vault_of(self).decrypt(self.callback_phone_cipher) if self.callback_phone_cipher else None

    @callback_phone.setter
    def callback_phone(self, e164: str | None) -> None:
        self.callback_phone_cipher = _vault_of(self).encrypt(e164) if e164 else None


class LiveMessage(Base):
    """One message of a handover: the person's, a member of staff's (`staff_name`), or a notice to
    the person. What people write is personal data, so the text is stored encrypted."""

    __tablename__ = "handover_messages"
    __table_args__ = (_one_of("sender", LIVE_SENDERS),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    handover_id: Mapped[int] = Column(ForeignKey("handovers.id", ondelete="CASCADE"), nullable=False, index=True)
    sender: Mapped[str] = Column(String(10), nullable=False)
    staff_name: Mapped[str | None] = Column(String(64))
    text_cipher: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)

    handover: Mapped[Handover] = relationship("Handover", back_populates="messages")

    @property
    def text(self) -> str:
        return _vault_of(self).decrypt(self.text_cipher)

    @text.setter
    def text(self, text: str) -> None:
        self.text_cipher = _vault_of(self).encrypt(text)


class Callback(Base):
    """A person's request to be called back: the number (E.164) and their note, both encrypted."""

    __tablename__ = "callbacks"
    __table_args__ = (_one_of("status", CALLBACK_STATUSES), Index("ix_callbacks_status_due", "status", "due_at"))

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(100), nullable=False)
    channel: Mapped[str] = Column(String(10), nullable=False)
    handover_id: Mapped[int | None] = Column(ForeignKey("handovers.id", ondelete="SET NULL"), unique=True)
    language: Mapped[str] = Column(String(2), nullable=False, default="zh")
    phone_cipher: Mapped[str] = Column(Text, nullable=False)
    note_cipher: Mapped[str] = Column(Text, nullable=False)
    status: Mapped[str] = Column(String(10), nullable=False, default="open")
    due_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False)
    done_by: Mapped[str | None] = Column(String(64))
    done_at: Mapped[dt.datetime | None] = Column(UtcDateTime)

    @property
    def phone(self) -> str:
        return _vault_of(self).decrypt(self.phone_cipher)

    @phone.setter
    def phone(self, e164: str) -> None:
        self.phone_cipher = _vault_of(self).encrypt(e164)

    @property
    def note(self) -> str:
        return _vault_of(self).decrypt(self.note_cipher)

    @note.setter
    def note(self, text: str) -> None:
        self.note_cipher = _vault_of(self).encrypt(text)


class Voicemail(Base):
    """A message a caller left for staff, by Twilio's RecordingSid, on the flag that raised it.

    `cause` says why the caller got a voicemail rather than a person; the flag's reason says why
    staff were wanted. The recording itself stays with Twilio: only its reference and URL are kept.
    """

    __tablename__ = "voicemails"
    __table_args__ = (_one_of("cause", VOICEMAIL_CAUSES),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    flag_id: Mapped[int] = Column(ForeignKey("flags.id", ondelete="CASCADE"), nullable=False, index=True)
    recording_sid: Mapped[str] = Column(String(64), nullable=False, unique=True)
    recording_url: Mapped[str | None] = Column(Text)
    recording_status: Mapped[str] = Column(String(20), nullable=False)
    duration_seconds: Mapped[int | None] = Column(Integer)
    cause: Mapped[str] = Column(String(20), nullable=False)
    created_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)
