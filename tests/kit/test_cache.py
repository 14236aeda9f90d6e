"""kit.cache.VersionedCache: values served only at the version they were read at, bounded."""

from __future__ import annotations

import pytest

from pers.kit.cache import VersionedCache


def test_a_value_is_served_only_at_its_version() -> None:
    cache: VersionedCache[str, str] = VersionedCache(4)
    cache.put("a", 3, "read at 3")
    assert cache.get("a", 3) == "read at 3"
    assert cache.get("a", 4) is None  # the catalog moved on
    assert cache.get("a", None) is None  # no version known: never served
    assert cache.get("b", 3) is None
    cache.put("a", 4, "read at 4")
    assert cache.get("a", 4) == "read at 4"
    assert cache.get("a", 3) is None


def test_nothing_is_kept_without_a_version() -> None:
    cache: VersionedCache[str, int] = VersionedCache(4)
    cache.put("a", None, 1)
    assert len(cache) == 0


def test_the_least_recently_used_value_goes_first() -> None:
    cache: VersionedCache[int, int] = VersionedCache(2)
    cache.put(1, 0, 10)
    cache.put(2, 0, 20)
    assert cache.get(1, 0) == 10  # 1 is now the most recently used
    cache.put(3, 0, 30)
    assert len(cache) == 2
    assert cache.get(2, 0) is None
    assert (cache.get(1, 0), cache.get(3, 0)) == (10, 30)


def test_a_cache_holds_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        VersionedCache[str, str](0)
