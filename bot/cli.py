"""`python -m bot`: database, card, flag, staff and demo commands for operators.

Exit codes: 0 done, 1 not found, 2 bad input or refused, 3 database or configuration problem.
Messages name what is wrong without echoing personal values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.cards import card_import, demo
from bot.cards.holders import describe_cardholder, get_cardholder
from bot.cards.loss_reports import lapse_all_expired, lapse_expired
from bot.cards.status_changes import set_card_status
from bot.cards.statuses import CardStatus, parse_status
from bot.channels.voice_turns import purge_voice_turns
from bot.config import (
    ENV_FILE,
    MAX_RETENTION_DAYS,
    Settings,
    init_env_file,
    is_production,
    load_settings,
    merged_environment,
    tracker_retention_days,
    tracker_store_url,
)
from bot.db import make_engine, make_session_factory
from bot.errors import BotError, CardImportError, CardNotFound, ConfigError
from bot.handover.live import purge_handovers
from bot.identity.idnumbers import validate_id_number
from bot.identity.privacy import EventCipher, Vault, mask_id_number
from bot.models import FLAG_REASONS, FLAG_STATUSES, STAFF_ROLES
from bot.platform.migrate import upgrade
from bot.platform.service_settings import check_configuration, port_setting, rasa_token, url_list
from bot.platform.supervise import ProcfileError, exec_supervisord, write_config
from bot.review.accounts import add_staff_user
from bot.review.audit import record_audit
from bot.review.flags import describe_flag, list_flags
from bot.review.transcripts import TrackerStoreUnavailable, encrypt_clear_events, purge_conversations
from bot.sms.cli import LOCAL_SINK_NOTE, add_outbox_commands
from bot.sms.outbox import Outbox
from bot.training.deploy import DEFAULT_TOLERANCE, DeployError, DeployRefused, deploy
from bot.training.labels import export_nlu_yaml, labelled_examples
from bot.training.nlu_merge import DATA_DIR as NLU_DATA_DIR
from bot.training.nlu_merge import merge_labels
from bot.training.trained_model import ensure_trained, record_served

log = logging.getLogger(__name__)
ACTOR = "cli"

EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


class CommandFailed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _sessions(settings: Settings):
    return make_session_factory(make_engine(settings.database_url), vault=Vault(settings))


def cmd_env_init(args: argparse.Namespace, settings: Settings | None) -> None:
    added = init_env_file()
    print(f".env: added {', '.join(added)}" if added else ".env: already complete")


def cmd_env_exec(args: argparse.Namespace, settings: Settings | None) -> None:
    """Become COMMAND with the environment overlaid on `.env` (`make run` starts honcho this way)."""
    command = args.command_line[1:] if args.command_line[:1] == ["--"] else args.command_line
    if not command:
        raise CommandFailed("env exec needs a command after --", EXIT_BAD_INPUT)
    env = merged_environment(env_file=args.env_file)
    try:
        os.execvpe(command[0], command, env)
    except OSError as error:
        raise CommandFailed(f"cannot run {command[0]}: {error.strerror}", EXIT_BAD_INPUT) from None


def cmd_supervise(args: argparse.Namespace, settings: Settings | None) -> None:
    """Become supervisord running every process of PROCFILE (`make run`, `make run-prod`)."""
    try:
        config = write_config(args.procfile, var_dir=args.var_dir, directory=Path.cwd())
    except OSError as error:
        raise CommandFailed(f"cannot read {args.procfile}: {error.strerror}", EXIT_BAD_INPUT) from None
    except ProcfileError as error:
        raise CommandFailed(str(error), EXIT_BAD_INPUT) from None
    exec_supervisord(config)


def cmd_config_check(args: argparse.Namespace, settings: Settings | None) -> None:
    """Exit 3 naming every problem of every process's settings; in production mode it gates each process."""
    settings = check_configuration()
    if not settings.sms.configured:
        print(LOCAL_SINK_NOTE)
    mode = "production" if is_production() else "development (.env, then the environment)"
    print(f"configuration is complete for the web app, Rasa, the action server and the CLI: {mode}")


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    upgrade(settings.database_url, settings=settings)
    print("database schema is up to date")


