"""Wire-schema bases: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

import re
from typing import Annotated, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from pers.kit.addresses import checksum_address
from pers.kit.pagination import Page

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 320


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.match(value) is not None


def _check_email(value: str) -> str:
    if not is_email(value):
        raise ValueError("not an e-mail address")
    return value


Email = Annotated[
    str, Field(min_length=3, max_length=MAX_EMAIL_LENGTH), AfterValidator(_check_email)
]


def _check_address(value: str) -> str:
    checksummed = checksum_address(value)
    if checksummed is None:
        raise ValueError("not an EVM address (0x and 40 hex digits, valid EIP-55 checksum)")
    return checksummed


EvmAddress = Annotated[
    str,
    Field(min_length=42, max_length=42, examples=["0x52908400098527886E0F7030069857D2E4169EE7"]),
    AfterValidator(_check_address),
]
"""An EVM address, normalised to its EIP-55 checksum form."""


class WireModel(BaseModel):
    """Responses: camelCase aliases, built from attributes."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class WireInput(BaseModel):
    """Requests: camelCase, unknown fields rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


T = TypeVar("T")


class PageInfo(WireModel):
    page: int = Field(description="The page returned, from 1.")
    limit: int = Field(description="Items per page.")
    total: int = Field(description="Items matching the query, on every page.")
    total_pages: int
    has_next: bool
    has_prev: bool


class Paginated(WireModel, Generic[T]):
    """A page of a list: ``{data: [...], pagination: {...}}``."""

    data: list[T]
    pagination: PageInfo

    @classmethod
    def of(cls, page: Page[T]) -> Self:
        return cls(
            data=page.items,
            pagination=PageInfo(
                page=page.request.page,
                limit=page.request.limit,
                total=page.total,
                total_pages=page.total_pages,
                has_next=page.has_next,
                has_prev=page.has_prev,
            ),
        )
