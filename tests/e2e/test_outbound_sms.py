"""Outbound SMS end to end: the assistant, the outbox worker process and the real Twilio client
against a fake of the Messages API on loopback.

Each test imports cardholders of its own (fictional) through the CLI, so no other test's
messages can be mistaken for its own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cards.card_import import HEADER
from bot.config import ROOT
from bot.identity.idnumbers import with_check_character
from bot.platform.migrate import upgrade
from tests.e2e.processes import start, stop
from tests.fakes.twilio_api import start_fake_twilio
from tests.support import signed_transport
from webhooks.call_simulator import Call

pytestmark = pytest.mark.e2e

ACCOUNT = "AC" + "e" * 32
FROM = "+8610012333000"
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
REFERENCE = re.compile(r"(?<!\d)\d{10}(?!\d)")
NAMES = ["", "林晓东", "郑海燕", "何建国", "罗丽华", "高志强", "梁秀英", "宋文杰"]


def holder(n: int, status: str = "active", *, updated: str = "2026-11-01T09:00:00+08:00") -> dict[str, str]:
    """A fictional cardholder of this module: its own ID number, name and mobile."""
    return {
        "id_number": with_check_character(f"32010219800101{n:03d}"),
        "name": NAMES[n],
        "phone": f"+8613700{n:06d}",
        "card_number": f"E2E{n:06d}",
        "status": status,
        "region": "320102",
        "office": f"玄武区第{n}社保服务点",
        "updated_at": updated,
    }


def import_rows(stack_env: dict[str, str], tmp_path: Path, *rows: dict[str, str]) -> None:
    path = tmp_path / f"cards-{time.monotonic_ns()}.csv"
    lines = [",".join(HEADER), *(",".join(row[h] for h in HEADER) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "cards", "import", str(path)],
        cwd=ROOT,
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def worker_command() -> list[str]:
    return [sys.executable, "-m", "bot", "outbox", "run", "--poll", "0.2"]


@pytest.fixture(scope="module")
def twilio(stack, tmp_path_factory):
    """A fake Twilio and one outbox worker sending the stack's messages to it."""
    fake, server = start_fake_twilio(ACCOUNT, "e2e-twilio-auth-token-0123456789")
    env = {
        **stack.env,
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE_URL": fake.url,
    }
    worker = start(worker_command(), env, tmp_path_factory.mktemp("outbox") / "worker.log")
    try:
        yield fake
    finally:
        stop(worker)
        server.shutdown()
        server.server_close()