def cmd_cards_import(args: argparse.Namespace, settings: Settings) -> None:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CommandFailed(f"cannot read {path}: {error.strerror}", EXIT_BAD_INPUT) from None
    now = _now()
    rows = card_import.parse_csv(data, now=now)
    vault = Vault(settings)
    with _sessions(settings).begin() as session:
        result = card_import.apply_rows(
            session,
            vault=vault,
            outbox=Outbox.for_settings(settings),
            rows=rows,
            now=now,
            progress=sys.stderr.isatty(),
        )
        record_audit(
            session,
            actor=ACTOR,
            action="cards_import",
            target_type="file",
            detail={"rows": len(rows), "created": result.created, "updated": result.updated},
        )
    print(f"imported {len(rows)} records: {result.created} new, {result.updated} updated")


def cmd_cards_show(args: argparse.Namespace, settings: Settings) -> None:
    id_number = validate_id_number(args.id_number)
    vault = Vault(settings)
    with _sessions(settings).begin() as session:
        holder = get_cardholder(session, vault=vault, id_number=id_number)
        lapse_expired(session, card=holder.current_card, outbox=Outbox.for_settings(settings), now=_now())
        record = describe_cardholder(holder, vault=vault, tz=settings.timezone)
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return
    print(f"{mask_id_number(record['id_number'])}  {record['name']}  {record['phone']}")
    print(f"card {record['card_number']}: {record['status']} ({record['status_label']['zh']}), {record['office']}")
    print(f"last status change: {record['updated_at']}")
    for report in record["loss_reports"]:
        print(f"loss report {report['reference']} [{report['state']}] via {report['channel']}", end=" ")
        print(f"{report['created']} -> {report['expires']}")


def cmd_cards_set_status(args: argparse.Namespace, settings: Settings) -> None:
    id_number = validate_id_number(args.id_number)
    status = parse_status(args.status)
    vault = Vault(settings)
    with _sessions(settings).begin() as session:
        holder = get_cardholder(session, vault=vault, id_number=id_number)
        previous = holder.current_card.status
        card = set_card_status(session, card_id=holder.current_card.id, status=status, now=_now(), source="staff")
        record_audit(
            session,
            actor=ACTOR,
            action="set_status",
            target_type="card",
            target_id=card.id,
            detail={"from": previous, "to": status.value},
        )
    print(f"card {card.card_number}: {previous} -> {status.value} ({status.label('zh')})")


def cmd_loss_lapse(args: argparse.Namespace, settings: Settings) -> None:
    with _sessions(settings).begin() as session:
        count = lapse_all_expired(session, outbox=Outbox.for_settings(settings), now=_now())
    print(f"lapsed {count} expired loss reports")


def cmd_flags_list(args: argparse.Namespace, settings: Settings) -> None:
    with _sessions(settings).begin() as session:
        flags = [
            describe_flag(f, settings.timezone) for f in list_flags(session, status=args.status, reason=args.reason)
        ]
    if args.json:
        print(json.dumps(flags, ensure_ascii=False, indent=2))
        return
    if not flags:
        print("no flagged conversations")
    for f in flags:
        print(
            f"{f['id']:>6}  {f['created']}  {f['channel']:<6} {f['reason']:<16} {f['status']:<9} {f['conversation_id']}"
        )


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandFailed("the passwords differ", EXIT_BAD_INPUT)
        return password
    return sys.stdin.readline().rstrip("\r\n")


def cmd_staff_add_user(args: argparse.Namespace, settings: Settings) -> None:
    password = _read_password()
    with _sessions(settings).begin() as session:
        user = add_staff_user(session, username=args.name, password=password, role=args.role)
        record_audit(
            session,
            actor=ACTOR,
            action="staff_add_user",
            target_type="staff_user",
            target_id=user.id,
            detail={"role": user.role},
        )
    print(f"staff user {user.username} ({user.role}) created")


