"""The review queue and what staff do with it: filters, pages, audited actions, labels and export."""

import datetime as dt

import pytest
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.identity.privacy import EventCipher
from bot.models import AuditEntry, NluLabel
from bot.review.audit import record_audit
from bot.review.flags import flag_conversation
from bot.review.overview import fallback_rate_per_day, loss_reports_per_day, open_flags_by_reason
from bot.review.queue import (
    QueueFilter,
    Reviewer,
    ReviewError,
    add_note,
    assign_to,
    mark_reviewed_in_bulk,
    queue_page,
    reason_counts,
    record_reveal,
    set_status,
)
from bot.review.transcripts import TrackerStore, TrackerStoreUnavailable, build_transcript
from bot.training.labels import export_nlu_yaml, label_message
from tests.factories import ID_ZHANG, add_card, add_flag, save_conversation

TZ = dt.timezone(dt.timedelta(hours=8))
CIPHER = EventCipher(Fernet.generate_key().decode())  # tracker-store rows written in clear read with any key


def _tz(settings):
    return settings.timezone


def test_queue_filters_pages_and_counts(session, settings):
    day = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.timezone.utc)
    for n in range(30):
        add_flag(
            session,
            reason="loss_reported",
            channel="voice",
            created=day + dt.timedelta(minutes=n),
            conversation=f"c{n}",
        )
    add_flag(session, reason="human_requested", channel="chat", created=day - dt.timedelta(days=3), conversation="old")
    tz = settings.timezone
    first = queue_page(session, QueueFilter(), tz, page=1, per_page=25)
    assert (first.total, first.pages, len(first.flags)) == (31, 2, 25)
    assert first.flags[0].conversation_id == "c29"  # newest first
    last = queue_page(session, QueueFilter(), tz, page=99, per_page=25)
    assert last.page == 2 and [f.conversation_id for f in last.flags][-1] == "old"
    voice = queue_page(session, QueueFilter(channel="voice"), tz)
    assert voice.total == 30
    local_day = day.astimezone(tz).date()
    that_day = queue_page(session, QueueFilter(date_from=local_day, date_to=local_day), tz)
    assert that_day.total == 30
    counts = reason_counts(session, QueueFilter(reason="loss_reported"), tz)
    assert counts["loss_reported"] == 30 and counts["human_requested"] == 1 and counts["call_dropped"] == 0


def test_unknown_filters_are_refused():
    with pytest.raises(ReviewError):
        QueueFilter(reason="bogus")
    with pytest.raises(ReviewError):
        QueueFilter(date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 1, 1))


def test_review_actions_are_audited(session, reviewer):
    flag = add_flag(session)
    set_status(session, flag.id, "escalated", reviewer)
    set_status(session, flag.id, "reviewed", reviewer)
    set_status(session, flag.id, "reviewed", reviewer)  # no change, no entry
    assign_to(session, flag.id, reviewer)
    add_note(session, flag.id, "  called back, resolved  ", reviewer)
    session.flush()
    assert (flag.status, flag.reviewer_id, flag.assignee_id) == ("reviewed", reviewer.id, reviewer.id)
    assert flag.reviewed_at is not None and [n.text for n in flag.notes] == ["called back, resolved"]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target_id == str(flag.id))).all()
    assert [(e.actor, e.action) for e in entries] == [
        ("staff:li.reviewer", "flag_escalated"),
        ("staff:li.reviewer", "flag_reviewed"),
        ("staff:li.reviewer", "flag_assigned"),
        ("staff:li.reviewer", "flag_note_added"),
    ]
    with pytest.raises(ReviewError):
        set_status(session, flag.id, "open", reviewer)
    with pytest.raises(ReviewError):
        add_note(session, flag.id, "   ", reviewer)
    with pytest.raises(ReviewError):
        set_status(session, 99999, "reviewed", reviewer)


