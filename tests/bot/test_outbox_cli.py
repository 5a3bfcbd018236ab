"""`python -m bot outbox list|run`: the local sink a demo user reads, and the worker against a fake Twilio."""

from __future__ import annotations

import json

import pytest

from bot.config import GENERATED_SECRETS
from tests.factories import ROW_ZHANG
from tests.fakes.twilio_api import start_fake_twilio
from tests.support import run_cli, write_csv

IN_PRODUCTION = ROW_ZHANG.replace("active", "in_production")
READY = ROW_ZHANG.replace("active", "ready_for_pickup").replace("2026-03-01T09:30", "2026-11-19T09:30")


@pytest.fixture
def local_env(cli_env, monkeypatch):  # noqa: F811 - pytest passes the imported fixture
    """The CLI's test settings and fresh secrets (not the machine's .env), with no Twilio account."""
    for name, make in GENERATED_SECRETS.items():
        monkeypatch.setenv(name, cli_env.get(name) or make())
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return cli_env


def import_ready_card(tmp_path, capsys) -> None:
    assert run_cli(capsys, "cards", "import", str(write_csv(tmp_path, IN_PRODUCTION, name="a.csv")))[0] == 0
    assert run_cli(capsys, "cards", "import", str(write_csv(tmp_path, READY, name="b.csv")))[0] == 0


def test_without_twilio_the_list_shows_the_full_text(local_env, tmp_path, capsys):
    import_ready_card(tmp_path, capsys)
    code, out, _ = run_cli(capsys, "outbox", "run", "--once")
    assert code == 0 and "local sink" in out and "handled 1" in out
    code, out, _ = run_cli(capsys, "outbox", "list", "--json")
    (row,) = json.loads(out)
    assert code == 0
    assert {k: row[k] for k in ("to", "kind", "language", "state")} == {
        "to": "+86 139******78",
        "kind": "card_ready",
        "language": "zh",
        "state": "local",
    }
    assert "朝阳区社保服务大厅" in row["text"] and "12345678" not in json.dumps(row)
    code, out, _ = run_cli(capsys, "outbox", "list")
    assert "local sink" in out and "朝阳区社保服务大厅" in out


def test_with_twilio_the_worker_sends_and_the_list_hides_the_text(local_env, tmp_path, capsys, monkeypatch):
    fake, server = start_fake_twilio("AC" + "1" * 32, "cli-twilio-token-0123456789")
    try:
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake.auth_token)
        monkeypatch.setenv("TWILIO_FROM_NUMBER", "+8610000000000")
        monkeypatch.setenv("TWILIO_API_BASE_URL", fake.url)
        import_ready_card(tmp_path, capsys)
        assert run_cli(capsys, "outbox", "run", "--once")[0] == 0
        (row,) = json.loads(run_cli(capsys, "outbox", "list", "--json")[1])
        assert row["state"] == "sent" and "text" not in row
        assert [m.to for m in fake.messages] == ["+8613912345678"]
    finally:
        server.shutdown()
        server.server_close()


def test_config_check_says_plainly_that_messages_stay_local(local_env, capsys):
    code, out, _ = run_cli(capsys, "config", "check")
    assert code == 0 and "messages stay in the local sink" in out
