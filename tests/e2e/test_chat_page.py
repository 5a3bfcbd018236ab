"""The web chat page in headless Chromium against the running assistant, on a phone and a desktop.

Each run reports a card lost with the page's buttons, reloads the page in the middle, loses the
network at the confirmation, then ends the conversation. A screenshot of each step is saved in
results/screenshots/ (ignored by git), where it outlives pytest's rotating temporary directories.
"""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.serving import make_server

from bot.config import ROOT, load_settings
from tests.e2e.cardholders import add_holder
from tests.support import CHROMIUM, CHROMIUM_FLAGS, make_web_settings
from webhooks import create_app

pytestmark = pytest.mark.e2e

# What each run says and expects, by the language it is in.
SCRIPT = {
    "zh": {
        "name": "沈佳怡", "hello": "你好", "report": "挂失", "yes": "确认", "no": "取消", "lang": "zh-CN",
        "asks_id": "身份证", "done": "挂失编号", "progress": "查进度",
    },
    "en": {
        "name": "Grace Miller", "hello": "Hello", "report": "Report a lost card", "yes": "Yes", "no": "No",
        "lang": "en", "asks_id": "ID number", "done": "Reference", "progress": "how far has my card got",
    },
}  # fmt: skip
SCREENSHOTS = ROOT / "results" / "screenshots"
STEPS = ("1-start", "2-typing", "3-confirm", "4-reloaded", "5-network-error", "6-reported", "7-ended", "8-after-end")
BUBBLE = "#log p.bot:not(.greeting), #log p.me"  # what was said, the fixed greeting aside


