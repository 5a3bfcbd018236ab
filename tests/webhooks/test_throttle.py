"""In-memory rate-limit counters: the same counts and expiries as limits' own, without a thread per hit."""

from __future__ import annotations

import secrets
import threading
from types import SimpleNamespace

import pytest
from flask import Flask
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from tests.support import redis_for_tests
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


def test_a_store_that_is_down_is_counted_around_and_tried_again_later(monkeypatch):
    counters = throttle.Counters("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limit = parse("2 per minute")
    assert [counters.hit(limit, "chat", "client")[1] for _ in range(3)] == [True, True, False]  # counted in memory
    clock = [throttle.time.monotonic() + throttle.RETRY_SECONDS]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: clock[0])
    tried = []
    monkeypatch.setattr(counters.shared, "hit", lambda *args: tried.append(args) or True)
    assert counters.hit(limit, "chat", "client") == (counters.shared, True)
    assert len(tried) == 1  # the store is tried again once the retry time has passed


@pytest.fixture
def app_with_counters():
    app = Flask(__name__)
    app.extensions["throttle"] = throttle.Counters("memory://")
    return app


def test_two_web_processes_share_one_count_in_redis():
    host, port = redis_for_tests()
    one, other = (throttle.Counters(f"redis://{host}:{port}/2") for _ in range(2))
    limit, client = parse("3 per minute"), "client-" + secrets.token_hex(4)
    processes = (one, other, one, other)
    hits = [counters.hit(limit, "chat", client) for counters in processes]
    assert [within for _, within in hits] == [True, True, True, False]
    assert all(strategy is counters.shared for (strategy, _), counters in zip(hits, processes, strict=True))


def test_an_attempt_given_back_to_a_store_gone_down_meanwhile_is_no_error(app_with_counters):
    counters = app_with_counters.extensions["throttle"]
    with app_with_counters.app_context():
        attempt = throttle.reserve("staff-login", [("5 per minute", "name:li")])
        assert attempt is not None and attempt.taken[0][0] is counters.shared

        def down(*args, **kwargs):
            raise ConnectionError("store down")

        counters._stores[0].incr = down
        attempt.give_back()  # logged, not raised: the sign-in that succeeded still goes on
