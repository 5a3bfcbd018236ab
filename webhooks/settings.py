"""The web app's settings: where Rasa and the action server are, its secrets, and the card database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import ROOT, Settings, load_settings, merged_environment, tracker_store_url
from bot.db import make_engine, make_session_factory
from bot.handover.live import HandoverPolicy, StaffHours
from bot.identity.privacy import EventCipher, Vault
from bot.models import utcnow
from bot.platform.service_settings import (
    chat_turns_per_minute,
    flask_secret,
    handover_wait_minutes,
    port_setting,
    rasa_timeout,
    rasa_token,
    ratelimit_storage_uri,
    small_count,
    transfer_hours,
    url_list,
)
from bot.review.transcripts import TrackerStore
from bot.sms.outbox import Outbox
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
    chat_turns_per_minute: int = 60  # chat messages one client address may send
    handover_wait: dt.timedelta = dt.timedelta(minutes=5)  # before a waiting person is offered a callback
    # What time it is (aware) for staff hours and handover waits; tests pass a clock they control.
    clock: Callable[[], dt.datetime] = utcnow

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.core.database_url)

    @cached_property
    def read_engine(self) -> Engine:
        """For reads alone; on SQLite it takes no write lock (see bot.db.make_engine)."""
        if self.core.database_url.startswith("sqlite"):
            return make_engine(self.core.database_url, for_reads=True)
        return self.engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine, vault=self.vault)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """For pages that only read; on SQLite they take no write lock (see bot.db.make_engine)."""
        if self.read_engine is self.engine:
            return self.sessions
        return make_session_factory(self.read_engine, vault=self.vault)

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.core)

    @cached_property
    def tracker_store(self) -> TrackerStore:
        return TrackerStore(self.tracker_store_url, EventCipher(self.core.data_encryption_key))

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.vault, hotline=self.core.service.hotline, timezone=self.core.timezone)

    @property
    def handover_policy(self) -> HandoverPolicy:
        hours = StaffHours(*self.transfer_hours, timezone=self.core.timezone)
        return HandoverPolicy(hours=hours, wait=self.handover_wait, hotline=self.core.service.hotline)

    @cached_property
    def rasa(self) -> RasaClient:
        return RasaClient(self.rasa_urls or (self.rasa_url,), key=self.rasa_token, timeout=self.rasa_timeout)


def load_web_settings(environ: Mapping[str, str] | None = None) -> WebSettings:
    core = load_settings(environ)  # first: in production mode it names every unsafe setting at once
    env = merged_environment(environ)
    secret = flask_secret(env)
    rasa_urls = url_list(env, "RASA_URLS") or (f"http://127.0.0.1:{port_setting(env, 'RASA_PORT', 5005)}",)
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
        rasa_token=rasa_token(env),
        actions_url=(env.get("ACTIONS_URL") or f"http://127.0.0.1:{port_setting(env, 'ACTIONS_PORT', 5055)}").rstrip(
            "/"
        ),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or "",
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        rasa_timeout=rasa_timeout(env),
        voice=voice,
        agent_number=env.get("AGENT_PHONE_NUMBER") or None,
        transfer_hours=transfer_hours(env),
        tracker_store_url=tracker_store_url(env),
        ratelimit_storage_uri=ratelimit_storage_uri(env),
        trusted_proxies=small_count(env, "TRUSTED_PROXIES"),
        chat_turns_per_minute=chat_turns_per_minute(env),
        handover_wait=dt.timedelta(minutes=handover_wait_minutes(env)),
    )
