"""Contract addresses: stored and compared in one spelling, the EIP-55 checksum form."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from pers.kit.addresses import checksum_address

ZERO_ADDRESS = "0x" + "0" * 40


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
