"""Threat: someone gets a copy of the databases (card database, Rasa's tracker store, a backup).

No ID number, name, phone number or anything people said may be stored in clear (brief sections 6
and 7): the card database keeps keyed hashes and ciphertexts, Rasa's tracker store keeps every
event's document encrypted, and what is kept is deleted after TRACKER_RETENTION_DAYS. These tests
read the raw bytes and rows an attacker would get, after real conversations through the stack.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, select, text

from bot.cards.demo import DEMO_CARDHOLDERS
from bot.cli import _sessions, main
from bot.config import load_settings
from bot.identity.privacy import EventCipher
from bot.models import Cardholder, VoiceTurn, utcnow
from bot.platform.migrate import upgrade
from bot.review.accounts import add_staff_user
from bot.review.flags import flag_conversation
from bot.review.queue import Reviewer, add_note
from bot.review.transcripts import MessageCounts, TrackerStore
from tests.factories import HEADER_LINE, ID_ZHANG, ROW_WANG, ROW_ZHANG, add_card, save_conversation
from tests.support import PASSWORD, make_web_settings, sign_in
from webhooks import create_app

CHAT_PERSON = next(d for d in DEMO_CARDHOLDERS if d.name == "赵敏")  # active card
CALLER = next(d for d in DEMO_CARDHOLDERS if d.name == "杨帆")  # issued card, calls from the registered phone
OTHER_PHONE_CALLER = next(d for d in DEMO_CARDHOLDERS if d.id_number.startswith("9"))  # active card
OTHER_PHONE = "+8613600002468"
BASE64_CHARACTER = rb"[A-Za-z0-9_\-=]"


def assert_no_phone(blob: bytes, phone: str, *, where: str) -> None:
    """Neither E.164 (with or without +), nor the national number, nor the last four digits as given."""
    for form in dict.fromkeys([phone, phone.lstrip("+"), phone.removeprefix("+86")]):
        assert form.encode() not in blob, f"a phone number is in clear in {where}"
    # Four digits can occur by chance inside base64 ciphertext; in clear they stand apart from it.
    digits = phone[-4:].encode()
    last_four = re.compile(rb"(?<!" + BASE64_CHARACTER + rb")" + digits + rb"(?!" + BASE64_CHARACTER + rb")")
    assert not last_four.search(blob), f"a phone's last four digits are in clear in {where}"


def assert_nothing_personal(blob: bytes, *, id_number: str, name: str, phone: str, where: str) -> None:
    """Not the ID number (either case of X), nor the name as UTF-8 or in JSON's \\u escapes, nor the phone."""
    for form in dict.fromkeys([id_number, id_number.lower(), name, json.dumps(name)[1:-1]]):
        assert form.encode() not in blob, f"an ID number or name is in clear in {where}"
    assert_no_phone(blob, phone, where=where)


