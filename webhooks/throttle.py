"""Request limits shared by the web app: Flask-Limiter for plain rates, and attempts counted up front.

Counters live at RATELIMIT_STORAGE_URI (Redis when several web processes run, so they share one
count); if that store is down they are kept in memory rather than refusing everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

log = logging.getLogger(__name__)
limiter = Limiter(key_func=get_remote_address)
_FALLBACK = FixedWindowRateLimiter(MemoryStorage())


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
