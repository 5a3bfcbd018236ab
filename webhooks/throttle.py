"""Request limits of the web app: chat turns per client address, and attempts counted up front.

Counters live at RATELIMIT_STORAGE_URI (Redis when several web processes run, so they share one
count); while that store is down they are kept in memory rather than refusing everyone. In memory
they are swept by `SweptMemoryStorage`, which stands for `memory://`.

A limit is one increment of a fixed-window counter (limits' `FixedWindowRateLimiter`), made by the
view that is limited. Flask-Limiter did the same behind a decorator, but resolved every limit of the
app on every request, limited or not: a fifth of a web worker's CPU under 8 concurrent chats
(py-spy, 2026-12-01), for two limited views.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0
# After the shared store fails, count in memory this long before trying it again, so a store that is
# down costs one failed connection every few seconds, not one per request.
RETRY_SECONDS = 5.0
# A store that does not answer within this long counts as down (a turn must not hang on its counter).
REDIS_TIMEOUT_SECONDS = 0.5
View = TypeVar("View", bound=Callable[..., Any])


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory counters, with expired ones swept at most once a second.

    limits 2.4 starts a thread 10 ms after nearly every hit to sweep expired counters away: a new
    thread per chat message, 12% of a web worker's CPU under 8 concurrent conversations (py-spy,
    2026-11-30). A counter still counts as expired on time (each read checks its expiry); only the
    memory of idle counters waits up to a second to be freed. Registered for `memory://` (limits
    looks storages up by scheme).
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


class Counters:
    """The app's rate-limit counters: the configured store, and memory while that store is down."""

    def __init__(self, uri: str) -> None:
        options = {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS}
        # The strategies hold their storage by a weak reference only: the storages are kept here.
        self._stores = (storage_from_string(uri, **(options if uri.startswith("redis") else {})), SweptMemoryStorage())
        self.shared, self.fallback = (FixedWindowRateLimiter(store) for store in self._stores)
        self._down_until = 0.0

    def hit(self, item: RateLimitItem, scope: str, key: str) -> tuple[FixedWindowRateLimiter, bool]:
        """Count one hit of `item` for (`scope`, `key`): the counters that counted it, and whether it
        was within the limit."""
        if time.monotonic() >= self._down_until:
            try:
                return self.shared, self.shared.hit(item, scope, key)
            except Exception as error:  # the store is down: count here until it is tried again
                log.warning("rate limit store unavailable: %s", type(error).__name__)
                self._down_until = time.monotonic() + RETRY_SECONDS
        return self.fallback, self.fallback.hit(item, scope, key)


def init_app(app: Flask) -> None:
    app.extensions["throttle"] = Counters(app.config["WEB"].ratelimit_storage_uri)


@functools.lru_cache(maxsize=64)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def limited(limit: Callable[[], str], key: Callable[[], str]) -> Callable[[View], View]:
    """Answer 429 to a request of the view past `limit()` (e.g. "30 per minute") for its `key()`."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def within_limit(*args: Any, **kwargs: Any) -> Any:
            counters: Counters = current_app.extensions["throttle"]
            if not counters.hit(_limit(limit()), request.endpoint or view.__name__, key())[1]:
                abort(429)
            return view(*args, **kwargs)

        return within_limit  # type: ignore[return-value]

    return decorate


@dataclass
class Reservation:
    """Attempts counted by `reserve`; `give_back` uncounts them (an attempt that succeeded)."""

    scope: str
    taken: list[tuple[FixedWindowRateLimiter, RateLimitItem, str]]

    def give_back(self) -> None:
        for strategy, item, key in self.taken:
            try:
                strategy.storage().incr(item.key_for(self.scope, key), item.get_expiry(), amount=-1)
            except Exception as error:  # the store went down since: the attempt stays counted there
                log.warning("rate limit store unavailable: %s", type(error).__name__)


def reserve(scope: str, limits: Iterable[tuple[str, str]]) -> Reservation | None:
    """Count one attempt against each ``(limit, key)``, or None (counting nothing) when one is used up.

    The attempt is counted before it is checked, with one atomic increment per limit: counting
    failures afterwards let parallel attempts all pass the test.
    """
    counters: Counters = current_app.extensions["throttle"]
    reservation = Reservation(scope, [])
    for text, key in limits:
        item = _limit(text)
        strategy, within = counters.hit(item, scope, key)
        reservation.taken.append((strategy, item, key))
        if not within:
            reservation.give_back()
            return None
    return reservation
