"""Settings read once from the environment, with a `.env` file at the project root as fallback.

Environment variables always win over `.env`, so a deployment can set everything itself. In
production mode (`APP_ENV=production` in the environment) `.env` is not read at all, and every
entry point refuses to start while a secret is missing, guessable or a known default, or while the
card database is SQLite (`check_production`). Any other APP_ENV than unset, `development` or
`production` is refused everywhere, so a typo never silently means development.
"""

from __future__ import annotations

import math
import os
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
VAR_DIR = ROOT / "var"

# Secrets that `python -m bot env init` writes to a new `.env`, with their generators.
GENERATED_SECRETS = {
    "FLASK_SECRET_KEY": lambda: secrets.token_hex(32),
    "RASA_TOKEN": lambda: secrets.token_urlsafe(32),
    "TWILIO_AUTH_TOKEN": lambda: secrets.token_hex(16),
    "ID_HASH_KEY": lambda: secrets.token_hex(32),
    "DATA_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
    "ACTION_SERVER_TOKEN": lambda: secrets.token_urlsafe(32),
}

DEFAULT_TRACKER_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 36500  # a hundred years: further back than dates go

# APP_ENV values: unset or empty means development.
PRODUCTION = "production"
DEVELOPMENT = "development"
APP_ENVS = ("", DEVELOPMENT, PRODUCTION)
# Production mode: secrets estimated below this many bits, or equal to a value this repository
# uses for development or tests, are refused.
MIN_SECRET_BITS = 80
KNOWN_DEV_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "password",
        "token",
        "dev",
        "development",
        "test",
        "e2e-token",
        "e2e-hash-key",
        "rasa-token",
        "cli-test-key",
        "test-twilio-auth-token",
    }
)


@dataclass(frozen=True)
class LossPolicy:
    """City-specific rules for temporary loss reports and identity checks."""

    validity_days: int = 7
    self_service_unblock: bool = True
    max_identity_attempts: int = 3
    lockout_failures: int = 5
    lockout_minutes: int = 30
    # Failed checks across conversations within `guess_window_minutes`, per client (web address,
    # SMS or calling number) and per claimed name, after which checks are refused for a while.
    guess_window_minutes: int = 60
    max_failures_per_client: int = 20
    max_failures_per_name: int = 100
    # Failed stronger checks (registered caller ID + last four digits) a locked ID number takes.
    locked_phone_attempts: int = 3
    # Minutes without a message after which a verified person must prove who they are again
    # (the next person on the same device or phone number starts from nothing).
    verification_idle_minutes: int = 5

    @property
    def lock_notice_minutes(self) -> int:
        """How long a refusal says to wait: the same whichever limit refused, so none is revealed."""
        return max(self.lockout_minutes, self.guess_window_minutes)


@dataclass(frozen=True)
class ServiceInfo:
    """What the assistant tells citizens about this city's service (values differ by city)."""

    hotline: str = "12333"
    office_hours_zh: str = "工作日 9:00-12:00、13:30-17:00"
    office_hours_en: str = "weekdays 9:00-12:00 and 13:30-17:00"
    replacement_fee_yuan: int = 20


TWILIO_API_BASE_URL = "https://api.twilio.com"


@dataclass(frozen=True)
class SmsSettings:
    """Outbound SMS through Twilio's REST API; without an account messages stay in the local sink."""

    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = TWILIO_API_BASE_URL
    status_callback_url: str = ""
    max_attempts: int = 5
    retry_seconds: int = 30
    lease_seconds: int = 120

    @property
    def configured(self) -> bool:
        """True when messages really leave: an account and a sender (number or messaging service)."""
        return bool(self.account_sid and self.auth_token and (self.from_number or self.messaging_service_sid))


@dataclass(frozen=True)
class Settings:
    """Everything the core needs to run, read once at start-up."""

    database_url: str
    id_hash_key: str
    data_encryption_key: str
    timezone: ZoneInfo
    loss_policy: LossPolicy
    service: ServiceInfo = ServiceInfo()
    sms: SmsSettings = SmsSettings()


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ConfigError(f"{name} is not set: run `make install` to create .env, or set it")
    return value


def app_env(environ: Mapping[str, str] | None = None) -> str:
    """`development` or `production` from APP_ENV; ConfigError for any other value."""
    env = os.environ if environ is None else environ
    value = (env.get("APP_ENV") or "").strip().lower()
    if value not in APP_ENVS:
        raise ConfigError(
            f"APP_ENV must be unset, {DEVELOPMENT!r} or {PRODUCTION!r}, got {env['APP_ENV']!r}; "
            "refusing to guess which mode was meant"
        )
    return value or DEVELOPMENT


