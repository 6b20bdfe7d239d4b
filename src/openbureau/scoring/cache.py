"""A bounded, per-process cache of scores, keyed by everything a score depends on."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from threading import Lock


class ScoreCache:
    """Least-recently-used map from a score's inputs to the score served for them.

    The key names the model version and the state of the subject's file (its tradelines and
    the inquiries visible at the score's as-of date), so a cached entry can never be stale:
    any change to those inputs makes a new key.
    """

    def __init__(self, maxsize: int = 100_000) -> None:
        self._items: OrderedDict[Hashable, dict] = OrderedDict()
        self._maxsize = maxsize
        self._lock = Lock()

    def get(self, key: Hashable) -> dict | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: dict) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)
