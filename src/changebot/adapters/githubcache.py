"""A small cache for GitHub objects that a SHA names, and so never change."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ShaCache(Generic[V]):
    """Least-recently-used values, safe to share between threads."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, V] = OrderedDict()

    def lookup(self, key: Hashable) -> tuple[bool, V | None]:
        """Return (True, value) when ``key`` is kept, else (False, None)."""
        with self._lock:
            if key not in self._values:
                return False, None
            self._values.move_to_end(key)
            return True, self._values[key]

    def get(self, key: Hashable) -> V | None:
        """Return the value kept under ``key``, or None."""
        return self.lookup(key)[1]

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` and return it."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value
