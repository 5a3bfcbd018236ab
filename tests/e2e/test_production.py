"""Production mode on this machine's PostgreSQL and Redis: two Rasa servers share one conversation.

Turns of one conversation go to Rasa A and Rasa B alternately and at the same moment; the Redis
lock store makes them run one after the other and the PostgreSQL tracker store keeps every event,
once, in order. The loss report confirmed from both servers at once is committed exactly once.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.cards.demo import DEMO_CARDHOLDERS
from bot.config import ROOT
from tests.e2e.processes import WebChat, start, stop, wait_until
from tests.support import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.production]

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.name == "赵敏")  # active card
REFERENCE = re.compile(r"(?<!\d)\d{10}(?!\d)")


def concurrently(stack, sender: str, turns: list[tuple[str, str]]) -> list[list[str]]:
    """Send (rasa_url, message) turns all at once; the replies in the same order."""
    with ThreadPoolExecutor(len(turns)) as pool:
        return list(pool.map(lambda turn: stack.say(sender, turn[1], rasa_url=turn[0]), turns))


def test_one_conversation_over_two_rasa_servers_loses_and_reorders_nothing(production_stack):
    stack = production_stack
    a, b = stack.rasa_urls
    sender = "prod-" + secrets.token_hex(4)
    stack.say(sender, "我的社保卡丢了", rasa_url=a)
    stack.say(sender, HOLDER.id_number, rasa_url=b)
    assert any("确认挂失请回复" in text for text in stack.say(sender, HOLDER.name, rasa_url=a))
    assert stack.card(HOLDER.id_number)["loss_reports"] == []

    confirmations = concurrently(stack, sender, [(b, "确认"), (a, "确认")])
    texts = [text for replies in confirmations for text in replies if "挂失编号" in text]
    spoken = {reference for text in texts for reference in REFERENCE.findall(text)}
    record = stack.card(HOLDER.id_number)
    assert record["status"] == "loss_reported"
    assert len(record["loss_reports"]) == 1
    assert spoken == {record["loss_reports"][0]["reference"]}

    chatter = [(a, "你好"), (b, "谢谢"), (a, "你好"), (b, "谢谢")]
    for _ in range(3):  # turns arriving together at both servers are where an unsafe lock loses events
        concurrently(stack, sender, chatter)
    sent = ["我的社保卡丢了", HOLDER.id_number, HOLDER.name, "确认", "确认", *(text for _, text in chatter * 3)]

    events = stack.tracker(sender)["events"]
    assert events == stack.tracker(sender, rasa_url=b)["events"]  # both read the same stored conversation
    users = [event for event in events if event["event"] == "user"]
    assert [event["text"] for event in users[:3]] == sent[:3]
    assert sorted(event["text"] for event in users) == sorted(sent)  # none lost, none twice
    times = [event["timestamp"] for event in events]
    assert times == sorted(times)
    for index, event in enumerate(events):
        if event["event"] == "user" and index:
            # every earlier turn ran to its end (Rasa listening again) before this message was taken
            previous = [e for e in events[:index] if e["event"] == "action"][-1]
            assert previous["name"] == "action_listen", events[index - 3 : index + 1]
    assert events[-1] == {**events[-1], "event": "action", "name": "action_listen"}


def test_web_app_under_gunicorn_in_production_mode(production_stack):
    stack = production_stack
    port = free_port()
    env = {**stack.env, "WEB_PORT": str(port), "WEB_WORKERS": "2", "RASA_URLS": ",".join(stack.rasa_urls)}
    env["ACTIONS_URL"] = f"http://127.0.0.1:{stack.ports['actions']}"
    gunicorn = start(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "webhooks:create_app()"],
        env,
        stack.work / "web.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=5).ok, 60, "web app", [gunicorn])
        health = requests.get(f"{base}/healthz", timeout=5).json()
        assert health["status"] == "ok" and health["down"] == []
        browser = WebChat(base)
        for message in ("你好", "怎么激活社保卡"):
            replies = browser.say(message)
            assert replies and not any("暂时无法办理" in text for text in replies)
    finally:
        stop(gunicorn)


def test_rasa_refuses_to_start_without_the_shared_stores(production_stack):
    env = {**production_stack.env, "LOCK_STORE_URL": "", "TRACKER_STORE_URL": "sqlite:///tracker.db"}
    result = subprocess.run(
        [str(ROOT / "deploy" / "rasa.sh"), str(free_port())], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 3
    assert "LOCK_STORE_URL is not set" in result.stderr
    assert "TRACKER_STORE_URL must be a PostgreSQL URL" in result.stderr
