"""Deliberate one-line bugs (mutants) in the core behaviours, and the tests that must catch each.

    .venv/bin/python -m tests.mutants --list      # what there is
    .venv/bin/python -m tests.mutants             # every mutant, one at a time
    .venv/bin/python -m tests.mutants I1 T2       # some of them

Each mutant is written into its file, the test files named for it run (`pytest -x -q`), and the
file is put back as it was, whatever happens. A mutant is caught when pytest fails (exit 1); any
other exit (no tests, collection error) is reported as an error, never as caught. The table is
kept in docs/testing.md; run this after changing a core behaviour or the tests that guard it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IDENTITY = (
    "tests/bot/test_identity.py",
    "tests/security/test_id_enumeration.py",
    "tests/security/test_owner_lockout.py",
)
LOSS = ("tests/bot/test_loss_reports.py", "tests/bot/test_assistant.py", "tests/actions/test_tasks.py")
UNBLOCK = ("tests/bot/test_loss_reports.py", "tests/actions/test_unblock.py", "tests/bot/test_one_time_codes.py")
SETTINGS = ("tests/bot/test_config.py", "tests/actions/test_settings_reach_behaviour.py")
SIGNATURES = (
    "tests/webhooks/test_twilio_signatures.py",
    "tests/webhooks/test_sms.py",
    "tests/webhooks/test_sms_outbox.py",
    "tests/webhooks/test_voice.py",
)
STAFF = (
    "tests/webhooks/test_staff.py",
    "tests/webhooks/test_staff_masking.py",
    "tests/security/test_masking_separators.py",
    "tests/bot/test_redaction.py",
    "tests/bot/test_staff_pages.py",
)
IMPORT = ("tests/bot/test_card_import.py", "tests/bot/test_cli.py")
OUTBOX = ("tests/bot/test_outbox.py", "tests/webhooks/test_sms_outbox.py")
ACTION_TOKEN = ("tests/security/test_action_server_auth.py",)
CHANNEL = ("tests/security/test_input_channel.py",)
DEPLOY = ("tests/bot/test_model_deploy.py",)
LOCKS = ("tests/rasa_addons/test_lock_store.py",)
URLS = ("tests/webhooks/test_rasa_client.py", "tests/webhooks/test_health.py", "tests/bot/test_model_deploy.py")


@dataclass(frozen=True)
class Mutant:
    key: str
    behaviour: str
    what: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


M = Mutant
MUTANTS = (
    # Identity checks and lockout
    M(
        "I1",
        "identity",
        "a success no longer resets the failure count",
        "bot/identity/checks.py",
        "return _failures(scope, _SINCE, func.coalesce(last_success.scalar_subquery(), _SINCE))",
        "return _failures(scope, _SINCE)",
        IDENTITY,
    ),
    M(
        "I2",
        "identity",
        "a fourth attempt in one conversation is allowed",
        "bot/identity/checks.py",
        "if counts.conversation >= policy.max_identity_attempts:",
        "if counts.conversation > policy.max_identity_attempts:",
        IDENTITY,
    ),
    M(
        "I3",
        "identity",
        "the ID number locks one failure late",
        "bot/identity/checks.py",
        "on_id >= policy.lockout_failures else None",
        "on_id > policy.lockout_failures else None",
        IDENTITY,
    ),
    M(
        "I4",
        "identity",
        "a locked ID number opens to caller ID alone",
        "bot/identity/checks.py",
        "        and phone_last4 is not None\n        and matches_last_four(phone_last4, holder.phone)\n",
        "",
        IDENTITY,
    ),
    M(
        "I5",
        "identity",
        "the stronger check verifies for everything, not the loss report only",
        "bot/identity/checks.py",
        "Verified(holder, loss_only=lock is not None)",
        "Verified(holder, loss_only=False)",
        IDENTITY,
    ),
    # Loss reports: create, cancel, lapse, and their preconditions
    M(
        "L1",
        "loss report",
        "a card not held by the citizen can be reported lost",
        "bot/cards/loss_reports.py",
        "if status not in HELD_BY_CITIZEN:",
        "if status is CardStatus.CANCELLED:",
        LOSS,
    ),
    M(
        "L2",
        "loss report",
        "a repeated report counts as new (second SMS, flag)",
        "bot/cards/loss_reports.py",
        "return existing, False",
        "return existing, True",
        LOSS,
    ),
    M(
        "L3",
        "loss report",
        "an unblock leaves the card loss_reported",
        "bot/cards/loss_reports.py",
        'state="cancelled", now=now, restore=True',
        'state="cancelled", now=now, restore=False',
        UNBLOCK,
    ),
    M(
        "L4",
        "loss report",
        "an unblock needs no checked code",
        "bot/services.py",
        "    consume_verified_code(session, card_id=card_id, conversation_id=conversation_id, now=now)\n",
        "",
        UNBLOCK,
    ),
    M(
        "L5",
        "loss report",
        "expired reports never lapse",
        "bot/cards/loss_reports.py",
        "report.expires_at > now:",
        "report.expires_at < now:",
        LOSS,
    ),
    M(
        "L6",
        "loss report",
        "self-service unblock ignores the deployment's switch",
        "bot/cards/loss_reports.py",
        "if self_service and not policy.self_service_unblock:",
        "if not self_service and not policy.self_service_unblock:",
        UNBLOCK,
    ),
    # Settings reaching behaviour
    M(
        "S1",
        "settings",
        "LOSS_REPORT_VALIDITY_DAYS is not read",
        "bot/config.py",
        'validity_days=_int(env, "LOSS_REPORT_VALIDITY_DAYS", 7, minimum=1)',
        "validity_days=7",
        SETTINGS,
    ),
    M(
        "S2",
        "settings",
        "a real loss report uses the default policy",
        "bot/services.py",
        "policy=settings.loss_policy,\n        outbox=Outbox.for_settings(settings),\n"
        "        now=now,\n        conversation_id",
        "policy=type(settings.loss_policy)(),\n        outbox=Outbox.for_settings(settings),\n"
        "        now=now,\n        conversation_id",
        SETTINGS,
    ),
    M(
        "S3",
        "settings",
        "SELF_SERVICE_UNBLOCK=false is ignored",
        "bot/config.py",
        'self_service_unblock=_bool(env, "SELF_SERVICE_UNBLOCK", True)',
        "self_service_unblock=True",
        SETTINGS,
    ),
    M(
        "S4",
        "settings",
        "IDENTITY_MAX_ATTEMPTS is not read",
        "bot/config.py",
        'max_identity_attempts=_int(env, "IDENTITY_MAX_ATTEMPTS", 3, minimum=1)',
        "max_identity_attempts=3",
        SETTINGS,
    ),
    M(
        "S5",
        "settings",
        "identity checks use the default lockout",
        "bot/services.py",
        "policy=settings.loss_policy,\n            conversation_id=conversation_id,\n            channel=channel,",
        "policy=type(settings.loss_policy)(),\n"
        "            conversation_id=conversation_id,\n            channel=channel,",
        SETTINGS,
    ),
    # Twilio signatures on every webhook
    M(
        "T1",
        "Twilio signature",
        "an empty auth token lets unsigned requests through",
        "webhooks/twilio_auth.py",
        "if not token or not RequestValidator(token)",
        "if token and not RequestValidator(token)",
        SIGNATURES,
    ),
    M(
        "T2",
        "Twilio signature",
        "the SMS delivery callback is unsigned",
        "webhooks/sms_status.py",
        '@bp.post("/sms-status")\n@twilio_signed\n',
        '@bp.post("/sms-status")\n',
        SIGNATURES,
    ),
    M(
        "T3",
        "Twilio signature",
        "the voicemail callback is unsigned",
        "webhooks/voice.py",
        '@bp.post("/voice/voicemail")\n@twilio_signed\n',
        '@bp.post("/voice/voicemail")\n',
        SIGNATURES,
    ),
    M(
        "T4",
        "Twilio signature",
        "PUBLIC_BASE_URL is ignored",
        "webhooks/twilio_auth.py",
        "    if not base:\n        return request.url\n",
        "    return request.url\n",
        SIGNATURES,
    ),
    # Masking in staff views and exports
    M(
        "K1",
        "masking",
        "assistant lines are shown unmasked",
        "bot/review/flag_detail.py",
        'shown(line.text) if line.kind != "action" else line.text',
        'shown(line.text) if line.kind == "user" else line.text',
        STAFF,
    ),
    M(
        "K2",
        "masking",
        "names people typed are not masked",
        "bot/review/flag_detail.py",
        "names = names_to_mask(holder, transcript.names if transcript else ())",
        "names = names_to_mask(holder)",
        STAFF,
    ),
    M(
        "K3",
        "masking",
        "the linked cardholder's phone is shown",
        "bot/review/flag_detail.py",
        "phone=holder.phone if revealed else mask_phone(holder.phone),",
        "phone=holder.phone,",
        STAFF,
    ),
    M(
        "K4",
        "masking",
        "staff notes are shown unmasked",
        "bot/review/flag_detail.py",
        "n.created_at, shown(n.text))",
        "n.created_at, n.text)",
        STAFF,
    ),
    M(
        "K5",
        "masking",
        "phone numbers in text are left as they are",
        "bot/language/redaction.py",
        "        return mask_phone(span.value)\n",
        "        return span.value\n",
        STAFF,
    ),
    M(
        "K6",
        "masking",
        "exported training labels keep names people typed",
        "bot/training/labels.py",
        "scrub_text(line.text, transcript.names | known_names)",
        "scrub_text(line.text, known_names)",
        ("tests/bot/test_review.py", "tests/webhooks/test_staff.py"),
    ),
    # Card import, all or nothing
    M(
        "C1",
        "card import",
        "each row is committed as it is written",
        "bot/cards/card_import.py",
        "        outcome = _apply_row(session, vault, outbox, row, now)\n",
        "        outcome = _apply_row(session, vault, outbox, row, now)\n        session.commit()\n",
        IMPORT,
    ),
    M(
        "C2",
        "card import",
        "a card number can move to another holder",
        "bot/cards/card_import.py",
        "if card is not None and (holder is None or card.cardholder_id != holder.id):",
        "if card is not None and holder is None:",
        IMPORT,
    ),
    M(
        "C3",
        "card import",
        "an older row undoes a later status change",
        "bot/cards/card_import.py",
        "        if row.updated_at >= card.status_changed_at:\n",
        "        if True:\n",
        IMPORT,
    ),
    M(
        "C4",
        "card import",
        "a first load announces every card ready for pickup",
        "bot/cards/card_import.py",
        'now_ready = outcome == "updated" and row.status is CardStatus.READY_FOR_PICKUP',
        "now_ready = row.status is CardStatus.READY_FOR_PICKUP",
        IMPORT,
    ),
    # Outbox and SMS sending
    M(
        "O1",
        "outbox",
        "an opt-out stops security notices too",
        "bot/sms/outbox.py",
        "if kind in OPTIONAL_KINDS and session.get(SmsOptOut, token) is not None:",
        "if session.get(SmsOptOut, token) is not None:",
        OUTBOX,
    ),
    M(
        "O2",
        "outbox",
        "a number Twilio refuses is retried",
        "bot/sms/outbox.py",
        "if permanent or message.attempts >= sms.max_attempts:",
        "if message.attempts >= sms.max_attempts:",
        OUTBOX,
    ),
    M(
        "O3",
        "outbox",
        "one event queues two messages",
        "bot/sms/outbox.py",
        "if session.scalars(select(OutboundMessage.id).where(OutboundMessage.key == key)).first() is not None:",
        "if False:",
        OUTBOX,
    ),
    M(
        "O4",
        "outbox",
        "a late 'sent' callback undoes 'delivered'",
        "bot/sms/outbox.py",
        'if message is None or state is None or message.state == "delivered":',
        "if message is None or state is None:",
        OUTBOX,
    ),
    M(
        "O5",
        "outbox",
        "a crashed send is sent again without asking Twilio",
        "bot/sms/worker.py",
        "    if claimed.recovering:\n        sid = sender.find(",
        "    if False:\n        sid = sender.find(",
        OUTBOX,
    ),
    # The action server's token
    M(
        "A1",
        "action token",
        "the action webhook is open",
        "actions/server.py",
        'OPEN_PATHS = frozenset({"/health"})',
        'OPEN_PATHS = frozenset({"/health", "/webhook"})',
        ACTION_TOKEN,
    ),
    M(
        "A2",
        "action token",
        "an empty token header passes",
        "actions/server.py",
        "if hmac.compare_digest(supplied, expected):",
        "if expected.startswith(supplied):",
        ACTION_TOKEN,
    ),
    M(
        "A3",
        "action token",
        "the server starts without the token check",
        "actions/server.py",
        "    require_token(app, token)\n",
        "",
        ACTION_TOKEN,
    ),
    M(
        "A4",
        "action token",
        "the server listens on every interface",
        "actions/server.py",
        "app.run(host, args.port,",
        'app.run("0.0.0.0", args.port,',
        ACTION_TOKEN,
    ),
    # The signed channel between the web app and Rasa
    M(
        "G1",
        "signed channel",
        "a nonce can be replayed",
        "rasa_addons/signed_channel.py",
        "return self.recent.first_use(request.headers[NONCE_HEADER], now)",
        "return self.recent.first_use(request.headers[NONCE_HEADER], now) or True",
        CHANNEL,
    ),
    M(
        "G2",
        "signed channel",
        "future timestamps are accepted",
        "bot/channels/signed.py",
        "if abs(current - int(timestamp)) > MAX_AGE_SECONDS:",
        "if current - int(timestamp) > MAX_AGE_SECONDS:",
        CHANNEL,
    ),
    M(
        "G3",
        "signed channel",
        "the signature does not cover the body",
        "bot/channels/signed.py",
        'signed = f"{timestamp}.{nonce}.".encode() + body',
        'signed = f"{timestamp}.{nonce}.".encode()',
        CHANNEL,
    ),
    M(
        "G4",
        "signed channel",
        "metadata is believed from any input channel",
        "actions/runtime.py",
        "if tracker.get_latest_input_channel() != CHANNEL_NAME:",
        "if False:",
        CHANNEL,
    ),
    # Operations
    M(
        "P1",
        "operations",
        "two model deployments run at once",
        "bot/training/deploy.py",
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
        "pass",
        DEPLOY,
    ),
    M(
        "P2",
        "operations",
        "a lock ticket lives Rasa's fixed minute, not a lease",
        "rasa_addons/lock_store.py",
        "ticket = self.issue_ticket(conversation_id, LEASE_SECONDS)",
        "ticket = self.issue_ticket(conversation_id, lock_lifetime)",
        LOCKS,
    ),
    M(
        "P3",
        "operations",
        "a lock ticket is never renewed while its turn runs",
        "rasa_addons/lock_store.py",
        "self.renew(conversation_id, ticket_number)",
        "pass",
        LOCKS,
    ),
    M(
        "P4",
        "operations",
        "a server URL is shown with its user and password",
        "bot/platform/service_settings.py",
        "parts = urlsplit(url)",
        "return url",
        URLS,
    ),
)


def run(mutant: Mutant, root: Path) -> tuple[str, float]:
    """Plant the mutant, run its tests, put the file back; ('caught' | 'MISSED' | 'error: ...', seconds)."""
    path = root / mutant.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1:
        return f"error: the line to change occurs {original.count(mutant.old)} times in {mutant.path}", 0.0
    tests = [t for t in mutant.tests if (root / t).exists()]
    if not tests:
        return "error: none of its test files exists", 0.0
    start = time.monotonic()
    try:
        path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=root,
            capture_output=True,
            text=True,
        )
    finally:
        path.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - start
    if result.returncode == 0:
        return "MISSED", seconds
    if result.returncode == 1:
        return "caught", seconds
    return f"error: pytest exit {result.returncode}: {result.stdout.strip().splitlines()[-1:]}", seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("keys", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to plant them in")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.keys or m.key in args.keys]
    if args.list:
        for m in chosen:
            print(f"{m.key}  {m.behaviour}: {m.what}  [{m.path}]  ->  {' '.join(m.tests)}")
        return 0
    missed = 0
    for m in chosen:
        outcome, seconds = run(m, args.root)
        missed += outcome != "caught"
        print(f"| {m.key} | {m.behaviour} | {m.what} | {outcome} | {seconds:.0f} s |", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