def cmd_demo_seed(args: argparse.Namespace, settings: Settings) -> None:
    if is_production():
        raise CommandFailed(
            "demo seed is refused in production mode: it would put fictional people into a real card database",
            EXIT_BAD_INPUT,
        )
    with _sessions(settings).begin() as session:
        if args.if_empty and not demo.database_is_empty(session):
            print("the database already has cardholders; demo data not loaded")
            return
        demo.seed_demo(session, settings=settings, now=_now())
        record_audit(session, actor=ACTOR, action="demo_seed", target_type="database")
    print(demo_table())


def cmd_demo_list(args: argparse.Namespace, settings: Settings | None) -> None:
    print(demo_table())


def cmd_review_export_nlu(args: argparse.Namespace, settings: Settings) -> None:
    since = dt.datetime.combine(args.since, dt.time(), settings.timezone) if args.since else None
    with _sessions(settings).begin() as session:
        text, count = export_nlu_yaml(session, since=since)
    if args.output is None:
        sys.stdout.write(text)
    else:
        # Written beside the target and renamed, so a failed write never leaves half a file.
        partial = args.output.with_name(args.output.name + ".partial")
        try:
            partial.write_text(text, encoding="utf-8")
            partial.replace(args.output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandFailed(f"cannot write {args.output}: {error.strerror}", EXIT_BAD_INPUT) from None
    print(f"{count} labelled examples exported" if count else "no labelled examples yet", file=sys.stderr)


REFUSAL_REASONS = {
    "empty": "nothing left to learn from once normalised",
    "conflicting_labels": "the same message was labelled with another intent too",
    "held_out": "the same or nearly the same as a held-out test message",
}


def cmd_review_merge_nlu(args: argparse.Namespace, settings: Settings) -> None:
    """Add reviewers' labelled messages to data/nlu/<intent>.yml; the next `model deploy` trains on them."""
    since = dt.datetime.combine(args.since, dt.time(), settings.timezone) if args.since else None
    with _sessions(settings).begin() as session:
        labels = labelled_examples(session, since=since)
        result = merge_labels(labels, data_dir=args.data_dir)
        record_audit(
            session,
            actor=ACTOR,
            action="nlu_merged",
            target_type="training_data",
            detail={"added": result.added_count, "skipped": result.skipped, "refused": len(result.refused)},
        )
    per_intent = ", ".join(f"{intent} {len(texts)}" for intent, texts in sorted(result.added.items()))
    print(f"merged {result.added_count} examples into {args.data_dir}" + (f": {per_intent}" if per_intent else ""))
    if result.skipped:
        print(f"skipped {result.skipped} already in the training data")
    for refusal in result.refused:
        reason = REFUSAL_REASONS.get(refusal.reason) or (
            f"the training data has it as {refusal.reason.removeprefix('in_training_as_')}"
        )
        print(f"refused label {refusal.label_id} ({refusal.intent}): {reason}")
    if result.added_count:
        print("next: python -m bot model deploy (trains on them and keeps them only if no held-out score drops)")


def cmd_tracker_purge(args: argparse.Namespace, settings: Settings) -> None:
    """Retention: stored conversations (Rasa's tracker store) and kept voice answers older than DAYS."""
    env = merged_environment()
    days = tracker_retention_days(env) if args.older_than is None else args.older_than
    before = _now() - dt.timedelta(days=days)
    try:
        events = purge_conversations(tracker_store_url(env), before=before)
    except TrackerStoreUnavailable as error:
        raise CommandFailed(
            f"tracker store unreachable ({error}); is TRACKER_STORE_URL right?", EXIT_UNAVAILABLE
        ) from None
    with _sessions(settings).begin() as session:
        replays = purge_voice_turns(session, before=before)
        handovers = purge_handovers(session, before=before)
        record_audit(
            session,
            actor=ACTOR,
            action="tracker_purge",
            target_type="database",
            detail={"days": days, "events": events, "voice_turns": replays, "handovers": handovers},
        )
    print(
        f"deleted {events} conversation events, {replays} voice replays and {handovers} staff conversations "
        f"and callbacks older than {days} days"
    )


def cmd_tracker_encrypt(args: argparse.Namespace, settings: Settings) -> None:
    """Seal the tracker-store events written in clear before the encrypted store was configured."""
    url = tracker_store_url(merged_environment())
    try:
        count = encrypt_clear_events(url, EventCipher(settings.data_encryption_key))
    except TrackerStoreUnavailable as error:
        raise CommandFailed(
            f"tracker store unreachable ({error}); is TRACKER_STORE_URL right?", EXIT_UNAVAILABLE
        ) from None
    print(f"encrypted {count} conversation events stored in clear")


def _days(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_RETENTION_DAYS:
        raise argparse.ArgumentTypeError(f"DAYS must be a whole number from 0 to {MAX_RETENTION_DAYS}, not {text!r}")
    return int(text)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_model_ensure(args: argparse.Namespace, settings: Settings | None) -> None:
    try:
        path = ensure_trained(force=args.force)
    except subprocess.CalledProcessError as error:
        raise CommandFailed(f"training failed (rasa exited {error.returncode})", EXIT_UNAVAILABLE) from None
    if args.serve:
        record_served(path)
    print(path)


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"TOLERANCE must be a number from 0 to 1 (a score's fall), not {text!r}")
    return value


def cmd_model_deploy(args: argparse.Namespace, settings: Settings | None) -> None:
    """Train if needed, refuse a model that scores worse than the running one, else load it server by server."""
    env = merged_environment()
    try:
        urls = url_list(env, "RASA_URLS") or (f"http://127.0.0.1:{port_setting(env, 'RASA_PORT', 5005)}",)
        result = deploy(urls, rasa_token(env), tolerance=args.tolerance)
    except DeployRefused as refused:
        print(refused.table)
        print("the running model stays; the training data that made the refused one is unchanged, and `make run`")
        print("serves the model of the training data as it is: improve it, or take back what made it worse")
        raise CommandFailed(str(refused), EXIT_BAD_INPUT) from None
    except DeployError as error:
        raise CommandFailed(str(error), EXIT_UNAVAILABLE) from None
    if result.deployed:
        print(f"deployed {result.model.name} to {len(urls)} Rasa server(s)")
    else:
        print(result.table)
        print(f"every Rasa server already runs {result.model.name}: nothing to deploy")


def demo_table() -> str:
    """The demo cardholders as a plain-text table (also in the README)."""
    lines = [f"{'ID number':<20}{'name':<14}{'phone':<16}{'status':<18}label"]
    for d in demo.DEMO_CARDHOLDERS:
        status = CardStatus.LOSS_REPORTED if d is demo.LOSS_REPORTED_DEMO else d.status
        lines.append(f"{d.id_number:<20}{d.name:<14}{d.phone:<16}{status.value:<18}{status.label('zh')}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    groups = parser.add_subparsers(dest="group", required=True)

    def command(group: str, name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
        if group not in subparsers:
            sub = groups.add_parser(group)
            subparsers[group] = sub.add_subparsers(dest="command", required=True)
        cmd = subparsers[group].add_parser(name, help=help_text)
        cmd.set_defaults(handler=handler)
        return cmd

    subparsers: dict[str, argparse._SubParsersAction] = {}
    command("env", "init", cmd_env_init, "create .env with random secrets, or complete it")
    env_exec = command("env", "exec", cmd_env_exec, "run a command with the environment overlaid on .env")
    env_exec.add_argument("--env-file", type=Path, default=ENV_FILE, help="the file under the environment (.env)")
    env_exec.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")
    supervise = command("supervise", "run", cmd_supervise, "run a Procfile's processes, restarting any that dies")
    supervise.add_argument("procfile", type=Path)
    supervise.add_argument("--var-dir", type=Path, default=Path("var"), help="where the supervisor's files go (var)")
    command(
        "config", "check", cmd_config_check, "check every process's settings; in production mode, refuse unsafe ones"
    )
    command("db", "upgrade", cmd_db_upgrade, "create or migrate the schema at DATABASE_URL")
    command("cards", "import", cmd_cards_import, "load card records from a CSV file, all or nothing").add_argument(
        "file"
    )
    show = command("cards", "show", cmd_cards_show, "a cardholder's card, status and loss reports")
    show.add_argument("id_number")
    show.add_argument("--json", action="store_true")
    set_status = command(
        "cards", "set-status", cmd_cards_set_status, "change a card's status (allowed transitions only)"
    )
    set_status.add_argument("id_number")
    set_status.add_argument("status")
    command("loss", "lapse", cmd_loss_lapse, "lapse temporary loss reports past their expiry")
    flags = command("flags", "list", cmd_flags_list, "flagged conversations, newest first")
    flags.add_argument("--json", action="store_true")
    flags.add_argument("--status", choices=FLAG_STATUSES)
    flags.add_argument("--reason", choices=FLAG_REASONS)
    staff = command("staff", "add-user", cmd_staff_add_user, "create a staff user; the password is read from stdin")
    staff.add_argument("name")
    staff.add_argument("--role", required=True, choices=STAFF_ROLES)
    export = command("review", "export-nlu", cmd_review_export_nlu, "labelled misunderstood messages as Rasa NLU YAML")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    export.add_argument("--since", type=_day, help="only labels made on or after this day (YYYY-MM-DD)")
    merge = command(
        "review", "merge-nlu", cmd_review_merge_nlu, "add labelled misunderstood messages to the training data"
    )
    merge.add_argument("--since", type=_day, help="only labels made on or after this day (YYYY-MM-DD)")
    merge.add_argument("--data-dir", type=Path, default=NLU_DATA_DIR, help="the training data folder (data/nlu)")
    seed = command("demo", "seed", cmd_demo_seed, "load the fictional demo cardholders into an empty database")
    seed.add_argument("--if-empty", action="store_true", help="do nothing (and succeed) if there are cardholders")
    command("demo", "list", cmd_demo_list, "the fictional demo cardholders, to try the assistant with")
    purge = command(
        "tracker", "purge", cmd_tracker_purge, "delete stored conversations and voice replays older than DAYS"
    )
    purge.add_argument("--older-than", type=_days, metavar="DAYS", help="default TRACKER_RETENTION_DAYS, else 90")
    command("tracker", "encrypt", cmd_tracker_encrypt, "encrypt conversation events stored in clear by older versions")
    model = command("model", "ensure", cmd_model_ensure, "train the Rasa model unless one for the current data exists")
    model.add_argument("--force", action="store_true", help="train even if an up-to-date model exists")
    model.add_argument("--serve", action="store_true", help="record it as the model Rasa servers start with")
    deploy_cmd = command(
        "model", "deploy", cmd_model_deploy, "train if needed; load the model into each Rasa server unless worse"
    )
    deploy_cmd.add_argument(
        "--tolerance",
        type=_tolerance,
        default=DEFAULT_TOLERANCE,
        help=f"how far a held-out score may fall (default {DEFAULT_TOLERANCE})",
    )
    add_outbox_commands(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        no_settings = (cmd_env_init, cmd_env_exec, cmd_supervise, cmd_model_ensure, cmd_model_deploy)
        no_settings += (cmd_demo_list, cmd_config_check)
        settings = None if args.handler in no_settings else load_settings()
        args.handler(args, settings)
    except CommandFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code
    except CardImportError as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except CardNotFound as error:
        print(f"not found: {error}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except BotError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DBAPIError as error:
        # The driver's message can quote SQL parameters; show only what kind of failure it was.
        print(f"database error: {type(error.orig).__name__}; is DATABASE_URL reachable and migrated?", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except SQLAlchemyError as error:
        print(f"database error: {type(error).__name__}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return 0
