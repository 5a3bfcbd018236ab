"""What the staff console shows, as plain values: a flag's page, the queue, live handovers, callbacks,
accounts and the audit log; masked until revealed, and Rasa's tracker store read with no card-database
transaction open."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from bot.handover.details import callback_list, handover_detail, live_board
from bot.handover.live import HandoverPolicy, HandoverRequest, StaffHours, start_handover, take
from bot.handover.voicemails import Recording, record_voicemail
from bot.models import AuditEntry, Callback, Flag, NluLabel, StaffUser, utcnow
from bot.review.accounts import (
    StaffAccountError,
    add_staff_user,
    create_staff_account,
    sign_in,
    staff_accounts,
    toggle_staff_active,
)
from bot.review.audit import recent_audit, record_audit
from bot.review.flag_detail import label_flag_message, reveal_flag, show_flag
from bot.review.flags import flag_conversation
from bot.review.overview import overview_figures
from bot.review.queue import QueueFilter, Reviewer, ReviewError, add_note, assign_to, show_queue
from bot.review.transcripts import ConversationFacts, Line, TrackerStoreUnavailable, Transcript
from bot.services import report_card_lost
from tests.factories import ID_ZHANG, add_card, outbox_for

CONVERSATION = "web-77"
POLICY = HandoverPolicy(hours=StaffHours(dt.time(9), dt.time(17), ZoneInfo("Asia/Shanghai")))
MONDAY_10 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # in Shanghai: staff are in
WHEN = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)
SAID = Transcript(
    lines=[
        Line("user", WHEN, "我叫李娜，电话13912345678", intent="inform", confidence=0.9, message_id="m0"),
        Line("bot", WHEN, f"李娜您好，您的身份证号是{ID_ZHANG}"),
        Line("action", WHEN, "action_report_loss"),
    ],
    names={"李娜"},
)


class Store:
    """A tracker store that counts the reads made while a card-database transaction was open."""

    def __init__(self, sessions, transcript: Transcript | None = SAID) -> None:
        self.transcript_ = transcript
        self.reads = 0
        self.reads_in_transaction = 0
        self._open: set = set()
        event.listen(sessions, "after_begin", lambda session, tx, conn: self._open.add(session))
        event.listen(sessions, "after_transaction_end", self._ended)

    def _ended(self, session, tx) -> None:
        if tx.parent is None:
            self._open.discard(session)

    def _read(self) -> None:
        self.reads += 1
        self.reads_in_transaction += bool(self._open)
        if self.transcript_ is None:
            raise TrackerStoreUnavailable("down")

    def transcript(self, conversation_id: str, *, around: dt.datetime | None = None) -> Transcript:
        self._read()
        return self.transcript_

    def facts(self, conversation_ids: list[str]) -> dict[str, ConversationFacts]:
        self._read()
        return {c: ConversationFacts(("report_loss",), "en") for c in conversation_ids}

    def daily_fallback_counts(self, since: dt.datetime, tz) -> dict:
        self._read()
        return {}


@pytest.fixture
def staff(sessions) -> dict[str, Reviewer]:
    with sessions.begin() as db:
        users = [
            add_staff_user(db, username=name, password="a-long-password", role=role)
            for name, role in (("li.reviewer", "reviewer"), ("wang.admin", "admin"))
        ]
        return {u.role: Reviewer(u.id, u.username, u.role) for u in users}


@pytest.fixture
def loss_flag(sessions, settings, vault, staff) -> int:
    """A real loss report's flag, with a note that quotes a name the person gave and the cardholder's."""
    with sessions.begin() as db:
        add_card(db, vault)
        report_card_lost(db, settings=settings, id_number=ID_ZHANG, conversation_id=CONVERSATION, channel="chat",
                         now=utcnow())  # fmt: skip
        flag = db.scalars(select(Flag).where(Flag.reason == "loss_reported")).one()
        flag.note = "张伟 asked"
        add_note(db, flag.id, "李娜 says 张伟 lost it", staff["reviewer"])
        assign_to(db, flag.id, staff["reviewer"])
        flag_conversation(db, conversation_id=CONVERSATION, channel="chat", reason="nlu_fallback")
        return flag.id


def test_a_flag_page_is_masked_until_revealed(sessions, vault, staff, loss_flag):
    store = Store(sessions)
    masked = show_flag(sessions, store, vault, loss_flag)
    assert masked.card is not None and masked.card.name == "张*"
    assert masked.card.id_number == ID_ZHANG[:4] + "*" * 10 + ID_ZHANG[-4:]
    assert "13912345678" not in masked.card.phone and masked.card.phone.startswith("+86 139")
    assert masked.card.card_number != "A12345678" and masked.card.report.reference.startswith("******")
    user, bot, action = masked.lines
    assert "李娜" not in user.text and "13912345678" not in user.text and user.message_id == "m0"
    assert "李娜" not in bot.text and ID_ZHANG not in bot.text
    assert action.text == "action_report_loss"
    assert [n.text for n in masked.notes] == ["李* says 张* lost it"] and masked.notes[0].author == "li.reviewer"
    assert masked.system_note == "张* asked" and masked.assignee == "li.reviewer"
    assert [(o.reason, o.status) for o in masked.others] == [("nlu_fallback", "open")]
    assert [h.action for h in masked.history] == ["flag_note_added", "flag_assigned"]
    assert not masked.revealed and not masked.transcript_unavailable

    shown = reveal_flag(sessions, store, vault, loss_flag, "caller disputes the report", staff["admin"])
    assert shown.revealed and shown.card.name == "张伟" and shown.card.id_number == ID_ZHANG
    assert shown.card.phone == "+8613912345678" and shown.card.card_number == "A12345678"
    assert shown.lines[0].text == SAID.lines[0].text and shown.notes[0].text == "李娜 says 张伟 lost it"
    assert shown.history[-1].action == "personal_data_revealed"
    assert store.reads == 2 and store.reads_in_transaction == 0


def test_a_flag_page_without_its_transcript_still_masks_the_cardholder(sessions, vault, loss_flag):
    page = show_flag(sessions, Store(sessions, transcript=None), vault, loss_flag)
    assert page.transcript_unavailable and page.lines == ()
    assert page.notes[0].text == "李娜 says 张* lost it"  # only the transcript knows 李娜 is a name
    with pytest.raises(ReviewError) as missing:
        show_flag(sessions, Store(sessions), vault, loss_flag + 100)
    assert missing.value.code == "no_flag"


def test_only_an_admin_reveals_and_a_refusal_audits_nothing(sessions, vault, staff, loss_flag):
    with pytest.raises(ReviewError) as refused:
        reveal_flag(sessions, Store(sessions), vault, loss_flag, "just curious", staff["reviewer"])
    assert refused.value.code == "admins_only"
    with sessions.begin() as db:
        assert db.scalar(select(func.count()).where(AuditEntry.action == "personal_data_revealed")) == 0


def test_the_reveal_reason_is_masked_with_names_said_in_the_conversation(sessions, vault, staff, loss_flag):
    reveal_flag(sessions, Store(sessions), vault, loss_flag, "李娜 called back", staff["admin"])
    with sessions.begin() as db:
        detail = db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "personal_data_revealed")).one()
    assert "李娜" not in detail and "李*" in detail


def test_labels_need_the_transcript_read_outside_a_transaction(sessions, staff, loss_flag):
    with pytest.raises(ReviewError) as unreadable:
        label_flag_message(sessions, Store(sessions, transcript=None), loss_flag, message_id="m0",
                           intent="report_loss", by=staff["reviewer"])  # fmt: skip
    assert unreadable.value.code == "transcript_unavailable"
    store = Store(sessions)
    label_flag_message(sessions, store, loss_flag, message_id="m0", intent="report_loss", by=staff["reviewer"])
    assert store.reads_in_transaction == 0
    with sessions.begin() as db:
        label = db.scalars(select(NluLabel)).one()
    assert label.intent == "report_loss" and "李娜" not in label.text


def test_voicemails_show_a_recording_only_once_it_is_ready(sessions, vault):
    with sessions.begin() as db:
        for n, status in enumerate(("in-progress", "completed", "failed")):
            sid = f"RE{n:032d}"
            record_voicemail(db, conversation_id="call-1", reason="human_requested", cause="after_hours",
                             recording=Recording(sid, f"https://api.twilio.com/r/{sid}", status, 12))  # fmt: skip
        flag_id = db.scalars(select(Flag.id)).one()
    voicemails = show_flag(sessions, Store(sessions), vault, flag_id).voicemails
    assert [(v.recording_state, v.recording_url is not None) for v in voicemails] == [
        ("pending", False),
        (None, True),
        ("failed", False),
    ]
    assert voicemails[0].cause == "after_hours" and voicemails[0].duration_seconds == 12


def test_the_queue_summarises_rows_and_does_without_the_tracker_store(sessions, settings, staff, loss_flag):
    store = Store(sessions)
    page = show_queue(sessions, store, QueueFilter(), settings.timezone)
    assert page.total == 2 and page.pages == 1 and page.counts["loss_reported"] == 1
    row = next(r for r in page.rows if r.id == loss_flag)
    assert row.assignee == "li.reviewer" and row.summary.intent == "report_loss" and row.summary.language == "en"
    assert row.summary.outcome == "loss_reported" and store.reads_in_transaction == 0
    without = show_queue(sessions, Store(sessions, transcript=None), QueueFilter(), settings.timezone)
    row = next(r for r in without.rows if r.id == loss_flag)
    assert row.summary.intent is None and row.summary.language == "zh" and row.summary.outcome == "loss_reported"


def test_a_live_handover_shows_the_card_only_to_whoever_holds_it(sessions, vault, settings, staff):
    with sessions.begin() as db:
        holder_id = add_card(db, vault).cardholder_id
        start_handover(db, conversation_id=CONVERSATION, channel="chat", request=HandoverRequest(verified=True),
                       policy=POLICY, now=MONDAY_10, cardholder_id=holder_id)  # fmt: skip
    waiting, taken = live_board(sessions, sessions, policy=POLICY, outbox=outbox_for(vault), now=MONDAY_10)
    assert [h.verified for h in waiting] == [True] and taken == ()
    handover_id = waiting[0].id
    with sessions.begin() as db:
        take(db, handover_id=handover_id, by=staff["reviewer"], outbox=outbox_for(vault), now=MONDAY_10)
    store = Store(sessions)
    mine = handover_detail(sessions, store, vault, handover_id, me=staff["reviewer"], now=MONDAY_10)
    theirs = handover_detail(sessions, store, vault, handover_id, me=staff["admin"], now=MONDAY_10)
    assert mine.mine and mine.card is not None and mine.card.name == "张*"
    assert not theirs.mine and theirs.card is None
    assert [line.kind for line in mine.bot_lines] == ["user", "bot"]  # no actions
    assert "李娜" not in mine.bot_lines[0].text and ID_ZHANG not in mine.bot_lines[1].text
    assert mine.lines[-1].sender == "system" and store.reads_in_transaction == 0
    later = MONDAY_10 + dt.timedelta(minutes=7)
    assert handover_detail(sessions, store, vault, handover_id, me=staff["admin"], now=later).row.waited_minutes == 7


def test_callbacks_are_masked_but_the_one_shown(sessions, vault):
    with sessions.begin() as db:
        for n, due in enumerate((MONDAY_10, MONDAY_10 + dt.timedelta(days=1))):
            callback = Callback(conversation_id=f"web-{n}", channel="chat", language="zh", status="open",
                                due_at=due, created_at=MONDAY_10)  # fmt: skip
            db.add(callback)
            callback.phone, callback.note = f"+861391234567{n}", "张伟 at 13912345670"
    with sessions.begin() as db:
        rows = callback_list(db, now=MONDAY_10 + dt.timedelta(hours=1))
        first = rows[0].id
        shown = callback_list(db, now=MONDAY_10, shown=(first, "+8613912345670"))
    assert [r.overdue for r in rows] == [True, False]
    assert all("13912345670" not in r.phone + r.note for r in rows)
    assert shown[0].phone == "+8613912345670" and "13912345671" not in shown[1].phone


def test_staff_accounts_are_changed_with_their_audit_entry(sessions, staff):
    admin = staff["admin"]
    with sessions.begin() as db:
        with pytest.raises(StaffAccountError):
            toggle_staff_active(db, admin.id, by=admin)  # no locking oneself out
        with pytest.raises(StaffAccountError):
            toggle_staff_active(db, admin.id + 100, by=admin)
    with sessions.begin() as db:
        added = create_staff_account(db, username="zhao", password="a-long-password", role="reviewer", by=admin)
        off = toggle_staff_active(db, staff["reviewer"].id, by=admin)
    assert not off.active and added.active
    with sessions.begin() as db:
        assert db.get(StaffUser, off.id).session_epoch == 1  # signed out everywhere
        actions = [a.action for a in recent_audit(db)]
        assert [a.username for a in staff_accounts(db)] == ["li.reviewer", "wang.admin", "zhao"]
    assert actions == ["staff_deactivated", "staff_add_user"]
    with sessions.begin() as db:
        assert sign_in(db, username="li.reviewer", password="a-long-password") is None  # deactivated
        assert sign_in(db, username="zhao", password="wrong password!") is None
        signed_in = sign_in(db, username="zhao", password="a-long-password")
    assert signed_in == Reviewer(added.id, "zhao", "reviewer", 0)
    with sessions.begin() as db:
        assert db.get(StaffUser, added.id).last_login_at is not None
        assert [a.action for a in recent_audit(db, limit=1)] == ["staff_login"]


def test_the_audit_log_newest_first(sessions):
    with sessions.begin() as db:
        for n in range(3):
            record_audit(db, actor="system", action=f"step_{n}", target_type="flag", target_id=n, detail={"n": n})
    with sessions.begin() as db:
        lines = recent_audit(db, limit=2)
    assert [(a.action, a.target_id, a.detail) for a in lines] == [
        ("step_2", "2", '{"n": 2}'),
        ("step_1", "1", '{"n": 1}'),
    ]


def test_the_overview_does_without_the_tracker_store(sessions, settings, loss_flag):
    today = dt.datetime.now(settings.timezone).date()
    store = Store(sessions)
    figures = overview_figures(sessions, store, settings.timezone, today=today, days=7)
    assert figures.open_flags["loss_reported"] == 1 and figures.loss_reports[-1].value == 1
    assert figures.fallback_rate is not None and len(figures.fallback_rate) == 7
    assert store.reads_in_transaction == 0
    down = overview_figures(sessions, Store(sessions, transcript=None), settings.timezone, today=today, days=7)
    assert down.fallback_rate is None and down.open_flags == figures.open_flags
