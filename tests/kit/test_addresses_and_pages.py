"""EVM address normalisation, page-number pagination and the paginated wire envelope."""

import pytest
from pydantic import TypeAdapter, ValidationError

from pers.kit.addresses import checksum_address
from pers.kit.pagination import Page, PageRequest
from pers.kit.schemas import EvmAddress, Paginated, is_email

# The EIP-55 test vector.
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_lower_and_upper_case_addresses_become_the_checksum_form() -> None:
    assert checksum_address(CHECKSUMMED.lower()) == CHECKSUMMED
    assert checksum_address("0x" + CHECKSUMMED[2:].upper()) == CHECKSUMMED
    assert checksum_address(CHECKSUMMED) == CHECKSUMMED


@pytest.mark.parametrize(
    "value",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # mixed case with a wrong checksum
        CHECKSUMMED[2:],  # no 0x
        CHECKSUMMED[:-1],  # 39 digits
        CHECKSUMMED + "0",  # 41 digits
        "0x" + "g" * 40,
        "",
    ],
)
def test_malformed_addresses_are_refused(value: str) -> None:
    assert checksum_address(value) is None
    with pytest.raises(ValidationError):
        TypeAdapter(EvmAddress).validate_python(value)


def test_evm_address_wire_type_normalises() -> None:
    assert TypeAdapter(EvmAddress).validate_python(CHECKSUMMED.lower()) == CHECKSUMMED


def test_is_email_accepts_addresses_and_refuses_the_rest() -> None:
    assert is_email("ann@example.com")
    assert not is_email("ann@example")
    assert not is_email("ann @example.com")
    assert not is_email("a" * 320 + "@example.com")


def test_page_request_offsets_from_page_one() -> None:
    assert PageRequest(1, 20).offset == 0
    assert PageRequest(3, 20).offset == 40
    with pytest.raises(ValueError):
        PageRequest(0, 20)
    with pytest.raises(ValueError):
        PageRequest(1, 0)


@pytest.mark.parametrize(
    ("page", "total", "pages", "has_next", "has_prev"),
    [(1, 0, 0, False, False), (1, 45, 3, True, False), (2, 45, 3, True, True),
     (3, 45, 3, False, True), (4, 45, 3, False, True), (1, 20, 1, False, False)],
)  # fmt: skip
def test_page_counts_pages_and_neighbours(
    page: int, total: int, pages: int, has_next: bool, has_prev: bool
) -> None:
    result = Page([], total, PageRequest(page, 20))
    assert (result.total_pages, result.has_next, result.has_prev) == (pages, has_next, has_prev)


def test_paginated_envelope_on_the_wire() -> None:
    page = Page([1, 2], 5, PageRequest(2, 2)).map(str)
    body = Paginated[str].of(page).model_dump(by_alias=True)
    assert body == {
        "data": ["1", "2"],
        "pagination": {
            "page": 2,
            "limit": 2,
            "total": 5,
            "totalPages": 3,
            "hasNext": True,
            "hasPrev": True,
        },
    }