@pytest.fixture(scope="module")
def site(stack):
    web = make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token)
    server = make_server("127.0.0.1", 0, create_app({"WEB": web}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def bot_replies(page) -> int:
    return page.locator("#log p.bot").count()


def wait_for_answer(page, before: int) -> None:
    """Until a reply beyond the first `before` is shown and the page is no longer waiting."""
    page.wait_for_function(
        "n => document.querySelectorAll('#log p.bot').length > n && !document.querySelector('#log .typing')",
        arg=before,
        timeout=30_000,
    )


def type_message(page, text: str) -> None:
    before = bot_replies(page)
    page.fill("#message", text)
    page.press("#message", "Enter")
    wait_for_answer(page, before)


def press(page, title: str) -> None:
    before = bot_replies(page)
    page.click(f"#log .choices button:text-is('{title}')")
    wait_for_answer(page, before)


def choices(page) -> list[str]:
    return page.locator("#log .choices button").all_inner_texts()


def last_reply(page):
    return page.locator("#log p.bot").last


def kept_conversations(page) -> list[str]:
    return page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('chat-history:'))")


@pytest.mark.parametrize(("width", "height", "language"), [(390, 844, "zh"), (1280, 800, "en")])
def test_the_chat_page_in_a_real_browser(stack, site, browser, tmp_path, width, height, language):
    said = SCRIPT[language]
    holder = add_holder(stack, tmp_path, said["name"])
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(site) else external.append(r.url))

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"chat-page-{width}-{step}.png"))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"chat-page-{width}-*.png"):
        old.unlink()

    try:
        page.goto(site + "/")
        assert page.evaluate("document.activeElement.id") == "message"
        greeting = page.inner_text("#log .greeting")
        assert greeting.startswith("您好") and "\n\n" not in greeting and "  " not in greeting
        assert page.get_attribute("#log .greeting span[lang=en]", "lang") == "en"
        assert "Send" in page.inner_text("#composer button") and "发送" in page.inner_text("#composer button")
        shot("1-start")

        # The first turn is held back until the typing indicator has been seen.
        held = []
        before = bot_replies(page)
        page.route("**/chat/message", lambda route: held.append(route))
        page.fill("#message", said["hello"])
        page.press("#message", "Enter")
        page.wait_for_selector("#log .typing")
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        shot("2-typing")
        held[0].continue_()
        page.unroute("**/chat/message")
        wait_for_answer(page, before)
        assert said["report"] in choices(page) and len(choices(page)) == 3
        assert last_reply(page).get_attribute("lang") == said["lang"]

        press(page, said["report"])  # the card task, by its button
        assert page.locator("#log p.me").last.inner_text() == said["report"]
        assert said["asks_id"] in last_reply(page).inner_text()
        type_message(page, holder.id_number)
        type_message(page, holder.name)
        assert choices(page) == [said["yes"], said["no"]]
        assert last_reply(page).get_attribute("lang") == said["lang"]
        assert page.get_attribute("#log .choices button >> nth=0", "lang") == said["lang"]
        shot("3-confirm")

        # A reload shows the conversation again, with the choices still offered.
        shown = page.locator(BUBBLE).all_inner_texts()
        page.reload()
        assert page.locator(BUBBLE).all_inner_texts() == shown
        assert holder.id_number in shown and choices(page) == [said["yes"], said["no"]]
        assert page.evaluate("document.activeElement.id") == "message"
        shot("4-reloaded")

        # The network fails on the yes: the message stays, marked, with a retry; nothing was done.
        page.route("**/chat/message", lambda route: route.abort("internetdisconnected"))
        page.click(f"#log .choices button:text-is('{said['yes']}')")
        page.wait_for_selector("#log p.me.failed")
        assert page.locator("#log p.me.failed").inner_text() == said["yes"]
        assert page.locator("#log .error button.retry").is_visible()
        assert stack.card(holder.id_number)["status"] == "active"
        shot("5-network-error")
        page.unroute("**/chat/message")
        before = bot_replies(page)
        page.click("#log .error button.retry")
        wait_for_answer(page, before)
        assert page.locator("#log p.me.failed").count() == 0 and page.locator("#log .error").count() == 0
        assert said["done"] in last_reply(page).inner_text()
        assert stack.card(holder.id_number)["status"] == "loss_reported"
        assert choices(page) == []

        # Lines stay readable on a wide screen, and nothing runs off a narrow one.
        widest = page.evaluate("Math.max(...[...document.querySelectorAll('#log p')].map(p => p.offsetWidth))")
        assert widest <= min(0.85 * width, 620), widest
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot("6-reported")

        # Ending the conversation forgets it here and on the server, also across a reload.
        page.click("#end")
        page.wait_for_selector("#log p.notice")
        assert kept_conversations(page) == [] and page.locator(BUBBLE).count() == 0
        shot("7-ended")
        page.reload()
        text = page.inner_text("#log")
        assert holder.id_number not in text and holder.name not in text and said["done"] not in text
        assert page.locator(BUBBLE).count() == 0
        type_message(page, said["progress"])
        assert said["asks_id"] in last_reply(page).inner_text()  # verified no more: asked who it is again
        assert len(kept_conversations(page)) == 1
        shot("8-after-end")
    finally:
        context.close()
    assert external == []  # the page asks nothing of any other host
    assert sorted(p.name for p in SCREENSHOTS.glob(f"chat-page-{width}-*.png")) == [
        f"chat-page-{width}-{step}.png" for step in STEPS
    ]


def test_the_page_works_where_storage_is_refused(site, browser):
    """Some browsers refuse sessionStorage (privacy settings): the chat still works, it just keeps nothing."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    refused = "() => { throw new DOMException('refused', 'SecurityError'); }"
    context.add_init_script(f"Object.defineProperty(window, 'sessionStorage', {{get: {refused}}})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(site + "/")
        type_message(page, "怎么激活社保卡")
        assert "激活" in last_reply(page).inner_text()
    finally:
        context.close()
    assert errors == []


def test_a_new_browser_session_never_shows_the_last_ones_messages(site, browser):
    """The session cookie gone (the browser closed, or cleared) means a new conversation: nothing of the old."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(site + "/")
        type_message(page, "怎么激活社保卡")
        (old,) = kept_conversations(page)
        context.clear_cookies()
        page.reload()
        assert page.locator(BUBBLE).count() == 0 and kept_conversations(page) == []
        type_message(page, "how do I activate my card")
        assert kept_conversations(page) not in ([], [old])
    finally:
        context.close()