def test_bulk_review_takes_loss_reports_only_and_all_or_nothing(session, reviewer):
    losses = [add_flag(session, reason="loss_reported", conversation=f"l{n}") for n in range(3)]
    other = add_flag(session, reason="identity_failed", conversation="x")
    with pytest.raises(ReviewError):
        mark_reviewed_in_bulk(session, [losses[0].id, other.id], reviewer)
    assert all(f.status == "open" for f in losses)
    assert mark_reviewed_in_bulk(session, [f.id for f in losses], reviewer) == 3
    assert {f.status for f in losses} == {"reviewed"}
    assert mark_reviewed_in_bulk(session, [losses[0].id], reviewer) == 0
    escalated = add_flag(session, reason="loss_reported", conversation="e")
    set_status(session, escalated.id, "escalated", reviewer)
    assert mark_reviewed_in_bulk(session, [escalated.id], reviewer) == 0 and escalated.status == "escalated"


def test_only_an_admin_reveals_and_the_reason_is_kept(session, reviewer):
    flag = add_flag(session)
    with pytest.raises(ReviewError):
        record_reveal(session, flag.id, "caller disputes the report", reviewer)
    admin = Reviewer(reviewer.id, "wang.admin", "admin")
    with pytest.raises(ReviewError):
        record_reveal(session, flag.id, "x", admin)
    record_reveal(session, flag.id, "caller disputes the report", admin)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data_revealed")).one()
    assert entry.actor == "staff:wang.admin" and "caller disputes" in entry.detail


def test_a_reveal_reason_quoting_the_person_is_kept_masked(session, reviewer, vault):
    holder_id = add_card(session, vault, name="张伟", phone="+8613912345678").cardholder_id
    flag = flag_conversation(session, conversation_id="web-1", channel="chat", reason="loss_reported",
                             cardholder_id=holder_id)  # fmt: skip
    admin = Reviewer(reviewer.id, "wang.admin", "admin")
    record_reveal(session, flag.id, f"张伟 called from 13912345678 about {ID_ZHANG}", admin)
    detail = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "personal_data_revealed")).one()
    assert "张伟" not in detail and "13912345678" not in detail and ID_ZHANG not in detail
    assert "called from" in detail


def test_transcripts_and_daily_fallbacks_come_from_rasas_tracker_store(tmp_path, settings):
    db = tmp_path / "tracker.db"
    save_conversation(
        db,
        "web-1",
        [("我要挂失", "report_loss", 0.97, "请提供身份证号"), ("嗯那个啥", "nlu_fallback", 0.2, "抱歉")],
        start=dt.datetime(2026, 11, 20, 2, tzinfo=dt.timezone.utc).timestamp(),
        cipher=CIPHER,
    )
    save_conversation(
        db,
        "web-2",
        [("赵敏", "inform", 0.9, "好的")],
        start=dt.datetime(2026, 11, 21, 2, tzinfo=dt.timezone.utc).timestamp(),
        cipher=CIPHER,
    )
    store = TrackerStore(f"sqlite:///{db}", CIPHER)
    transcript = store.transcript("web-1")
    users = [line for line in transcript.lines if line.kind == "user"]
    assert [(u.text, u.intent, u.misunderstood) for u in users] == [
        ("我要挂失", "report_loss", False),
        ("嗯那个啥", "nlu_fallback", True),
    ]
    assert [line.text for line in transcript.lines if line.kind == "bot"] == ["请提供身份证号", "抱歉"]
    assert store.transcript("web-2").names == {"赵敏"}
    assert store.transcript("nobody").lines == []
    rates = fallback_rate_per_day(store, settings.timezone, today=dt.date(2026, 11, 21), days=3)
    assert [(f.day.day, f.value, f.of) for f in rates] == [(19, 0.0, 0), (20, 0.5, 2), (21, 0.0, 1)]
    store.dispose()
    with pytest.raises(TrackerStoreUnavailable):
        TrackerStore(f"sqlite:///{tmp_path / 'missing.db'}", CIPHER).transcript("web-1")
    with pytest.raises(TrackerStoreUnavailable, match="DATA_ENCRYPTION_KEY does not match"):
        TrackerStore(f"sqlite:///{db}", EventCipher(Fernet.generate_key().decode())).transcript("web-1")