def database_bytes(path: Path) -> bytes:
    """The SQLite file with its write-ahead log and journal, as a copy of the disk would have them."""
    parts = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def all_rows_as_text(url: str) -> bytes:
    """Every row of every table at `url`, as an attacker dumping the database would see them.

    Integer row ids and the keys that point at them are left out: they are counters (event 1007 of
    a busy tracker store) and would read as a phone's last four digits standing alone. Text ids
    (conversation ids) stay in: a phone number must never be part of one.
    """
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            rows = [
                str(tuple(value for column, value in row._mapping.items() if not _is_counter(column, value)))
                for table in tables
                for row in conn.execute(text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        engine.dispose()
    return json.dumps(rows, ensure_ascii=False).encode() + "\n".join(rows).encode()


def _is_counter(column: str, value: object) -> bool:
    return isinstance(value, int) and (column == "id" or column.endswith("_id"))


def report_loss_by_chat_and_by_phone(stack) -> dict[str, str]:
    """A chat loss report, a call from the registered phone and one from another phone; their ids."""
    chat = "web-at-rest"
    for message in ("我的社保卡丢了", CHAT_PERSON.id_number, CHAT_PERSON.name, "确认"):
        stack.say(chat, message)
    call = "call-at-rest-1"
    caller_id = {"channel": "voice", "language": "zh", "caller": CALLER.phone}
    for message in ("我的社保卡丢了", CALLER.id_number, "确认"):
        stack.say(call, message, caller_id)
    other = "call-at-rest-2"
    other_phone = {"channel": "voice", "language": "en", "caller": OTHER_PHONE}
    for message in (
        "I lost my social security card",
        OTHER_PHONE_CALLER.id_number,
        OTHER_PHONE_CALLER.phone[-4:],
        "yes",
    ):
        stack.say(other, message, other_phone)
    for person in (CHAT_PERSON, CALLER, OTHER_PHONE_CALLER):
        assert stack.card(person.id_number)["status"] == "loss_reported"
    return {"chat": chat, "call": call, "other": other}


def assert_no_person_in(blob: bytes, where: str) -> None:
    for person in (CHAT_PERSON, CALLER, OTHER_PHONE_CALLER):
        assert_nothing_personal(blob, id_number=person.id_number, name=person.name, phone=person.phone, where=where)
    assert_no_phone(blob, OTHER_PHONE, where=where)


@pytest.mark.e2e
def test_loss_reports_by_chat_and_phone_leave_no_personal_value_at_rest(stack):
    conversations = report_loss_by_chat_and_by_phone(stack)
    tracker_db = Path(stack.env["TRACKER_SQLITE_PATH"])
    assert_no_person_in(database_bytes(tracker_db), "Rasa's tracker store")
    assert_no_person_in(database_bytes(sqlite_path(stack.env["DATABASE_URL"])), "the card database")

    # Every event's document is a ciphertext; the columns the console and /metrics count stay readable.
    with closing(sqlite3.connect(tracker_db)) as conn:
        stored = conn.execute("SELECT data, type_name FROM events WHERE sender_id = ?", (conversations["chat"],))
        stored = stored.fetchall()
    assert stored and all(data.startswith("gAAAAA") for data, _ in stored)
    store = TrackerStore(f"sqlite:///{tracker_db}", EventCipher(stack.env["DATA_ENCRYPTION_KEY"]))
    said = [line.text for line in store.transcript(conversations["chat"]).lines if line.kind == "user"]
    assert said == ["我的社保卡丢了", CHAT_PERSON.id_number, CHAT_PERSON.name, "确认"]
    counts = MessageCounts()
    store.count_messages(counts, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1))
    assert sum(n for (channel, _), n in counts.messages.items() if channel == "chat") >= 4
    assert sum(n for (channel, _), n in counts.messages.items() if channel == "voice") >= 7
    store.dispose()


@pytest.mark.production
def test_production_databases_hold_no_personal_value(production_stack):
    report_loss_by_chat_and_by_phone(production_stack)
    assert_no_person_in(all_rows_as_text(production_stack.env["TRACKER_STORE_URL"]), "the PostgreSQL tracker store")
    assert_no_person_in(all_rows_as_text(production_stack.env["DATABASE_URL"]), "the PostgreSQL card database")


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> dict[str, str]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cards.db'}",
        "TRACKER_SQLITE_PATH": str(tmp_path / "tracker.db"),
        "ID_HASH_KEY": Fernet.generate_key().decode(),
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.delenv("TRACKER_RETENTION_DAYS", raising=False)
    upgrade(env["DATABASE_URL"])
    return env


def test_imported_and_demo_cardholders_are_not_in_the_database_file(cli_env, tmp_path, capsys):
    path = tmp_path / "cards.csv"
    path.write_text("\n".join([HEADER_LINE, ROW_ZHANG, ROW_WANG]) + "\n", encoding="utf-8")
    assert main(["cards", "import", str(path)]) == 0
    assert main(["demo", "seed"]) == 2  # demo data goes only into an empty database
    capsys.readouterr()
    blob = database_bytes(sqlite_path(cli_env["DATABASE_URL"]))
    for row in (ROW_ZHANG, ROW_WANG):
        id_number, name, phone = row.split(",")[:3]
        e164 = "+86" + re.sub(r"\D", "", phone)[-11:]
        assert_nothing_personal(blob, id_number=id_number, name=name, phone=e164, where="the imported card database")
    code, out, _ = main(["cards", "show", ID_ZHANG, "--json"]), *capsys.readouterr()
    assert code == 0 and json.loads(out)["name"] == "张伟"  # the operator still reads them


def test_demo_cardholders_and_staff_notes_are_not_in_the_database_file(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ID_HASH_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert main(["db", "upgrade"]) == 0 and main(["demo", "seed"]) == 0
    capsys.readouterr()
    settings = load_settings()
    with _sessions(settings).begin() as db:
        user = add_staff_user(db, username="li.reviewer", password="a-long-password", role="reviewer")
        flag = flag_conversation(db, conversation_id="web-1", channel="chat", reason="human_requested")
        note = f"回电 {DEMO_CARDHOLDERS[0].phone}，{DEMO_CARDHOLDERS[0].name}，{DEMO_CARDHOLDERS[0].id_number}"
        add_note(db, flag.id, note, Reviewer(user.id, user.username, user.role))
    blob = database_bytes(sqlite_path(url))
    for person in DEMO_CARDHOLDERS:
        assert_nothing_personal(
            blob, id_number=person.id_number, name=person.name, phone=person.phone, where="the demo card database"
        )
    with _sessions(settings)() as db:
        assert db.scalars(select(Cardholder).order_by(Cardholder.id)).first().phone == DEMO_CARDHOLDERS[0].phone


@pytest.fixture
def console(settings, sessions, vault, tmp_path):
    """A staff console whose tracker store holds one encrypted conversation and one from before encryption."""
    tracker_db = tmp_path / "tracker.db"
    turns = [
        ("我的卡丢了", "report_loss", 0.96, "请提供您的身份证号码。"),
        (ID_ZHANG, "inform", 0.99, "请提供您的姓名。"),
        ("张伟", "inform", 0.93, "确认挂失吗？"),
        ("我电话13912345678", "nlu_fallback", 0.31, "抱歉，我没有听懂。"),
    ]
    save_conversation(tracker_db, "web-sealed", turns, cipher=EventCipher(settings.data_encryption_key))
    save_conversation(tracker_db, "web-before", turns)
    with sessions.begin() as db:
        holder_id = add_card(db, vault).cardholder_id
        flags = {
            name: flag_conversation(
                db, conversation_id=name, channel="chat", reason="nlu_fallback", cardholder_id=holder_id
            ).id
            for name in ("web-sealed", "web-before")
        }
        add_staff_user(db, username="li.reviewer", password=PASSWORD, role="reviewer")
    web = replace(make_web_settings(settings), tracker_store_url=f"sqlite:///{tracker_db}")
    client = create_app({"WEB": web, "TESTING": True}).test_client()
    assert sign_in(client, "li.reviewer", PASSWORD).status_code == 302
    return client, flags, tracker_db


def test_console_shows_masked_transcripts_of_encrypted_and_older_clear_rows(console):
    client, flags, tracker_db = console
    with closing(sqlite3.connect(tracker_db)) as conn:
        sealed = [data for (data,) in conn.execute("SELECT data FROM events WHERE sender_id = 'web-sealed'")]
    assert sealed and all(data.startswith("gAAAAA") and ID_ZHANG not in data for data in sealed)
    for name in ("web-sealed", "web-before"):
        page = client.get(f"/staff/flags/{flags[name]}").get_data(as_text=True)
        assert "我的卡丢了" in page and "report_loss" in page, name
        assert ID_ZHANG not in page and "1101**********002X" in page, name
        assert "13912345678" not in page and "+86 139******78" in page, name


def _voice_turn(session, key: str, at: dt.datetime) -> None:
    session.add(VoiceTurn(key=key, twiml="sealed", created_at=at))


def test_purge_deletes_old_conversations_and_voice_replays_and_keeps_recent_ones(cli_env, capsys):
    tracker_db = Path(cli_env["TRACKER_SQLITE_PATH"])
    now = utcnow()
    cipher = EventCipher(cli_env["DATA_ENCRYPTION_KEY"])
    turn = [("我要挂失", "report_loss", 0.9, "好的")]
    save_conversation(tracker_db, "web-old", turn, start=(now - dt.timedelta(days=40)).timestamp(), cipher=cipher)
    save_conversation(tracker_db, "web-new", turn, start=(now - dt.timedelta(days=20)).timestamp(), cipher=cipher)
    sessions = _sessions(load_settings())
    with sessions.begin() as db:
        _voice_turn(db, "CAold:1", now - dt.timedelta(days=40))
        _voice_turn(db, "CAnew:1", now - dt.timedelta(days=20))

    for bad in ("-1", "abc", "1.5", "999999999"):
        with pytest.raises(SystemExit) as exit_:
            main(["tracker", "purge", "--older-than", bad])
        assert exit_.value.code == 2 and "DAYS must be a whole number" in capsys.readouterr().err

    def senders() -> set[str]:
        with closing(sqlite3.connect(tracker_db)) as conn:
            return {sender for (sender,) in conn.execute("SELECT DISTINCT sender_id FROM events")}

    def replays() -> set[str]:
        with sessions() as db:
            return set(db.scalars(select(VoiceTurn.key)))

    assert senders() == {"web-old", "web-new"} and replays() == {"CAold:1", "CAnew:1"}  # bad input changed nothing
    assert main(["tracker", "purge", "--older-than", "30"]) == 0
    assert "older than 30 days" in capsys.readouterr().out
    assert senders() == {"web-new"} and replays() == {"CAnew:1"}


def test_purge_defaults_to_the_retention_setting(cli_env, monkeypatch, capsys):
    tracker_db = Path(cli_env["TRACKER_SQLITE_PATH"])
    start = (utcnow() - dt.timedelta(days=20)).timestamp()
    save_conversation(tracker_db, "web-1", [("你好", "greet", 0.9, "您好")], start=start)  # written in clear, before
    assert main(["tracker", "purge"]) == 0 and "older than 90 days" in capsys.readouterr().out
    with closing(sqlite3.connect(tracker_db)) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    monkeypatch.setenv("TRACKER_RETENTION_DAYS", "10")
    assert main(["tracker", "purge"]) == 0 and "older than 10 days" in capsys.readouterr().out
    with closing(sqlite3.connect(tracker_db)) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    monkeypatch.setenv("TRACKER_RETENTION_DAYS", "ninety")
    assert main(["tracker", "purge"]) == 3 and "TRACKER_RETENTION_DAYS" in capsys.readouterr().err


def test_rows_an_older_version_wrote_in_clear_can_be_encrypted_in_place(cli_env, capsys):
    tracker_db = Path(cli_env["TRACKER_SQLITE_PATH"])
    turns = [
        ("我的卡丢了", "report_loss", 0.9, "请提供身份证号"),
        (ID_ZHANG, "inform", 0.9, "请提供姓名"),
        ("张伟", "inform", 0.9, "好的"),
    ]
    save_conversation(tracker_db, "web-before", turns)  # Rasa's own store: clear JSON
    assert ID_ZHANG.encode() in database_bytes(tracker_db)
    assert main(["tracker", "encrypt"]) == 0 and "encrypted 13 " in capsys.readouterr().out
    assert_nothing_personal(
        database_bytes(tracker_db), id_number=ID_ZHANG, name="张伟", phone="+8613912345678", where="the tracker store"
    )
    store = TrackerStore(f"sqlite:///{tracker_db}", EventCipher(cli_env["DATA_ENCRYPTION_KEY"]))
    assert [line.text for line in store.transcript("web-before").lines if line.kind == "user"] == [
        "我的卡丢了",
        ID_ZHANG,
        "张伟",
    ]
    store.dispose()
    assert main(["tracker", "encrypt"]) == 0 and "encrypted 0 " in capsys.readouterr().out
