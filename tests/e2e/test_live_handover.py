"""Live takeover of a web chat by staff, and a callback request, in two real browser contexts.

The person talks to the running assistant (Rasa and the action server) through the web app's
chat page; a reviewer signed in to the console in a second browser context takes the
conversation, they exchange messages, the reviewer hands it back and the bot answers the next
message. Staff hours are decided by the web app's clock, which the test sets (never the hours
check itself). Headless Debian Chromium through Playwright, as in test_staff_console.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.config import ROOT, load_settings
from bot.db import make_engine, make_session_factory
from bot.models import AuditEntry, Callback, Handover
from tests.support import CHROMIUM, CHROMIUM_FLAGS, make_web_settings
from webhooks import create_app

pytestmark = pytest.mark.e2e

PASSWORD = "a live reviewer's password"
REVIEWER = "zhou.live"
# Monday 30 November 2026, 10:00 in the city (in staff hours); Saturday 5 December, 10:00 (not).
MONDAY_10 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)
SATURDAY_10 = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.timezone.utc)
TIMEOUT_MS = 30_000


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class LiveApp:
    url: str
    clock: Clock
    sessions: object


@pytest.fixture(scope="module")
def live_app(stack):
    made = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add-user", REVIEWER, "--role", "reviewer"],
        cwd=ROOT, env=stack.env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    clock = Clock(MONDAY_10)
    settings = load_settings(stack.env, env_file=None)
    web = replace(
        make_web_settings(settings, rasa_url=stack.rasa_url, rasa_token=stack.token),
        tracker_store_url=f"sqlite:///{stack.env['TRACKER_SQLITE_PATH']}",
        clock=clock,
    )
    server = make_server("127.0.0.1", 0, create_app({"WEB": web}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    engine = make_engine(settings.database_url)
    try:
        yield LiveApp(f"http://127.0.0.1:{server.server_port}", clock, make_session_factory(engine, vault=web.vault))
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def _send(page, text: str) -> None:
    page.fill("#message", text)
    page.click("#composer button[type=submit]")


def _bot_lines(page) -> list[str]:
    """What the assistant and the web app said, without staff replies and notices."""
    return page.locator("#log p.bot:not(.staff)").all_inner_texts()


def _wait_for_line(page, pattern: str) -> str:
    page.wait_for_function(
        "pattern => [...document.querySelectorAll('#log p')].some(p => new RegExp(pattern).test(p.textContent))",
        arg=pattern,
        timeout=TIMEOUT_MS,
    )
    return next(line for line in page.locator("#log p").all_inner_texts() if re.search(pattern, line))


def _sign_in(page, url: str) -> None:
    page.goto(f"{url}/staff/login")
    page.fill("#username", REVIEWER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_url(re.compile(r"/staff/"))


def _handovers(live: LiveApp, state: str) -> list[Handover]:
    with live.sessions() as db:
        return list(db.scalars(select(Handover).where(Handover.state == state).order_by(Handover.id)))


def test_live_takeover_end_to_end(live_app, stack, browser, tmp_path):
    live_app.clock.now = MONDAY_10
    external: list[str] = []
    person_context, staff_context = browser.new_context(), browser.new_context()
    for context in (person_context, staff_context):
        context.on("request", lambda r: None if r.url.startswith(live_app.url) else external.append(r.url))
    person, reviewer = person_context.new_page(), staff_context.new_page()

    person.goto(live_app.url + "/")
    _send(person, "我要转人工客服")
    waiting = _wait_for_line(person, r"前面还有 \d+ 位")
    assert "排队" in waiting
    (handover,) = [h for h in _handovers(live_app, "waiting") if h.created_at == MONDAY_10]
    conversation_id = handover.conversation_id

    _sign_in(reviewer, live_app.url)
    reviewer.goto(f"{live_app.url}/staff/live")
    row = reviewer.locator("table.live-waiting tr", has=reviewer.locator(f"td:text-is('{handover.id}')"))
    assert "要求人工" in row.inner_text()
    row.locator("button:has-text('接入')").click()
    reviewer.wait_for_url(re.compile(rf"/staff/live/{handover.id}$"))
    assert "处理中" in reviewer.inner_text("#live-state")
    assert "我要转人工客服" in reviewer.inner_text("section.before")  # what the bot was told before

    _wait_for_line(person, "工作人员已接入")
    bot_lines_before = len(_bot_lines(person))  # the assistant's own lines (staff lines are apart)
    _send(person, "你好，请问有人吗？我的卡在哪里领")
    reviewer.wait_for_selector("#live-lines li.person:has-text('请问有人吗')", timeout=TIMEOUT_MS)

    reviewer.fill("#reply-text", "您好，我是工作人员小周，请问您办理的是哪项业务？")
    reviewer.click("form.reply button[type=submit]")
    reviewer.wait_for_selector("p.flash:has-text('已发送')")
    staff_line = _wait_for_line(person, "我是工作人员小周")
    assert staff_line.startswith("工作人员")
    _send(person, "查询办理进度")
    reviewer.wait_for_selector("#live-lines li.person:has-text('查询办理进度')", timeout=TIMEOUT_MS)
    # Nothing the person wrote while staff held the conversation reached the bot.
    assert len(_bot_lines(person)) == bot_lines_before
    said = [e.get("text") for e in stack.tracker(conversation_id)["events"] if e.get("event") == "user"]
    assert said == ["我要转人工客服"]

    reviewer.click("button:has-text('交回智能助手')")
    reviewer.wait_for_selector("p.flash:has-text('已交回智能助手')")
    _wait_for_line(person, "交回智能助手")
    _send(person, "我想查询社保卡办理进度")
    person.wait_for_function(
        "n => document.querySelectorAll('#log p.bot:not(.staff)').length > n",
        arg=len(_bot_lines(person)),
        timeout=TIMEOUT_MS,
    )
    said = [e.get("text") for e in stack.tracker(conversation_id)["events"] if e.get("event") == "user"]
    assert said == ["我要转人工客服", "我想查询社保卡办理进度"]  # the bot took up the conversation again
    person.screenshot(path=str(tmp_path / "person.png"))
    reviewer.screenshot(path=str(tmp_path / "reviewer.png"))
    person_context.close()
    staff_context.close()

    assert external == []
    with live_app.sessions() as db:
        audit = db.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "handover", AuditEntry.target_id == str(handover.id)
            )
        ).all()
        assert list(audit) == ["handover_taken", "handover_reply", "handover_handed_back"]
        assert db.get(Handover, handover.id).state == "handed_back"


def test_callback_request_out_of_hours(live_app, browser):
    live_app.clock.now = SATURDAY_10
    context = browser.new_context()
    person = context.new_page()
    person.goto(live_app.url + "/")
    _send(person, "我要转人工客服")
    _wait_for_line(person, "不是在线人工服务时间")
    _send(person, "12345")
    _wait_for_line(person, "无法识别")
    _send(person, "13900002233")
    _wait_for_line(person, r"回电号码 \+86 139\*+33")
    _send(person, "想问补卡需要带什么材料")
    booked = _wait_for_line(person, "已登记回电请求")
    assert "12月7日（周一）17:00" in booked and "节假日顺延" in booked
    context.close()

    staff = browser.new_context()
    reviewer = staff.new_page()
    _sign_in(reviewer, live_app.url)
    reviewer.goto(f"{live_app.url}/staff/callbacks")
    row = reviewer.locator("table.callbacks tr", has_text="想问补卡需要带什么材料")
    assert "2026-12-07 17:00" in row.inner_text()
    assert "13900002233" not in reviewer.content() and "139******33" in row.inner_text()
    row.locator("button:has-text('已回电')").click()
    reviewer.wait_for_selector("p.flash:has-text('已保存')")
    staff.close()
    with live_app.sessions() as db:
        (callback,) = db.scalars(
            select(Callback).where(Callback.due_at == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc))
        )
        assert (callback.phone, callback.status, callback.done_by) == ("+8613900002233", "done", REVIEWER)