# Rasa's YAML schema check loads pykwalify extensions with importlib's deprecated load_module().
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_labels_keep_scrubbed_text_and_export_as_rasa_training_data(tmp_path, session, reviewer):
    db = tmp_path / "tracker.db"
    save_conversation(
        db,
        "web-7",
        [
            ("赵敏", "inform", 0.9, "请说明"),
            ("我身份证320102198605257079的那张卡不见了咋整", "nlu_fallback", 0.3, "抱歉"),
            ("帮我转个人工呗 电话13900001007", "nlu_fallback", 0.4, "抱歉"),
        ],
    )
    transcript = TrackerStore(f"sqlite:///{db}", CIPHER).transcript("web-7")
    flag = add_flag(session, conversation="web-7")

    def label(message_id: str, intent: str) -> None:
        label_message(session, flag=flag, transcript=transcript, message_id=message_id, intent=intent,
                      known_names=set(), by=reviewer)  # fmt: skip

    label("m1", "report_loss")
    label("m2", "out_of_scope")
    label("m2", "request_human")
    with pytest.raises(ReviewError):
        label("nope", "greet")
    with pytest.raises(ReviewError):
        label("m1", "bogus")
    labels = session.scalars(select(NluLabel).order_by(NluLabel.message_id)).all()
    assert [(x.message_id, x.intent, x.predicted_intent) for x in labels] == [
        ("m1", "report_loss", "nlu_fallback"),
        ("m2", "request_human", "nlu_fallback"),
    ]
    text, count = export_nlu_yaml(session)
    assert count == 2
    assert "320102198605257079" not in text and "13900001007" not in text
    data = yaml.safe_load(text)
    assert [block["intent"] for block in data["nlu"]] == ["report_loss", "request_human"]
    assert "不见了咋整" in data["nlu"][0]["examples"]

    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    training = RasaYAMLReader().reads(text)
    assert {m.get("intent") for m in training.intent_examples} == {"report_loss", "request_human"}


def test_overview_figures(session, settings):
    record_audit(session, actor="test", action="x", target_type="y")  # unrelated rows do not count
    add_flag(session, reason="identity_failed", conversation="a")
    add_flag(session, reason="identity_failed", conversation="b")
    done = add_flag(session, reason="human_requested", conversation="c")
    done.status = "reviewed"
    session.flush()
    counts = open_flags_by_reason(session)
    assert counts["identity_failed"] == 2 and counts["human_requested"] == 0
    days = loss_reports_per_day(session, settings.timezone, today=dt.date(2026, 11, 29), days=30)
    assert len(days) == 30 and days[-1].day == dt.date(2026, 11, 29) and sum(d.value for d in days) == 0


def test_whatever_answers_the_name_question_counts_as_a_name():
    """Wrong names never reach a slot, but they are still names: mask them too."""
    events = [
        {"event": "slot", "name": "requested_slot", "value": "person_name", "timestamp": 1.0},
        {"event": "user", "text": "我叫李四。", "parse_data": {"intent": {"name": "inform", "confidence": 0.9}}},
        {"event": "slot", "name": "requested_slot", "value": "id_number", "timestamp": 2.0},
        {"event": "user", "text": "查进度", "parse_data": {"intent": {"name": "check_progress", "confidence": 0.9}}},
    ]
    assert build_transcript(events).names == {"李四"}


