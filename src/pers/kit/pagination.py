"""Page-number pagination (1-based ``page``, ``limit``) for list use cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    limit: int = 20

    def __post_init__(self) -> None:
        if self.page < 1 or self.limit < 1:
            raise ValueError("page and limit start at 1")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(item) for item in self.items], self.total, self.request)

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.request.limit)

    @property
    def has_next(self) -> bool:
        return self.request.page < self.total_pages

    @property
    def has_prev(self) -> bool:
        return self.request.page > 1
