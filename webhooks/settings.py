"""The web app's settings: where Rasa and the action server are, its secrets, and the card database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from bot.config import ROOT, Settings, load_settings, merged_environment, port_setting, tracker_store_url
from bot.conversations import TrackerStore
from bot.db import make_engine, make_session_factory
from bot.errors import ConfigError
from bot.privacy import Vault
from webhooks.rasa_client import RasaClient
from webhooks.twiml import VoiceConfig


@dataclass
class WebSettings:
    """Read once when the app is created; the database engine is made on first use."""

    core: Settings
    secret_key: str
    rasa_url: str
    rasa_token: str
    actions_url: str
    twilio_auth_token: str
    public_base_url: str | None
    rasa_timeout: float = 8.0
    # Every Rasa server turns may go to (they share the tracker and lock stores); empty: rasa_url alone.
    rasa_urls: tuple[str, ...] = ()
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    agent_number: str | None = None
    transfer_hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(17))
    # Where Rasa keeps conversations (read by the staff console), and where login throttling counts.
    tracker_store_url: str = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
    ratelimit_storage_uri: str = "memory://"
    trusted_proxies: int = 0  # reverse proxies in front that set X-Forwarded-For

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(make_engine(self.core.database_url))

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """For pages that only read; on SQLite they take no write lock (see bot.db.make_engine)."""
        if self.core.database_url.startswith("sqlite"):
            return make_session_factory(make_engine(self.core.database_url, for_reads=True))
        return self.sessions

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.core)

    @cached_property
    def tracker_store(self) -> TrackerStore:
        return TrackerStore(self.tracker_store_url)

    @cached_property
    def rasa(self) -> RasaClient:
        return RasaClient(self.rasa_urls or (self.rasa_url,), key=self.rasa_token, timeout=self.rasa_timeout)


def load_web_settings(environ: Mapping[str, str] | None = None) -> WebSettings:
    core = load_settings(environ)  # first: in production mode it names every unsafe setting at once
    env = merged_environment(environ)
    secret = env.get("FLASK_SECRET_KEY") or ""
    if len(secret) < 16:
        raise ConfigError("FLASK_SECRET_KEY is missing or too short: run `make install` or set it")
    if not env.get("RASA_TOKEN"):  # the key that signs every message to Rasa
        raise ConfigError("RASA_TOKEN is not set: run `python -m bot env init`, or set it")
    try:
        timeout = float(env.get("RASA_TIMEOUT_SECONDS") or 8)
    except ValueError:
        raise ConfigError("RASA_TIMEOUT_SECONDS must be a number of seconds") from None
    rasa_urls = _urls(env, "RASA_URLS") or (f"http://127.0.0.1:{port_setting(env, 'RASA_PORT', 5005)}",)
    defaults = VoiceConfig()
    voice = VoiceConfig(
        voice_zh=env.get("VOICE_ZH") or defaults.voice_zh,
        voice_en=env.get("VOICE_EN") or defaults.voice_en,
        speech_model=env.get("SPEECH_MODEL") or defaults.speech_model,
        hints_zh=env.get("SPEECH_HINTS_ZH") or defaults.hints_zh,
        hints_en=env.get("SPEECH_HINTS_EN") or defaults.hints_en,
    )
    return WebSettings(
        core=core,
        secret_key=secret,
        rasa_url=rasa_urls[0],
        rasa_urls=rasa_urls,
        rasa_token=env["RASA_TOKEN"],
        actions_url=(env.get("ACTIONS_URL") or f"http://127.0.0.1:{port_setting(env, 'ACTIONS_PORT', 5055)}").rstrip(
            "/"
        ),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or "",
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        rasa_timeout=timeout,
        voice=voice,
        agent_number=env.get("AGENT_PHONE_NUMBER") or None,
        transfer_hours=_hours(env.get("TRANSFER_HOURS") or "09:00-17:00"),
        tracker_store_url=tracker_store_url(env),
        ratelimit_storage_uri=_ratelimit_storage_uri(env),
        trusted_proxies=_count(env, "TRUSTED_PROXIES"),
    )


def _count(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name) or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"{name} must be a small whole number, got {raw!r}")
    return int(raw)


def _ratelimit_storage_uri(env: Mapping[str, str]) -> str:
    from limits.storage.registry import SCHEMES  # imported when used: limits 2.4 imports pkg_resources

    uri = env.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme = uri.partition("://")[0]
    if scheme not in SCHEMES:  # the scheme only in the message: the URL may hold a password
        raise ConfigError(f"RATELIMIT_STORAGE_URI must be memory:// or a redis:// URL, not {scheme!r}")
    return uri


def _urls(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of http(s) base URLs, e.g. RASA_URLS=http://rasa-1:5005,http://rasa-2:5005."""
    urls = tuple(part.strip().rstrip("/") for part in (env.get(name) or "").split(",") if part.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must list http:// or https:// base URLs separated by commas")
    return urls


def _hours(text: str) -> tuple[dt.time, dt.time]:
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ConfigError(f"TRANSFER_HOURS must look like 09:00-17:00, got {text!r}") from None
    return start, end
