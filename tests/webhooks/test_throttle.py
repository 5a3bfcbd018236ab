"""In-memory rate-limit counters: the same counts and expiries as limits' own, without a thread per hit."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from webhooks import throttle
from webhooks.throttle import SweptMemoryStorage


def test_memory_uris_get_the_swept_storage():
    assert isinstance(storage_from_string("memory://"), SweptMemoryStorage)


def test_hits_start_no_thread_between_sweeps():
    storage = SweptMemoryStorage()
    storage.timer.join()  # the sweep limits schedules when a store is made
    before = threading.active_count()
    for _ in range(50):
        storage.incr("chat/127.0.0.1", 60)
    assert storage.get("chat/127.0.0.1") == 50
    assert threading.active_count() == before


def test_limits_still_hold_and_expire_on_time(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("limits.storage.memory.time", SimpleNamespace(time=lambda: clock[0]))
    storage = SweptMemoryStorage()
    for strategy in (FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)):
        limit = parse("3 per minute")
        assert [strategy.hit(limit, "client") for _ in range(4)] == [True, True, True, False]
        clock[0] += 61
        assert strategy.hit(limit, "client")  # the window passed, though nothing was swept


def test_idle_counters_are_swept_within_a_second(monkeypatch):
    storage = SweptMemoryStorage()
    storage.incr("idle", 1)
    monkeypatch.setattr(throttle.time, "monotonic", lambda: storage._swept_at + throttle.SWEEP_SECONDS)
    monkeypatch.setattr("limits.storage.memory.time", SimpleNamespace(time=lambda: 10.0**10))  # long after it expired
    storage.incr("busy", 60)
    storage.timer.join()
    assert "idle" not in storage.storage
