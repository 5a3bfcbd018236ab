"""The staff console over flags made by real conversations with the running assistant.

Three conversations go through Rasa and the action server (three wrong identity answers, a loss
report, a request for a person); the console then shows them from the card database and Rasa's
own tracker store. The browser test drives Debian's Chromium through Playwright.
"""

from __future__ import annotations

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
from bot.models import AuditEntry
from tests.support import CHROMIUM, CHROMIUM_FLAGS, make_web_settings, sign_in, token
from webhooks import create_app

pytestmark = pytest.mark.e2e

PASSWORD = "a reviewer's password"
# A cardholder of this test's own, so no other end-to-end test depends on its card.
HOLDER_ID, HOLDER_NAME = "320106198001011233", "钱多多"
CARD_CSV = (
    "id_number,name,phone,card_number,status,region,office,updated_at\n"
    f"{HOLDER_ID},{HOLDER_NAME},13900002233,A22330001,active,320100,鼓楼区政务服务中心社保窗口,2026-01-05T09:00:00+08:00\n"
)


@dataclass
class Console:
    url: str
    app: object
    env: dict[str, str]
    reference: str


@pytest.fixture(scope="module")
def console(stack, tmp_path_factory) -> Console:
    work = tmp_path_factory.mktemp("console")
    (work / "cards.csv").write_text(CARD_CSV, encoding="utf-8")
    assert stack.cli("cards", "import", str(work / "cards.csv")).returncode == 0
    made = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add-user", "chen.reviewer", "--role", "reviewer"],
        cwd=ROOT, env=stack.env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    stack.say("e2e-console-wrong", "查询办理进度")
    for wrong in ("李四", "王五", "赵六"):
        stack.say("e2e-console-wrong", HOLDER_ID)
        stack.say("e2e-console-wrong", wrong)
    for message in ("我的社保卡丢了", HOLDER_ID, HOLDER_NAME):
        stack.say("e2e-console-loss", message)
    (confirmation,) = [t for t in stack.say("e2e-console-loss", "确认挂失") if "挂失编号" in t]
    reference = re.search(r"(?<!\d)\d{10}(?!\d)", confirmation).group(0)
    stack.say("e2e-console-human", "我要转人工客服")

    web = replace(
        make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token),
        tracker_store_url=f"sqlite:///{stack.env['TRACKER_SQLITE_PATH']}",
    )
    app = create_app({"WEB": web})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Console(f"http://127.0.0.1:{server.server_port}", app, stack.env, reference)
    finally:
        server.shutdown()
        server.server_close()


def _flags(stack) -> dict[str, dict]:
    return {f["conversation_id"] + ":" + f["reason"]: f for f in stack.flags() if "console" in f["conversation_id"]}


def test_real_conversations_reach_the_queue_masked(console, stack):
    flags = _flags(stack)
    assert {
        "e2e-console-wrong:identity_failed",
        "e2e-console-loss:loss_reported",
        "e2e-console-human:human_requested",
    } <= set(flags)
    client = console.app.test_client()
    assert sign_in(client, "chen.reviewer", PASSWORD).status_code == 302
    queue = client.get("/staff/flags?status=open").get_data(as_text=True)
    for key in ("e2e-console-wrong:identity_failed", "e2e-console-loss:loss_reported"):
        assert f'href="/staff/flags/{flags[key]["id"]}"' in queue

    loss = client.get(f"/staff/flags/{flags['e2e-console-loss:loss_reported']['id']}").get_data(as_text=True)
    assert "我的社保卡丢了" in loss and "report_loss" in loss  # the transcript, with the intent Rasa gave
    assert HOLDER_ID not in loss and "3201**********1233" in loss
    assert HOLDER_NAME not in loss and "钱**" in loss
    # The loss reference, in the bot's reply and in the linked loss report, masked by one rule.
    assert console.reference not in loss and loss.count(f"******{console.reference[-4:]}") >= 2

    wrong = client.get(f"/staff/flags/{flags['e2e-console-wrong:identity_failed']['id']}").get_data(as_text=True)
    assert wrong.count("3201**********1233") >= 3 and HOLDER_ID not in wrong
    assert "李四" not in wrong and "李*" in wrong  # names the person gave are masked too