def test_tracker_store_reads_on_each_backend_with_local_days(database_url, settings):
    """The same queries over Rasa's events table on SQLite and PostgreSQL, days cut at local midnight."""
    import json

    from sqlalchemy import insert

    from bot.db import make_engine
    from bot.review.transcripts import _events

    engine = make_engine(database_url)
    _events.metadata.create_all(engine)
    utc = dt.timezone.utc
    times = [
        (dt.datetime(2026, 11, 20, 7, 0, tzinfo=utc), "report_loss"),  # 15:00 in Shanghai
        (dt.datetime(2026, 11, 20, 15, 50, tzinfo=utc), "nlu_fallback"),  # 23:50
        (dt.datetime(2026, 11, 20, 16, 10, tzinfo=utc), "greet"),  # 00:10 the next day
    ]
    try:
        with engine.begin() as conn:
            for n, (at, intent) in enumerate(times):
                data = {"event": "user", "text": f"m{n}", "timestamp": at.timestamp(), "message_id": f"m{n}",
                        "parse_data": {"intent": {"name": intent, "confidence": 0.5}}}  # fmt: skip
                conn.execute(
                    insert(_events).values(
                        sender_id="web-9",
                        type_name="user",
                        timestamp=at.timestamp(),
                        intent_name=intent,
                        data=json.dumps(data),
                    )  # fmt: skip
                )
            # The greeting was understood, but Rasa's own fallback answered it: not understood either.
            fallback_at = dt.datetime(2026, 11, 20, 16, 10, 1, tzinfo=utc).timestamp()
            conn.execute(
                insert(_events).values(
                    sender_id="web-9", type_name="action", timestamp=fallback_at, action_name="action_default_fallback",
                    data=json.dumps({"event": "action", "name": "action_default_fallback", "timestamp": fallback_at}),
                )
            )  # fmt: skip
        store = TrackerStore(database_url, CIPHER)
        counts = store.daily_fallback_counts(dt.datetime(2026, 11, 19, tzinfo=utc), settings.timezone)
        assert counts == {dt.date(2026, 11, 20): (2, 1), dt.date(2026, 11, 21): (1, 1)}
        assert [line.text for line in store.transcript("web-9").lines] == ["m0", "m1", "m2", "action_default_fallback"]
        store.dispose()
    finally:
        _events.drop(engine)
        engine.dispose()


def test_a_flag_shows_the_session_it_was_raised_in():
    """An SMS number keeps its conversation id; each Rasa session starts with session_started."""
    from bot.review.transcripts import session_around

    def user(text, at):
        return {"event": "user", "text": text, "timestamp": at, "parse_data": {"intent": {"name": "greet"}}}

    events = [
        {"event": "session_started", "timestamp": 100.0}, user("上个月的事", 101.0),
        {"event": "session_started", "timestamp": 5000.0}, user("今天的事", 5001.0),
        {"event": "session_started", "timestamp": 9000.0}, user("以后的事", 9001.0),
    ]  # fmt: skip
    moment = dt.datetime.fromtimestamp(5002.0, dt.timezone.utc)
    assert [line.text for line in build_transcript(session_around(events, moment)).lines] == ["今天的事"]
    # A conversation Rasa created but stored no event of yet (a session never started) has no lines.
    assert session_around([], moment) == []


def test_exported_examples_cannot_smuggle_entity_markup(tmp_path, session, reviewer):
    db = tmp_path / "tracker.db"
    save_conversation(db, "web-8", [("我的[卡](card_number)丢了", "nlu_fallback", 0.2, "抱歉")])
    transcript = TrackerStore(f"sqlite:///{db}", CIPHER).transcript("web-8")
    flag = add_flag(session, conversation="web-8")
    label_message(
        session, flag=flag, transcript=transcript, message_id="m0", intent="report_loss", known_names=set(), by=reviewer
    )
    text, _ = export_nlu_yaml(session)
    assert "[卡](card_number)" not in text and "［卡］(card_number)" in text


def test_exported_examples_carry_no_name_given_in_the_conversation_or_on_the_card(tmp_path, session, reviewer):
    db = tmp_path / "tracker.db"
    turns = [
        ("李四", "inform", 0.9, "请说明"),  # the name the person gave (not the cardholder's)
        ("李四的卡被赵敏拿走了咋整", "nlu_fallback", 0.3, "抱歉"),
    ]
    save_conversation(db, "web-9", turns)
    transcript = TrackerStore(f"sqlite:///{db}", CIPHER).transcript("web-9")
    flag = add_flag(session, conversation="web-9")
    label_message(
        session, flag=flag, transcript=transcript, message_id="m1", intent="report_loss", known_names={"赵敏"},
        by=reviewer,
    )  # fmt: skip
    text, count = export_nlu_yaml(session)
    assert count == 1 and "的卡被" in text and "拿走了咋整" in text
    assert "李四" not in text and "赵敏" not in text
