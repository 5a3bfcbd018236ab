"""Request limits shared by the web app: Flask-Limiter for plain rates, and attempts counted up front.

Counters live at RATELIMIT_STORAGE_URI (Redis when several web processes run, so they share one
count); if that store is down they are kept in memory rather than refusing everyone. In memory they
are swept by `SweptMemoryStorage`, which stands for `memory://`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory counters, with expired ones swept at most once a second.

    limits 2.4 starts a thread 10 ms after nearly every hit to sweep expired counters away: a new
    thread per chat message, 12% of a web worker's CPU under 8 concurrent conversations (py-spy,
    2026-11-30). A counter still counts as expired on time (each read checks its expiry); only the
    memory of idle counters waits up to a second to be freed. Registered for `memory://` (limits
    looks storages up by scheme), so Flask-Limiter's own in-memory store is this one too.
    """

    STORAGE_SCHEME = ["memory"]

    def __init__(self, uri: str | None = None, **options: object) -> None:
        super().__init__(uri, **options)
        self._swept_at = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # limits' private hook, called on every hit
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS and not self.timer.is_alive():
            self._swept_at = now
            self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)
            self.timer.daemon = True
            self.timer.start()


limiter = Limiter(key_func=get_remote_address)
_FALLBACK = FixedWindowRateLimiter(SweptMemoryStorage())


def init_app(app: Flask) -> None:
    web = app.config["WEB"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", web.ratelimit_storage_uri)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)


@dataclass
class Reservation:
    """Attempts counted by `reserve`; `give_back` uncounts them (an attempt that succeeded)."""

    strategy: RateLimiter
    scope: str
    taken: list[tuple[RateLimitItem, str]]

    def give_back(self) -> None:
        for item, key in self.taken:
            self.strategy.storage().incr(item.key_for(self.scope, key), item.get_expiry(), amount=-1)


def reserve(scope: str, limits: Iterable[tuple[str, str]]) -> Reservation | None:
    """Count one attempt against each ``(limit, key)``, or None (counting nothing) when one is used up.

    The attempt is counted before it is checked, with one atomic increment per limit: counting
    failures afterwards (Flask-Limiter's ``deduct_when``) let parallel attempts all pass the test.
    """
    try:
        return _reserve(limiter.limiter, scope, limits)
    except Exception as error:  # the shared store is down: count here, as Flask-Limiter would
        log.warning("rate limit store unavailable: %s", type(error).__name__)
        return _reserve(_FALLBACK, scope, limits)


def _reserve(strategy: RateLimiter, scope: str, limits: Iterable[tuple[str, str]]) -> Reservation | None:
    reservation = Reservation(strategy, scope, [])
    for text, key in limits:
        item = parse(text)
        reservation.taken.append((item, key))
        if not strategy.hit(item, scope, key):
            reservation.give_back()
            return None
    return reservation
