"""`make chat`: talk to the running assistant (started by `make run`) from a terminal."""

from __future__ import annotations

import secrets
import sys

from bot.platform.service_settings import shown_url
from webhooks.rasa_client import RasaUnavailable
from webhooks.settings import load_web_settings


def main() -> int:
    web = load_web_settings()
    client = web.rasa
    if not client.is_ready(web.rasa_token):
        where = ", ".join(shown_url(url) for url in client.base_urls)
        print(f"The assistant is not running at {where}: start it with `make run`.", file=sys.stderr)
        return 1
    conversation = "terminal-" + secrets.token_hex(6)
    print("社保卡智能助手 — type a message, or Ctrl-D to quit.")
    while True:
        try:
            text = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        try:
            for reply in client.send(conversation, text, {"channel": "chat"}):
                print("bot:", reply.get("text", ""))
        except RasaUnavailable:
            print("bot: (no answer: is `make run` still running?)")


if __name__ == "__main__":
    sys.exit(main())
