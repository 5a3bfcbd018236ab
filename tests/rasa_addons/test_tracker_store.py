"""The encrypted tracker store: Rasa's own save and retrieve over ciphertexts, older clear rows included."""

from __future__ import annotations

import sqlite3
import time
import warnings
from contextlib import closing

import pytest
from cryptography.fernet import Fernet
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.config import ROOT
from bot.errors import ConfigError
from bot.identity.privacy import EventCipher
from rasa_addons.tracker_store import EncryptedSQLTrackerStore

ID_NUMBER = "320102198605257079"
DOMAIN = Domain.empty()
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")


def conversation(sender: str, *, start: float = 1000.0) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=None)
    tracker.update(ActionExecuted("action_session_start", timestamp=start))
    tracker.update(SessionStarted(timestamp=start + 0.1))
    tracker.update(ActionExecuted("action_listen", timestamp=start + 0.2))
    tracker.update(
        UserUttered(
            f"我的身份证{ID_NUMBER}",
            intent={"name": "inform", "confidence": 0.9},
            metadata={"caller": "+8613900001007"},
            timestamp=start + 1,
        )
    )
    tracker.update(SlotSet("id_number", ID_NUMBER, timestamp=start + 2))
    return tracker


def slot_values(tracker: DialogueStateTracker) -> list:
    return [event.value for event in tracker.events if isinstance(event, SlotSet)]


def rows(path) -> list[tuple[str, str, str | None]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT type_name, data, intent_name FROM events ORDER BY id").fetchall()


def make_store(path, cipher: EventCipher | None) -> SQLTrackerStore:
    with warnings.catch_warnings():  # Rasa's store uses SQLAlchemy 1.x APIs of its own
        warnings.simplefilter("ignore")
        if cipher is None:
            return SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
        return EncryptedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path), cipher=cipher)


async def test_events_are_stored_encrypted_and_read_back_whole(tmp_path):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store = make_store(path, cipher)
    await store.save(conversation("web-1"))
    stored = rows(path)
    assert [kind for kind, _, _ in stored] == ["action", "session_started", "action", "user", "slot"]
    assert all(data.startswith("gAAAAA") for _, data, _ in stored)
    assert ID_NUMBER.encode() not in path.read_bytes() and b"13900001007" not in path.read_bytes()
    assert stored[3][2] == "inform"  # the columns the console and /metrics count by stay clear
    tracker = await store.retrieve("web-1")
    assert slot_values(tracker) == [ID_NUMBER]
    assert tracker.latest_message.text == f"我的身份证{ID_NUMBER}"
    assert tracker.latest_message.metadata == {"caller": "+8613900001007"}
    store.engine.dispose()


async def test_rows_written_in_clear_before_still_read_and_new_ones_are_encrypted(tmp_path):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    before = make_store(path, None)  # Rasa's own store, as a deployment had it
    await before.save(conversation("sms-1"))
    before.engine.dispose()
    store = make_store(path, cipher)
    tracker = await store.retrieve("sms-1")
    assert slot_values(tracker) == [ID_NUMBER]
    tracker.update(UserUttered("确认", intent={"name": "affirm", "confidence": 0.9}, timestamp=1010.0))
    await store.save(tracker)  # Rasa appends only the new event
    stored = rows(path)
    assert len(stored) == 6 and stored[0][1].startswith("{") and stored[-1][1].startswith("gAAAAA")
    assert (await store.retrieve("sms-1")).latest_message.text == "确认"
    store.engine.dispose()


async def test_a_wrong_key_is_refused_rather_than_read_as_nonsense(tmp_path):
    path = tmp_path / "tracker.db"
    writer = make_store(path, EventCipher(Fernet.generate_key().decode()))
    await writer.save(conversation("web-1"))
    writer.engine.dispose()
    reader = make_store(path, EventCipher(Fernet.generate_key().decode()))
    with pytest.raises(ConfigError, match="DATA_ENCRYPTION_KEY does not match"):
        await reader.retrieve("web-1")
    reader.engine.dispose()