def test_marking_reviewed_persists_and_is_audited(console, stack):
    flag_id = _flags(stack)["e2e-console-human:human_requested"]["id"]
    client = console.app.test_client()
    sign_in(client, "chen.reviewer", PASSWORD)
    response = client.post(
        f"/staff/flags/{flag_id}/review", data={"csrf_token": token(client, f"/staff/flags/{flag_id}")}
    )
    assert response.status_code == 303
    assert _flags(stack)["e2e-console-human:human_requested"]["status"] == "reviewed"
    engine = make_engine(console.env["DATABASE_URL"])
    with make_session_factory(engine)() as db:
        actions = db.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "flag_reviewed", AuditEntry.target_id == str(flag_id))
        ).all()
    engine.dispose()
    assert actions == ["staff:chen.reviewer"]


def test_in_a_real_browser(console, stack, tmp_path):
    """Sign in, filter the queue, open a transcript and mark it reviewed, in headless Chromium."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    flag_id = _flags(stack)["e2e-console-wrong:identity_failed"]["id"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
        )
        page = browser.new_page(viewport={"width": 1024, "height": 768})  # a tablet in landscape
        external: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(console.url) else external.append(r.url))
        try:
            page.goto(f"{console.url}/staff/flags")
            assert "/staff/login" in page.url
            page.fill("#username", "chen.reviewer")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]:has-text('登录')")
            page.wait_for_url(re.compile(r"/staff/flags"))
            page.select_option("select[name=reason]", "identity_failed")
            page.click("button:has-text('筛选')")
            page.wait_for_url(re.compile(r"reason=identity_failed"))
            assert page.locator("table.queue tbody tr").count() >= 1
            page.click(f"a[href='/staff/flags/{flag_id}']")
            page.wait_for_url(re.compile(rf"/staff/flags/{flag_id}$"))
            transcript = page.inner_text("section.transcript")
            assert "3201**********1233" in transcript and HOLDER_ID not in transcript
            page.click("button:has-text('标为已审')")
            page.wait_for_selector("p.flash:has-text('已保存')")
            assert "已审" in page.inner_text("h1")
            page.screenshot(path=str(tmp_path / "flag.png"))
        finally:
            browser.close()
    assert external == []  # no request left the console's own host
    assert _flags(stack)["e2e-console-wrong:identity_failed"]["status"] == "reviewed"


# For every chart label: its size on screen, and the box of each date under the day columns.
_CHART_TEXT = """() => [...document.querySelectorAll('figure.chart svg text')]
    .filter(t => t.textContent.trim() && t.getBBox().width > 0)
    .map(t => ({text: t.textContent.trim(), px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
                date: /^\\d\\d-\\d\\d$/.test(t.textContent.trim()),
                chart: t.closest('figure').getAttribute('aria-label'),
                left: t.getBoundingClientRect().left, right: t.getBoundingClientRect().right}))"""


def test_dashboard_and_queue_on_a_phone(console, stack, tmp_path):
    """At 390 px: chart labels 11 px or larger, dates apart, and the queue without sideways scrolling."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        external: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(console.url) else external.append(r.url))
        try:
            page.goto(f"{console.url}/staff/login")
            page.fill("#username", "chen.reviewer")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]:has-text('登录')")
            page.goto(f"{console.url}/staff/")
            assert page.locator("figure.chart svg").count() == 3
            labels = page.evaluate(_CHART_TEXT)
            assert labels and min(label["px"] for label in labels) >= 11, labels
            for chart in {label["chart"] for label in labels if label["date"]}:
                dates = sorted((lb for lb in labels if lb["date"] and lb["chart"] == chart), key=lambda lb: lb["left"])
                assert len(dates) >= 4
                assert all(a["right"] <= b["left"] for a, b in zip(dates, dates[1:], strict=False)), dates  # no overlap
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(tmp_path / "overview-390.png"), full_page=True)

            page.goto(f"{console.url}/staff/flags")
            rows = page.locator("table.queue tbody tr")
            assert rows.count() >= 3
            assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
            first = rows.first
            assert first.locator("td.summary").inner_text().count(" · ") == 3  # intent · outcome · language · channel
            box = first.locator("a:has-text('查看')").bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # the row's link is on screen
            page.screenshot(path=str(tmp_path / "queue-390.png"), full_page=True)
        finally:
            browser.close()
    assert external == []
