"""Turns spread over several Rasa servers; a stopped one is skipped, an answered one never repeated."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.errors import ConfigError
from tests.support import free_port, naming_rasa
from webhooks import terminal_chat
from webhooks.rasa_client import RasaClient, RasaUnavailable
from webhooks.settings import load_web_settings


def test_turns_go_to_each_server_in_turn():
    received: list[str] = []
    with naming_rasa("a", received) as a, naming_rasa("b", received) as b:
        client = RasaClient([a, b], key="test-key", timeout=2)
        answers = [client.send("c1", str(n))[0]["text"] for n in range(4)]
    assert answers == ["a", "b", "a", "b"]
    assert received == ["a:0", "b:1", "a:2", "b:3"]


def test_a_stopped_server_is_skipped_and_nothing_is_sent_twice():
    received: list[str] = []
    stopped = f"http://127.0.0.1:{free_port()}"
    with naming_rasa("a", received) as a:
        client = RasaClient([stopped, a], key="test-key", timeout=2)
        answers = [client.send("c1", str(n))[0]["text"] for n in range(3)]
        assert client.is_ready("token")
    assert answers == ["a", "a", "a"]
    assert received == ["a:0", "a:1", "a:2"]


def test_the_log_names_a_refusing_server_by_its_url_not_its_place_in_the_rotation(caplog):
    stopped = f"http://127.0.0.1:{free_port()}"
    with naming_rasa("a", []) as a:
        # RASA_URLS may carry a user and password: the log shows the server without them.
        client = RasaClient([a, stopped.replace("//", "//ops:s3cret@")], key="test-key", timeout=2)
        with caplog.at_level("WARNING", logger="webhooks.rasa_client"):
            client.send("c1", "1")  # a answers
            client.send("c1", "2")  # the stopped one is tried first, then a
    assert [r.getMessage() for r in caplog.records] == [
        f"rasa server {stopped} refused the connection; trying the next"
    ]


def test_a_user_and_password_in_a_server_url_are_sent_as_basic_auth():
    received: list[str] = []
    with naming_rasa("a", received) as a:
        client = RasaClient(a.replace("//", "//ops:s3%40cret@"), key="test-key", timeout=2)
        assert client.send("c1", "你好")[0]["text"] == "a"
    assert received == ["a:你好 as ops"]


def test_an_answer_that_is_not_json_is_unavailable():
    with naming_rasa("a", [], answer=b"<html>Bad Gateway</html>") as a:
        with pytest.raises(RasaUnavailable, match="bad_reply"):
            RasaClient(a, key="test-key", timeout=2).send("c1", "你好")


def test_a_slow_server_is_not_retried_elsewhere():
    """It may have acted on the message already: the person gets the apology instead of a double turn."""
    received: list[str] = []
    with naming_rasa("slow", received, delay=1.5) as slow, naming_rasa("b", received) as b:
        client = RasaClient([slow, b], key="test-key", timeout=0.5)
        with pytest.raises(RasaUnavailable):
            client.send("c1", "确认")
    assert received == ["slow:确认"]


def test_all_servers_down_is_unavailable():
    client = RasaClient(
        [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"], key="test-key", timeout=1
    )
    with pytest.raises(RasaUnavailable):
        client.send("c1", "你好")
    assert not client.is_ready("token")


def test_rasa_urls_setting(settings_env):
    web = load_web_settings({**settings_env, "RASA_URLS": "http://rasa-1:5005/, http://rasa-2:5005"})
    assert web.rasa.base_urls == ["http://rasa-1:5005", "http://rasa-2:5005"]
    assert web.rasa_url == "http://rasa-1:5005"
    single = load_web_settings({**settings_env, "RASA_PORT": "5105"})
    assert single.rasa.base_urls == ["http://127.0.0.1:5105"]


def test_bad_rasa_urls_are_named(settings_env):
    with pytest.raises(ConfigError, match="RASA_URLS"):
        load_web_settings({**settings_env, "RASA_URLS": "rasa-1:5005"})


def test_make_chat_names_a_server_it_cannot_reach_without_its_password(settings_env, monkeypatch, capsys):
    stopped = f"http://127.0.0.1:{free_port()}"
    for name, value in {**settings_env, "RASA_TOKEN": "t", "RASA_URLS": stopped.replace("//", "//ops:s3cret@")}.items():
        monkeypatch.setenv(name, value)
    assert terminal_chat.main() == 1
    assert capsys.readouterr().err == f"The assistant is not running at {stopped}: start it with `make run`.\n"


@pytest.fixture
def settings_env() -> dict[str, str]:
    return {
        "FLASK_SECRET_KEY": "f" * 8 + "0123456789abcdef",
        "ID_HASH_KEY": "k" * 32,
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