# Rasa's YAML schema check loads pykwalify extensions with importlib's deprecated load_module().
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_endpoints_file_loads_the_encrypted_store_with_the_key_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_SQLITE_PATH", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-token-the-endpoints-file-expands")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = create_tracker_store(config, DOMAIN)
    assert isinstance(store, EncryptedSQLTrackerStore)
    store.engine.dispose()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APP_ENV": "production"}, "DATA_ENCRYPTION_KEY is not set"),  # production reads no .env
        ({"DATA_ENCRYPTION_KEY": "not-a-key"}, "must be a Fernet key"),
    ],
)
def test_rasa_does_not_start_without_a_usable_key(tmp_path, monkeypatch, env, message):
    monkeypatch.delenv("DATA_ENCRYPTION_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        EncryptedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert not (tmp_path / "tracker.db").exists()  # nothing was written, not even the table


def turn(tracker: DialogueStateTracker, text: str, at: float) -> None:
    tracker.update(ActionExecuted("action_listen", timestamp=at))
    tracker.update(UserUttered(text, intent={"name": "inform", "confidence": 0.9}, timestamp=at + 0.1))


async def test_a_server_reads_what_another_server_added_since_its_last_read(tmp_path):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    first, second = make_store(path, cipher), make_store(path, cipher)
    await first.save(conversation("web-1"))
    assert len((await first.retrieve("web-1")).events) == 4  # from SessionStarted on, as Rasa reads it
    tracker = await second.retrieve("web-1")
    turn(tracker, "第二台服务器", 1010.0)
    await second.save(tracker)
    again = await first.retrieve("web-1")
    assert [e.text for e in again.events if isinstance(e, UserUttered)][-1] == "第二台服务器"
    assert [type(e) for e in again.events] == [type(e) for e in tracker.events]
    for store in (first, second):
        store.engine.dispose()


async def test_a_tracker_read_here_and_saved_twice_stores_each_event_once(tmp_path):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store, other = make_store(path, cipher), make_store(path, cipher)
    await store.save(conversation("web-1"))
    tracker = await store.retrieve("web-1")
    turn(tracker, "第一句", 1010.0)
    await store.save(tracker)  # Rasa saves after the message and again after the actions
    tracker.update(SlotSet("person_name", "赵敏", timestamp=1011.0))
    await store.save(tracker)
    assert [kind for kind, _, _ in rows(path)][5:] == ["action", "user", "slot"]
    for reader in (store, other):
        again = await reader.retrieve("web-1")
        assert [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]
    for each in (store, other):
        each.engine.dispose()


def test_sqlite_keeps_a_write_ahead_log(tmp_path):
    store = make_store(tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode()))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.engine.dispose()


async def test_a_tracker_changed_but_not_saved_leaves_the_next_read_as_stored(tmp_path):
    store = make_store(tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode()))
    await store.save(conversation("web-1"))
    tracker = await store.retrieve("web-1")
    turn(tracker, "never saved", 1010.0)  # e.g. an action failed before Rasa saved the turn
    assert len((await store.retrieve("web-1")).events) == 4
    store.engine.dispose()


async def test_a_new_session_started_elsewhere_is_read_alone(tmp_path):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    first, second = make_store(path, cipher), make_store(path, cipher)
    await first.save(conversation("web-1"))
    await first.retrieve("web-1")
    tracker = await second.retrieve("web-1")
    tracker.update(ActionExecuted("action_session_start", timestamp=5000.0))
    tracker.update(SessionStarted(timestamp=5000.1))
    turn(tracker, "新的一次", 5001.0)
    await second.save(tracker)
    fresh = await first.retrieve("web-1")
    assert slot_values(fresh) == []  # the old session's ID number is not in the new session
    assert [e.text for e in fresh.events if isinstance(e, UserUttered)] == ["新的一次"]
    for store in (first, second):
        store.engine.dispose()


