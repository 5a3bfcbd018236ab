"""Settings read once from the environment, with a `.env` file at the project root as fallback.

Environment variables always win over `.env`, so a deployment can set everything itself.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from dotenv import dotenv_values

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
}


@dataclass(frozen=True)
class LossPolicy:
    """City-specific rules for temporary loss reports and identity checks."""

    validity_days: int = 7
    self_service_unblock: bool = True
    max_identity_attempts: int = 3
    lockout_failures: int = 5
    lockout_minutes: int = 30


@dataclass(frozen=True)
class ServiceInfo:
    """What the assistant tells citizens about this city's service (values differ by city)."""

    hotline: str = "12333"
    office_hours_zh: str = "工作日 9:00-12:00、13:30-17:00"
    office_hours_en: str = "weekdays 9:00-12:00 and 13:30-17:00"
    replacement_fee_yuan: int = 20


@dataclass(frozen=True)
class Settings:
    """Everything the core needs to run, read once at start-up."""

    database_url: str
    id_hash_key: str
    data_encryption_key: str
    timezone: ZoneInfo
    loss_policy: LossPolicy
    service: ServiceInfo = ServiceInfo()


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


def merged_environment(environ: Mapping[str, str] | None = None, env_file: Path | None = ENV_FILE) -> dict[str, str]:
    """`.env` values (unless `env_file` is None) overlaid by the process environment or `environ`."""
    env = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file else {}
    env.update(os.environ if environ is None else environ)
    return env


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'cards.db'}"


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = ENV_FILE) -> Settings:
    """Build settings from `.env` and the environment; raise ConfigError on bad values."""
    env = merged_environment(environ, env_file)
    data_key = _required(env, "DATA_ENCRYPTION_KEY")
    try:
        Fernet(data_key.encode())
    except ValueError:
        raise ConfigError("DATA_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)") from None
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
    )
    defaults = ServiceInfo()
    service = ServiceInfo(
        hotline=env.get("SERVICE_HOTLINE") or defaults.hotline,
        office_hours_zh=env.get("OFFICE_HOURS_ZH") or defaults.office_hours_zh,
        office_hours_en=env.get("OFFICE_HOURS_EN") or defaults.office_hours_en,
        replacement_fee_yuan=_int(env, "REPLACEMENT_FEE_YUAN", defaults.replacement_fee_yuan),
    )
    return Settings(
        database_url=env.get("DATABASE_URL") or default_database_url(),
        id_hash_key=_required(env, "ID_HASH_KEY"),
        data_encryption_key=data_key,
        timezone=timezone,
        loss_policy=policy,
        service=service,
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
