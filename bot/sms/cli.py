"""`python -m bot outbox ...`: the outbound SMS worker and the list of messages.

Without a Twilio account (`TWILIO_ACCOUNT_SID` and a sender) messages go to the local sink, and
`outbox list` prints their full text, so someone trying the demo can read a one-time code.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from bot.config import Settings
from bot.db import make_engine, make_session_factory
from bot.identity.privacy import Vault
from bot.models import SMS_STATES
from bot.sms.outbox import describe_message, list_messages
from bot.sms.senders import make_sender
from bot.sms.worker import run_worker, send_one

LOCAL_SINK_NOTE = (
    "no Twilio account configured (TWILIO_ACCOUNT_SID, TWILIO_FROM_NUMBER): messages stay in the local sink"
)


def cmd_outbox_list(args: argparse.Namespace, settings: Settings) -> None:
    vault = Vault(settings)
    local = not settings.sms.configured
    sessions = make_session_factory(make_engine(settings.database_url, for_reads=True), vault=vault)
    with sessions.begin() as session:
        rows = [
            describe_message(m, vault=vault, tz=settings.timezone, with_text=local)
            for m in list_messages(session, limit=args.limit, state=args.state)
        ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if local:
        print(f"({LOCAL_SINK_NOTE})")
    if not rows:
        print("no outbound messages")
    for row in rows:
        print(f"{row['id']:>6}  {row['created']}  {row['to']:<16} {row['kind']:<14} {row['language']}  {row['state']}")
        if "text" in row:
            print(f"        {row['text']}")


def cmd_outbox_run(args: argparse.Namespace, settings: Settings) -> None:
    sender, vault = make_sender(settings.sms), Vault(settings)
    sessions = make_session_factory(make_engine(settings.database_url), vault=vault)
    if not settings.sms.configured:
        print(LOCAL_SINK_NOTE, flush=True)
    if args.once:
        count = 0
        while send_one(sessions, sender=sender, vault=vault, sms=settings.sms):
            count += 1
        print(f"handled {count} messages")
        return
    run_worker(sessions, sender=sender, vault=vault, sms=settings.sms, poll_seconds=args.poll)


def add_outbox_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register the `outbox` group with the CLI's `command(group, name, handler, help)` helper."""
    listing = command("outbox", "list", cmd_outbox_list, "outbound SMS, newest first (full text in the local sink)")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--state", choices=SMS_STATES)
    listing.add_argument("--limit", type=int, default=50)
    run = command("outbox", "run", cmd_outbox_run, "send queued SMS until stopped (the worker process)")
    run.add_argument("--once", action="store_true", help="send what is due, then exit")
    run.add_argument("--poll", type=float, default=1.0, help="seconds between looks when idle (default 1)")
