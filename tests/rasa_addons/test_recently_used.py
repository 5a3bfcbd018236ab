"""The bounded memory behind the Rasa server's per-conversation caches."""

from __future__ import annotations

from rasa_addons import recently_used
from rasa_addons.recently_used import RecentlyUsed


def test_bounded_in_number_oldest_first_and_in_idle_time(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recently_used.time, "monotonic", lambda: clock[0])
    recent: RecentlyUsed[str, int] = RecentlyUsed(size=2, idle_seconds=60)
    for value, key in enumerate(("a", "b", "c")):
        recent.put(key, value)
    assert recent.get("a") is None and recent.get("b") == 1  # the oldest went first
    recent.put("d", 3)  # "b" was used after "c", so "c" goes
    assert recent.get("c") is None and recent.get("b") == 1
    clock[0] += 61
    assert recent.get("d") is None  # idle too long: the caller works it out again


def test_put_again_keeps_a_value_and_drop_forgets_it(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recently_used.time, "monotonic", lambda: clock[0])
    recent: RecentlyUsed[str, str] = RecentlyUsed(size=4, idle_seconds=60)
    recent.put("web-1", "first")
    clock[0] += 50
    recent.put("web-1", "second")
    clock[0] += 50
    assert recent.get("web-1") == "second"  # idle counts from the last put, not the first
    recent.drop("web-1")
    assert recent.get("web-1") is None
