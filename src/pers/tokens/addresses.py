"""Contract addresses: stored and compared in one spelling, the EIP-55 checksum form."""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils.address import to_checksum_address
from pydantic import AfterValidator, Field

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ZERO_ADDRESS = "0x" + "0" * 40


def checksum_address(value: str) -> str | None:
    """The EIP-55 form of ``0x`` + 40 hex digits, or None when ``value`` is not one.

    All-lower or all-upper hex digits are accepted as they are; mixed case must already be the
    valid checksum, since a wrong mix of cases is exactly the typo EIP-55 exists to catch.
    """
    if not _HEX_ADDRESS.match(value):
        return None
    checksummed = str(to_checksum_address(value))
    digits = value[2:]
    if digits not in (digits.lower(), digits.upper()) and value != checksummed:
        return None
    return checksummed


def _check_contract_address(value: str) -> str:
    checksummed = checksum_address(value)
    if checksummed is None:
        raise ValueError("not an EVM address (0x and 40 hex digits, valid EIP-55 checksum)")
    if checksummed == ZERO_ADDRESS:
        raise ValueError("the zero address is not a contract")
    return checksummed


def _check_account_address(value: str) -> str:
    checksummed = checksum_address(value)
    if checksummed is None:
        raise ValueError("not an EVM address (0x and 40 hex digits, valid EIP-55 checksum)")
    return checksummed


_EXAMPLE = "0x52908400098527886E0F7030069857D2E4169EE7"

ContractAddress = Annotated[
    str,
    Field(min_length=42, max_length=42, examples=[_EXAMPLE]),
    AfterValidator(_check_contract_address),
]
"""A contract address (not the zero address), normalised to its EIP-55 checksum form."""

AccountAddress = Annotated[
    str,
    Field(min_length=42, max_length=42, examples=[_EXAMPLE]),
    AfterValidator(_check_account_address),
]
"""Any EVM account address, normalised to its EIP-55 checksum form."""
