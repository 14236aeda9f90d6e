"""EVM addresses: stored and compared in one spelling, the EIP-55 checksum form."""

from __future__ import annotations

import re

from eth_utils.address import to_checksum_address

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def checksum_address(value: str) -> str | None:
    """The EIP-55 form of ``0x`` + 40 hex digits, or None when ``value`` is not one.

    All-lower or all-upper hex is accepted as is; mixed case must already be the valid
    checksum, since a wrong mix of cases is exactly the typo EIP-55 exists to catch.
    """
    if not _HEX_ADDRESS.match(value):
        return None
    checksummed = str(to_checksum_address(value))
    digits = value[2:]
    if digits not in (digits.lower(), digits.upper()) and value != checksummed:
        return None
    return checksummed