async def test_a_conversation_deleted_underneath_is_gone_for_every_server(tmp_path):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store = make_store(path, cipher)
    await store.save(conversation("web-1"))
    await store.retrieve("web-1")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM events WHERE sender_id = 'web-1'")  # as `tracker purge` does
    assert await store.retrieve("web-1") is None
    store.engine.dispose()


def test_a_store_remembers_at_most_512_conversations_for_15_minutes(tmp_path):
    store = make_store(tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode()))
    assert (store.recent.size, store.recent.idle_seconds) == (512, 900.0)
    store.engine.dispose()


def whole_reads(store: EncryptedSQLTrackerStore, monkeypatch) -> list[str]:
    """Conversations `store` reads whole from the database from now on (its latest-session query)."""
    asked: list[str] = []
    whole_read = EncryptedSQLTrackerStore._latest_session_rows

    def counted(self, connection, sender_id):
        asked.append(sender_id)
        return whole_read(self, connection, sender_id)

    monkeypatch.setattr(EncryptedSQLTrackerStore, "_latest_session_rows", counted)
    return asked


async def rasa_read(path, cipher: EventCipher, sender: str) -> list[dict]:
    """The latest session as Rasa's own read of the stored rows returns it."""
    fresh = make_store(path, cipher)
    tracker = await SQLTrackerStore._retrieve(fresh, sender, fetch_events_from_all_sessions=False)
    fresh.engine.dispose()
    return [e.as_dict() for e in tracker.events]


async def test_a_conversation_begun_here_is_read_back_without_reading_it_whole(tmp_path, monkeypatch):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store = make_store(path, cipher)
    store.domain = DOMAIN
    asked = whole_reads(store, monkeypatch)
    tracker = await store.get_or_create_tracker("web-1")  # nothing stored: created and saved here
    assert asked == ["web-1"]  # the read that found nothing
    now = time.time()  # the new tracker's first event is stamped now, as Rasa's session start is
    tracker.update(ActionExecuted("action_session_start", timestamp=now + 1))
    tracker.update(SessionStarted(timestamp=now + 1.1))
    turn(tracker, "第一句", now + 2)
    await store.save(tracker)
    for text, at in (("第二句", now + 10), ("第三句", now + 20)):
        tracker = await store.retrieve("web-1")
        turn(tracker, text, at)
        await store.save(tracker)
    again = await store.retrieve("web-1")
    assert asked == ["web-1"]
    assert [e.as_dict() for e in again.events] == await rasa_read(path, cipher, "web-1")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["第一句", "第二句", "第三句"]
    store.engine.dispose()


async def test_a_conversation_begun_through_rasas_wrapper_is_saved_without_counting_the_stored_rows(
    tmp_path, monkeypatch
):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store = make_store(path, cipher)
    store.domain = DOMAIN
    counted: list[str] = []
    monkeypatch.setattr(
        EncryptedSQLTrackerStore, "_additional_events", lambda self, session, tracker: counted.append(tracker.sender_id)
    )
    served = AwaitableTrackerStore(store)  # how Rasa serves a configured store; it creates trackers itself
    tracker = await served.get_or_create_tracker("web-1")
    turn(tracker, "第一句", time.time() + 1)
    await served.save(tracker)
    assert counted == []
    assert [e.as_dict() for e in (await served.retrieve("web-1")).events] == await rasa_read(path, cipher, "web-1")
    store.engine.dispose()


