"""Fictional card records for tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.cards.card_import import HEADER, CardRow, apply_rows
from bot.cards.holders import get_cardholder
from bot.cards.statuses import CardStatus
from bot.identity.privacy import EventCipher, Vault
from bot.models import Card, Flag
from bot.review.flags import flag_conversation
from bot.sms.outbox import Outbox

ID_ZHANG = "11010519491231002X"
ID_WANG = "320102198503121015"
ID_UNKNOWN = "320102199007072028"

# Import rows (`cards import`) for ID_ZHANG and ID_WANG.
HEADER_LINE = ",".join(HEADER)
ROW_ZHANG = f"{ID_ZHANG},张伟,139 1234 5678,A12345678,active,110105,朝阳区社保服务大厅,2026-03-01T09:30:00+08:00"
ROW_WANG = f"{ID_WANG},王芳,010-12345678,3K0012345,ready_for_pickup,320102,玄武区社保服务中心,2026-11-18T14:00:00+08:00"


def outbox_for(vault: Vault) -> Outbox:
    """The outbox of a test deployment: its messages are queued in the test's session."""
    return Outbox(vault, hotline="12333", timezone=ZoneInfo("Asia/Shanghai"))


def add_card(
    session: Session,
    vault: Vault,
    *,
    id_number: str = ID_ZHANG,
    name: str = "张伟",
    phone: str = "+8613912345678",
    card_number: str = "A12345678",
    status: CardStatus = CardStatus.ACTIVE,
    updated_at: dt.datetime = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.timezone.utc),
) -> Card:
    row = CardRow(
        line=2,
        id_number=id_number,
        name=name,
        phone=phone,
        card_number=card_number,
        status=status,
        region="110105",
        office="朝阳区社保服务大厅",
        updated_at=updated_at,
    )
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=[row], now=updated_at)
    return get_cardholder(session, vault=vault, id_number=id_number).current_card


def save_conversation(
    tracker_db: Path,
    conversation_id: str,
    turns: list[tuple[str, str, float, str]],
    *,
    start: float | None = None,
    cipher: EventCipher | None = None,
    language: str | None = None,
) -> None:
    """Write a conversation into a SQLite tracker store: encrypted with `cipher` by our tracker store,
    or without one in clear by Rasa's own SQLTrackerStore (as deployments before encryption did).

    Each turn is (what the person said, intent, confidence, the assistant's reply); the identity
    form's person_name slot is set when a turn's intent is `inform` and it holds no digits, and
    the `language` slot at the start when `language` is given.
    """
    import asyncio
    import time
    import warnings

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(conversation_id, slots=None)
    start = time.time() - 3600 if start is None else start
    if language is not None:
        tracker.update(SlotSet("language", language, timestamp=start - 1))
    for n, (text, intent, confidence, reply) in enumerate(turns):
        at = start + n * 10
        tracker.update(ActionExecuted("action_listen", timestamp=at))
        tracker.update(
            UserUttered(text, intent={"name": intent, "confidence": confidence}, message_id=f"m{n}", timestamp=at + 1)
        )
        if intent == "inform" and not any(ch.isdigit() for ch in text):
            tracker.update(SlotSet("person_name", text, timestamp=at + 2))
        tracker.update(ActionExecuted("identity_form" if intent == "inform" else "utter_reply", timestamp=at + 2))
        tracker.update(BotUttered(reply, timestamp=at + 3))
    with warnings.catch_warnings():  # Rasa's store uses SQLAlchemy 1.x APIs of its own
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore

        from rasa_addons.tracker_store import EncryptedSQLTrackerStore

        if cipher is None:
            store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db))
        else:
            store = EncryptedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db), cipher=cipher)
    # A loop of its own that leaves the current one alone (asyncio.run would replace, and so
    # orphan, the loop pytest-asyncio keeps between async tests).
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(store.save(tracker))
    finally:
        loop.close()
    store.engine.dispose()


def add_flag(session, reason="nlu_fallback", channel="chat", created=None, conversation="web-1") -> Flag:
    """A flag on a conversation, optionally dated (for queue filters and day counts)."""
    flag = flag_conversation(session, conversation_id=conversation, channel=channel, reason=reason)
    if created:
        flag.created_at = created
    session.flush()
    return flag
