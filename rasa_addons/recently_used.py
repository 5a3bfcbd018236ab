"""A bounded memory of recently used values, shared by the Rasa server's per-conversation caches."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentlyUsed(Generic[K, V]):
    """Values by key, the least recently used dropped first beyond `size`, and a value not put
    again within `idle_seconds` gone: what a cache of conversations keeps stays bounded in number
    and in time, so nothing of a conversation nobody is in stays in memory longer than that."""

    def __init__(self, size: int, idle_seconds: float) -> None:
        self.size, self.idle_seconds = size, idle_seconds
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value put for `key` within the idle time, or None; it becomes the most recently used."""
        kept = self._values.pop(key, None)
        if kept is None or time.monotonic() - kept[0] > self.idle_seconds:
            return None
        self._values[key] = kept
        return kept[1]

    def put(self, key: K, value: V) -> None:
        self._values.pop(key, None)
        self._values[key] = (time.monotonic(), value)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def drop(self, key: K) -> None:
        self._values.pop(key, None)