def is_production(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment (never `.env`) says `APP_ENV=production`; ConfigError on an unknown APP_ENV."""
    return app_env(environ) == PRODUCTION


def _charset_size(value: str) -> int:
    """How many characters an attacker must try per position, from the classes `value` uses."""
    classes = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
    size = sum(len(chars) for chars in classes if any(c in chars for c in value))
    others = {c for c in value if not any(c in chars for chars in classes)}
    return size + (32 if others else 0)  # punctuation and the rest: at least ASCII's 32 symbols


def secret_bits(value: str) -> float:
    """Estimated entropy of a secret in bits: the lower of zxcvbn's guess count (which sees through
    dictionary words, keyboard patterns, sequences and repeats) and length over the character set used."""
    from zxcvbn import zxcvbn  # imported when a production check needs it

    if not value:
        return 0.0
    by_charset = len(value) * math.log2(_charset_size(value))
    by_patterns = zxcvbn(value[:100])["guesses_log10"] * math.log2(10)  # zxcvbn is slow on long input
    return min(by_charset, by_patterns)


def merged_environment(environ: Mapping[str, str] | None = None, env_file: Path | None = ENV_FILE) -> dict[str, str]:
    """`.env` values (unless `env_file` is None, or in production) overlaid by the environment or `environ`."""
    source = os.environ if environ is None else environ
    use_file = env_file is not None and not is_production(source)
    env = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if use_file else {}
    env.update(source)
    return env


def secret_problems(env: Mapping[str, str], names: Iterable[str], dev_values: Mapping[str, str | None]) -> list[str]:
    """Why each named secret is unfit for production (names only: values never appear in messages)."""
    problems = []
    for name in names:
        value = env.get(name) or ""
        if not value:
            problems.append(f"{name} is not set")
        elif value.strip().lower() in KNOWN_DEV_SECRETS:
            problems.append(f"{name} is a known default value")
        elif value == dev_values.get(name):
            problems.append(f"{name} is the development value from .env")
        elif secret_bits(value) < MIN_SECRET_BITS:
            problems.append(
                f"{name} is too guessable (under {MIN_SECRET_BITS} bits; use e.g. 32 random bytes, "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return problems


def _is_sqlite(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except ArgumentError:
        return False  # a malformed URL fails later, when something connects


def production_problems(env: Mapping[str, str], dev_values: Mapping[str, str | None] | None = None) -> list[str]:
    """What stops the web app, the action server or the CLI from starting in production mode."""
    dev = dotenv_values(ENV_FILE) if dev_values is None and ENV_FILE.exists() else (dev_values or {})
    problems = secret_problems(env, GENERATED_SECRETS, dev)
    database_url = env.get("DATABASE_URL") or ""
    if not database_url:
        problems.append("DATABASE_URL is not set (production needs PostgreSQL)")
    elif _is_sqlite(database_url):
        problems.append("DATABASE_URL is SQLite; production needs PostgreSQL")
    return problems


def rasa_store_problems(env: Mapping[str, str], dev_values: Mapping[str, str | None] | None = None) -> list[str]:
    """What stops Rasa from starting in production mode: its token and data key, shared tracker and lock stores."""
    dev = dotenv_values(ENV_FILE) if dev_values is None and ENV_FILE.exists() else (dev_values or {})
    problems = secret_problems(env, ["RASA_TOKEN", "DATA_ENCRYPTION_KEY"], dev)
    tracker_url = env.get("TRACKER_STORE_URL") or ""
    if not tracker_url:
        problems.append("TRACKER_STORE_URL is not set (a postgresql:// URL for Rasa's tracker store)")
    elif _is_sqlite(tracker_url) or "://" not in tracker_url:
        problems.append("TRACKER_STORE_URL must be a PostgreSQL URL shared by every Rasa process")
    lock_host = env.get("LOCK_STORE_URL") or ""
    if not lock_host:
        problems.append("LOCK_STORE_URL is not set (the Redis host every Rasa process shares)")
    elif "://" in lock_host or ":" in lock_host:
        problems.append("LOCK_STORE_URL is the Redis host name only; set LOCK_STORE_PORT and LOCK_STORE_DB apart")
    for name in ("LOCK_STORE_PORT", "LOCK_STORE_DB"):  # unset: deploy/rasa.sh uses 6379 and 1
        if env.get(name) and not env[name].isdigit():
            problems.append(f"{name} must be a number")
    return problems


def check_production(problems: list[str]) -> None:
    """Raise one ConfigError naming every problem, so an operator fixes them in one go."""
    if problems:
        raise ConfigError("production mode (APP_ENV=production) refuses to start: " + "; ".join(problems))


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'cards.db'}"


def data_encryption_key(env: Mapping[str, str]) -> str:
    """DATA_ENCRYPTION_KEY, checked to be a Fernet key (Rasa's tracker store needs it alone)."""
    data_key = _required(env, "DATA_ENCRYPTION_KEY")
    try:
        Fernet(data_key.encode())
    except ValueError:
        raise ConfigError("DATA_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)") from None
    return data_key


def tracker_store_url(env: Mapping[str, str]) -> str:
    """TRACKER_STORE_URL, else the embedded store Rasa writes (see Procfile); paths are from the project root."""
    url = env.get("TRACKER_STORE_URL") or f"sqlite:///{ROOT / (env.get('TRACKER_SQLITE_PATH') or 'var/tracker.db')}"
    try:
        make_url(url)
    except ArgumentError:
        raise ConfigError("TRACKER_STORE_URL must be a database URL such as postgresql://user@host/tracker") from None
    return url


def tracker_retention_days(env: Mapping[str, str]) -> int:
    """TRACKER_RETENTION_DAYS: how long conversations and voice replays are kept (default 90)."""
    days = _int(env, "TRACKER_RETENTION_DAYS", DEFAULT_TRACKER_RETENTION_DAYS)
    if days > MAX_RETENTION_DAYS:
        raise ConfigError(f"TRACKER_RETENTION_DAYS must be at most {MAX_RETENTION_DAYS}, got {days}")
    return days


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = ENV_FILE) -> Settings:
    """Build settings from `.env` and the environment; raise ConfigError on bad values."""
    env = merged_environment(environ, env_file)
    if is_production(env):
        check_production(production_problems(env))
    data_key = data_encryption_key(env)
    tz_name = env.get("CITY_TIMEZONE") or "Asia/Shanghai"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"CITY_TIMEZONE {tz_name!r} is not a known time zone") from None
    policy = LossPolicy(
        validity_days=_int(env, "LOSS_REPORT_VALIDITY_DAYS", 7, minimum=1),
        self_service_unblock=_bool(env, "SELF_SERVICE_UNBLOCK", True),
        max_identity_attempts=_int(env, "IDENTITY_MAX_ATTEMPTS", 3, minimum=1),
        lockout_failures=_int(env, "IDENTITY_LOCKOUT_FAILURES", 5, minimum=1),
        lockout_minutes=_int(env, "IDENTITY_LOCKOUT_MINUTES", 30, minimum=1),
        guess_window_minutes=_int(env, "IDENTITY_GUESS_WINDOW_MINUTES", 60, minimum=1),
        max_failures_per_client=_int(env, "IDENTITY_FAILURES_PER_CLIENT", 20, minimum=1),
        max_failures_per_name=_int(env, "IDENTITY_FAILURES_PER_NAME", 100, minimum=1),
        locked_phone_attempts=_int(env, "IDENTITY_LOCKED_PHONE_ATTEMPTS", 3),
        verification_idle_minutes=_int(env, "VERIFICATION_IDLE_MINUTES", 5, minimum=1),
    )
    defaults = ServiceInfo()
    service = ServiceInfo(
        hotline=env.get("SERVICE_HOTLINE") or defaults.hotline,
        office_hours_zh=env.get("OFFICE_HOURS_ZH") or defaults.office_hours_zh,
        office_hours_en=env.get("OFFICE_HOURS_EN") or defaults.office_hours_en,
        replacement_fee_yuan=_int(env, "REPLACEMENT_FEE_YUAN", defaults.replacement_fee_yuan),
    )
    public_base_url = (env.get("PUBLIC_BASE_URL") or "").rstrip("/")
    sms = SmsSettings(
        account_sid=env.get("TWILIO_ACCOUNT_SID") or "",
        auth_token=env.get("TWILIO_AUTH_TOKEN") or "",
        from_number=env.get("TWILIO_FROM_NUMBER") or "",
        messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or "",
        api_base_url=(env.get("TWILIO_API_BASE_URL") or TWILIO_API_BASE_URL).rstrip("/"),
        status_callback_url=f"{public_base_url}/twilio/sms-status" if public_base_url else "",
        max_attempts=_int(env, "SMS_MAX_ATTEMPTS", 5, minimum=1),
        retry_seconds=_int(env, "SMS_RETRY_SECONDS", 30, minimum=1),
        lease_seconds=_int(env, "SMS_LEASE_SECONDS", 120, minimum=1),
    )
    if sms.account_sid and not (sms.from_number or sms.messaging_service_sid):
        raise ConfigError("TWILIO_ACCOUNT_SID is set: set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID too")
    return Settings(
        database_url=env.get("DATABASE_URL") or default_database_url(),
        id_hash_key=_required(env, "ID_HASH_KEY"),
        data_encryption_key=data_key,
        timezone=timezone,
        loss_policy=policy,
        service=service,
        sms=sms,
    )


def init_env_file(path: Path = ENV_FILE) -> list[str]:
    """Create `.env` with random secrets, or add the ones it lacks; return the names added."""
    existing = dotenv_values(path) if path.exists() else {}
    missing = [name for name in GENERATED_SECRETS if not existing.get(name)]
    if missing:
        lines = [f"{name}={GENERATED_SECRETS[name]()}\n" for name in missing]
        with path.open("a", encoding="utf-8") as handle:
            if path.stat().st_size and not path.read_text(encoding="utf-8").endswith("\n"):
                handle.write("\n")
            handle.writelines(lines)
        path.chmod(0o600)
    return missing
