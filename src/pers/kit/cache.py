"""A bounded cache of values read at a version: a value is served only to a reader who saw the
same version (``get`` with the version the reader just read), least recently used out first."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class VersionedCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one value")
        self.size = size
        self._values: OrderedDict[K, tuple[int, V]] = OrderedDict()

    def get(self, key: K, version: int | None) -> V | None:
        """The value kept for ``key`` if it was read at ``version``; None otherwise (also when
        the version is unknown)."""
        found = self._values.get(key)
        if found is None or version is None or found[0] != version:
            return None
        self._values.move_to_end(key)
        return found[1]

    def peek(self, key: K) -> tuple[int, V] | None:
        """The value kept for ``key`` with the version it was read at, whatever the current
        version: for callers that have the database confirm the version themselves."""
        return self._values.get(key)

    def put(self, key: K, version: int | None, value: V) -> None:
        """Keep ``value`` as read at ``version`` (nothing is kept without a version)."""
        if version is None:
            return
        self._values[key] = (version, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)
