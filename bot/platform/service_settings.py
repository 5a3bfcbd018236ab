"""Settings of the services around the core (ports, Rasa, the tracker store, the web app's own), read
and checked in one place.

The web app builds its settings from these readers, and `python -m bot config check` runs every one
of them (`setting_problems`), so one check covers every setting any process reads: a value that
would stop a process at start-up is named beforehand, with the others, in one go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.config import (
    Settings,
    data_encryption_key,
    is_production,
    load_settings,
    merged_environment,
    rasa_store_problems,
    tracker_retention_days,
    tracker_store_url,
)
from bot.errors import ConfigError

MIN_FLASK_SECRET_LENGTH = 16


def port_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """A port number from `name`; ConfigError when it is not one."""
    raw = env.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number, got {raw!r}")
    return int(raw)


def flask_secret(env: Mapping[str, str]) -> str:
    secret = env.get("FLASK_SECRET_KEY") or ""
    if len(secret) < MIN_FLASK_SECRET_LENGTH:
        raise ConfigError("FLASK_SECRET_KEY is missing or too short: run `make install` or set it")
    return secret


def rasa_token(env: Mapping[str, str]) -> str:
    """Rasa's API token, also the key that signs every message the web app sends it."""
    if not env.get("RASA_TOKEN"):
        raise ConfigError("RASA_TOKEN is not set: run `python -m bot env init`, or set it")
    return env["RASA_TOKEN"]


def action_server_token(env: Mapping[str, str]) -> str:
    if not env.get("ACTION_SERVER_TOKEN"):
        raise ConfigError("ACTION_SERVER_TOKEN is not set: run `python -m bot env init`, or set it")
    return env["ACTION_SERVER_TOKEN"]


def rasa_timeout(env: Mapping[str, str]) -> float:
    try:
        return float(env.get("RASA_TIMEOUT_SECONDS") or 8)
    except ValueError:
        raise ConfigError("RASA_TIMEOUT_SECONDS must be a number of seconds") from None


def url_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of http(s) base URLs, e.g. RASA_URLS=http://rasa-1:5005,http://rasa-2:5005."""
    urls = tuple(part.strip().rstrip("/") for part in (env.get(name) or "").split(",") if part.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must list http:// or https:// base URLs separated by commas")
    return urls


def shown_url(url: str) -> str:
    """`url` as logs, messages and /healthz may show it: scheme, host, port and path, never a user,
    password or query (RASA_URLS may be written http://user:password@host, a token may ride in a query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}"


def transfer_hours(env: Mapping[str, str]) -> tuple[dt.time, dt.time]:
    text = env.get("TRANSFER_HOURS") or "09:00-17:00"
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ConfigError(f"TRANSFER_HOURS must look like 09:00-17:00, got {text!r}") from None
    return start, end


def handover_wait_minutes(env: Mapping[str, str]) -> int:
    """HANDOVER_WAIT_MINUTES: how long a chat or SMS waits for staff before a callback is offered."""
    raw = env.get("HANDOVER_WAIT_MINUTES") or "5"
    if not raw.isdigit() or not 1 <= int(raw) <= 240:
        raise ConfigError(f"HANDOVER_WAIT_MINUTES must be a whole number of minutes from 1 to 240, got {raw!r}")
    return int(raw)


def small_count(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name) or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"{name} must be a small whole number, got {raw!r}")
    return int(raw)


def chat_turns_per_minute(env: Mapping[str, str]) -> int:
    """CHAT_TURNS_PER_MINUTE: messages one client address may send the web chat each minute."""
    raw = env.get("CHAT_TURNS_PER_MINUTE") or "60"
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"CHAT_TURNS_PER_MINUTE must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def ratelimit_storage_uri(env: Mapping[str, str]) -> str:
    from limits.storage.registry import SCHEMES  # imported when used: limits 2.4 imports pkg_resources

    uri = env.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme = uri.partition("://")[0]
    if scheme not in SCHEMES:  # the scheme only in the message: the URL may hold a password
        raise ConfigError(f"RATELIMIT_STORAGE_URI must be memory:// or a redis:// URL, not {scheme!r}")
    return uri


# Every reader above, as `config check` runs them.
_READERS: tuple[Callable[[Mapping[str, str]], Any], ...] = (
    rasa_token,
    action_server_token,
    flask_secret,
    lambda env: port_setting(env, "RASA_PORT", 5005),
    lambda env: port_setting(env, "ACTIONS_PORT", 5055),
    lambda env: port_setting(env, "WEB_PORT", 8000),
    tracker_store_url,
    tracker_retention_days,
    data_encryption_key,
    chat_turns_per_minute,
    rasa_timeout,
    lambda env: url_list(env, "RASA_URLS"),
    transfer_hours,
    handover_wait_minutes,
    lambda env: small_count(env, "TRUSTED_PROXIES"),
    ratelimit_storage_uri,
)


def setting_problems(env: Mapping[str, str]) -> list[str]:
    """Every problem with the settings of the web app, Rasa and the action server, in any mode (and in
    production mode, Rasa's shared stores); the card database, keys and policy are `load_settings`'s."""
    problems = []
    for read in _READERS:
        try:
            read(env)
        except ConfigError as error:
            problems.append(str(error))
    if is_production(env):
        problems += rasa_store_problems(env)
    return list(dict.fromkeys(problems))  # RASA_TOKEN may be named twice


def check_configuration() -> Settings:
    """`config check`: the core settings, or ConfigError naming every problem of every process's settings
    (the card database, keys and policy first; in production mode every unsafe secret at once)."""
    settings = load_settings()
    problems = setting_problems(merged_environment())
    if problems:
        raise ConfigError("; ".join(problems))
    return settings