@pytest.mark.parametrize(
    ("session_start", "at", "whole_read", "slots"),
    [
        # a new session stamped after everything before it: known here, the old ID number left behind
        ([ActionExecuted("action_session_start", timestamp=5000.0), SessionStarted(timestamp=5000.1)], 5001.0, [], []),
        # a clock set back: the session's stamps overlap the last one's, so the database decides
        ([SessionStarted(timestamp=1001.5)], 1003.0, ["web-1"], [ID_NUMBER]),
    ],
    ids=["stamped-after", "clock-set-back"],
)
async def test_a_new_session_saved_here_reads_back_as_rasa_reads_it(
    tmp_path, monkeypatch, session_start, at, whole_read, slots
):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store = make_store(path, cipher)
    await store.save(conversation("web-1"))
    tracker = await store.retrieve("web-1")
    asked = whole_reads(store, monkeypatch)
    for event in session_start:
        tracker.update(event)
    turn(tracker, "新的一次", at)
    await store.save(tracker)
    fresh = await store.retrieve("web-1")
    assert asked == whole_read
    assert [e.as_dict() for e in fresh.events] == await rasa_read(path, cipher, "web-1")
    assert slot_values(fresh) == slots
    store.engine.dispose()


async def test_rows_written_meanwhile_by_another_server_make_the_next_read_ask_the_database(tmp_path, monkeypatch):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store, other = make_store(path, cipher), make_store(path, cipher)
    await store.save(conversation("web-1"))
    tracker = await store.retrieve("web-1")
    elsewhere = await other.retrieve("web-1")
    turn(elsewhere, "另一台", 1010.0)  # only without the lock store could two servers do this
    await other.save(elsewhere)
    turn(tracker, "这一台", 1020.0)
    await store.save(tracker)
    asked = whole_reads(store, monkeypatch)
    again = await store.retrieve("web-1")
    assert asked == ["web-1"]
    assert [e.text for e in again.events if isinstance(e, UserUttered)][-2:] == ["另一台", "这一台"]
    for each in (store, other):
        each.engine.dispose()


def in_sessions(sessions: int) -> DialogueStateTracker:
    """Conversation web-1 with `sessions` sessions started (each with a turn), then a last turn."""
    tracker = DialogueStateTracker("web-1", slots=None)
    for number in range(sessions):
        tracker.update(ActionExecuted("action_session_start", timestamp=1000.0 * (number + 1)))
        tracker.update(SessionStarted(timestamp=1000.0 * (number + 1) + 0.1))
        turn(tracker, f"第{number}次", 1000.0 * (number + 1) + 1)
    turn(tracker, "最后一句", 9000.0)
    return tracker


@pytest.mark.parametrize("sessions", [0, 1, 3], ids=["no-session-start", "one-session", "three-sessions"])
async def test_a_whole_read_finds_the_latest_session_as_rasas_query_does(tmp_path, sessions):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    writer = make_store(path, cipher)
    tracker = in_sessions(sessions)
    await writer.save(tracker)
    writer.engine.dispose()
    reader = make_store(path, cipher)
    reader.domain = DOMAIN
    read = await reader.retrieve("web-1")  # a server that never saw the conversation reads it whole
    assert [e.as_dict() for e in read.events] == await rasa_read(path, cipher, "web-1")
    assert sum(isinstance(e, SessionStarted) for e in read.events) == min(sessions, 1)
    reader.engine.dispose()


@pytest.mark.parametrize("sessions", [0, 1, 3], ids=["no-session-start", "one-session", "three-sessions"])
async def test_every_session_reads_as_rasas_own_read_of_every_session(tmp_path, sessions):
    path, cipher = tmp_path / "tracker.db", EventCipher(Fernet.generate_key().decode())
    store = make_store(path, cipher)
    store.domain = DOMAIN
    tracker = in_sessions(sessions)
    await store.save(tracker)
    ours = await store.retrieve_full_tracker("web-1")
    rasas = await SQLTrackerStore._retrieve(store, "web-1", fetch_events_from_all_sessions=True)
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in rasas.events]
    assert sum(isinstance(e, SessionStarted) for e in ours.events) == sessions
    assert await store.retrieve_full_tracker("web-2") is None
    store.engine.dispose()