def texts_to(fake, phone: str, *, at_least: int = 1, settle: float = 1.5, timeout: float = 20) -> list[str]:
    """The texts sent to `phone`, once at least `at_least` arrived and nothing more came for `settle` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(fake.to(phone)) < at_least:
        time.sleep(0.2)
    time.sleep(settle)
    return [m.body for m in fake.to(phone)]


def report_loss_by_chat(stack, sender: str, person: dict[str, str]) -> str:
    for text in ("我的社保卡丢了", person["id_number"], person["name"]):
        stack.say(sender, text)
    (confirmation,) = [t for t in stack.say(sender, "确认挂失") if "挂失编号" in t]
    return REFERENCE.search(confirmation).group(0)


def test_a_loss_report_by_chat_sends_one_notice(stack, twilio, tmp_path):
    person = holder(1)
    import_rows(stack.env, tmp_path, person)
    reference = report_loss_by_chat(stack, "e2e-sms-loss-chat", person)
    (notice,) = texts_to(twilio, person["phone"])
    assert reference in notice and "如非本人操作，请立即致电 12333" in notice
    assert person["id_number"] not in notice and person["name"] not in notice


@pytest.fixture
def twilio_webhooks(stack):
    """The web app in-process over the stack, posting signed Twilio requests (voice and SMS)."""
    return signed_transport(stack)


def test_a_loss_report_by_phone_sends_one_notice(stack, twilio, tmp_path, twilio_webhooks):
    person = holder(2)
    import_rows(stack.env, tmp_path, person)
    keyed_id = "keys:" + person["id_number"].replace("X", "*") + "#"
    Call(twilio_webhooks, caller="+8613000000000").run(
        iter(["我的社保卡丢了", keyed_id, "keys:" + person["phone"][-4:] + "#", "确认"]), echo=False
    )
    (stored,) = [r["reference"] for r in stack.card(person["id_number"])["loss_reports"]]
    (notice,) = texts_to(twilio, person["phone"])
    assert stored in notice


def test_unblock_needs_the_code_from_the_sms(stack, twilio, tmp_path):
    person, sender = holder(3), "e2e-sms-unblock"
    import_rows(stack.env, tmp_path, person)
    report_loss_by_chat(stack, "e2e-sms-unblock-loss", person)
    texts_to(twilio, person["phone"])
    for text in ("卡找到了，我要解挂", person["id_number"]):
        stack.say(sender, text)
    asked = stack.say(sender, person["name"])
    assert any("验证码" in t for t in asked), asked
    # Without the code a yes does nothing.
    refused = stack.say(sender, "确认")
    assert not any("已为您解除挂失" in t for t in refused), refused
    assert stack.card(person["id_number"])["status"] == "loss_reported"
    code_text = next(t for t in texts_to(twilio, person["phone"], at_least=2) if "验证码" in t)
    assert stack.say(sender, "12") and stack.card(person["id_number"])["status"] == "loss_reported"
    confirm = stack.say(sender, CODE.search(code_text).group(1))
    assert any("确认解挂请回复" in t for t in confirm), confirm
    assert stack.card(person["id_number"])["status"] == "loss_reported"  # still needs the explicit yes
    done = stack.say(sender, "确认")
    assert any("已为您解除挂失" in t for t in done), done
    record = stack.card(person["id_number"])
    assert record["status"] == "active" and [r["state"] for r in record["loss_reports"]] == ["cancelled"]
    texts = texts_to(twilio, person["phone"], at_least=3)
    assert len(texts) == 3 and "已解除" in texts[-1]


def test_three_wrong_codes_end_the_attempt_and_flag_it(stack, twilio, tmp_path):
    person, sender = holder(4), "e2e-sms-wrong-code"
    import_rows(stack.env, tmp_path, person)
    report_loss_by_chat(stack, "e2e-sms-wrong-code-loss", person)
    for text in ("我要解挂", person["id_number"], person["name"]):
        stack.say(sender, text)
    code = CODE.search(next(t for t in texts_to(twilio, person["phone"], at_least=2) if "验证码" in t)).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    replies = [stack.say(sender, wrong) for _ in range(3)]
    assert any("错误次数过多" in t for t in replies[-1]), replies
    assert not any("已为您解除挂失" in t for t in stack.say(sender, code) + stack.say(sender, "确认"))
    assert stack.card(person["id_number"])["status"] == "loss_reported"
    assert any(f["reason"] == "identity_failed" and f["conversation_id"] == sender for f in stack.flags())


def test_a_card_made_ready_by_import_is_announced_once(stack, twilio, tmp_path):
    person = holder(5, "in_production")
    import_rows(stack.env, tmp_path, person)
    ready = {**person, "status": "ready_for_pickup", "updated_at": "2026-11-20T10:00:00+08:00"}
    import_rows(stack.env, tmp_path, ready)
    (notice,) = texts_to(twilio, person["phone"])
    assert person["office"] in notice
    import_rows(stack.env, tmp_path, ready)  # the same row again
    assert len(texts_to(twilio, person["phone"])) == 1


def test_stop_ends_card_ready_notices_only(stack, twilio, tmp_path, twilio_webhooks):
    person = holder(6, "in_production")
    import_rows(stack.env, tmp_path, person)
    form = {"From": person["phone"], "Body": "退订", "MessageSid": "SM" + "6" * 32}
    status, reply = twilio_webhooks("/twilio/sms", form)
    assert status == 200 and "已退订" in reply
    import_rows(
        stack.env, tmp_path, {**person, "status": "ready_for_pickup", "updated_at": "2026-11-20T10:00:00+08:00"}
    )
    assert texts_to(twilio, person["phone"], at_least=0, settle=2) == []
    # Security notices still go once the card is collected and lost.
    import_rows(stack.env, tmp_path, {**person, "status": "issued", "updated_at": "2026-11-21T10:00:00+08:00"})
    reference = report_loss_by_chat(stack, "e2e-sms-stop", person)
    (notice,) = texts_to(twilio, person["phone"])
    assert reference in notice


def test_a_worker_killed_between_send_and_record_sends_no_duplicate(tmp_path):
    """Own database and workers: the first worker dies while Twilio holds its request; the next one recovers."""
    fake, server = start_fake_twilio(ACCOUNT, "e2e-twilio-auth-token-0123456789")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cards.db'}",
        "ID_HASH_KEY": "e2e-outbox-hash-key",
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE_URL": fake.url,
        "SMS_LEASE_SECONDS": "2",
    }
    upgrade(env["DATABASE_URL"])
    person = holder(7, "in_production")
    import_rows(env, tmp_path, person)
    import_rows(env, tmp_path, {**person, "status": "ready_for_pickup", "updated_at": "2026-11-20T10:00:00+08:00"})
    fake.stall = threading.Event()
    first = start(worker_command(), env, tmp_path / "first.log", own_group=True)
    try:
        deadline = time.monotonic() + 30
        while not fake.to(person["phone"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(fake.to(person["phone"])) == 1  # Twilio has it; the worker waits for the answer
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        fake.stall.set()
        fake.stall = None
        second = start(worker_command(), env, tmp_path / "second.log")
        try:
            listed = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                result = subprocess.run(
                    [sys.executable, "-m", "bot", "outbox", "list", "--json"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                listed = json.loads(result.stdout)
                if listed and listed[0]["state"] == "sent":
                    break
                time.sleep(0.5)
            assert [m["state"] for m in listed] == ["sent"]
            assert len(fake.to(person["phone"])) == 1
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        if fake.stall is not None:
            fake.stall.set()
        server.shutdown()
        server.server_close()
