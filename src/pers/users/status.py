"""A user's current status (tier), derived from token balances; pure, so it is tested alone.

The ledger owns balances; whoever has them (the balance endpoint, redemptions checking
``minUserStatusType``) calls :func:`current_status` with the tenant's status types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol, TypeVar


class StatusRule(Protocol):
    """What the derivation reads of a status type (``UserStatusType`` satisfies it)."""

    @property
    def id(self) -> int: ...

    @property
    def min_token_balance(self) -> Decimal: ...

    @property
    def eligible_token_addresses(self) -> Sequence[str]: ...


StatusType = TypeVar("StatusType", bound=StatusRule)


def eligible_balance(
    eligible_token_addresses: Iterable[str], balances: Mapping[str, Decimal]
) -> Decimal:
    """The sum of the balances held in the eligible tokens (addresses match in any case)."""
    by_address: dict[str, Decimal] = {}
    for address, amount in balances.items():
        key = address.lower()
        by_address[key] = by_address.get(key, Decimal(0)) + amount
    eligible = {address.lower() for address in eligible_token_addresses}
    return sum((by_address.get(address, Decimal(0)) for address in eligible), Decimal(0))


def current_status(
    status_types: Iterable[StatusType], balances_by_token_address: Mapping[str, Decimal]
) -> StatusType | None:
    """The highest status type whose ``minTokenBalance`` the user's summed balance of that
    type's eligible tokens reaches, or None.

    "Highest" is the largest ``minTokenBalance``; between types with the same threshold, the
    one created first (lowest id) wins, so the answer never depends on the input order.
    A token listed twice counts once.
    """
    best: StatusType | None = None
    for status in status_types:
        held = eligible_balance(status.eligible_token_addresses, balances_by_token_address)
        if held < status.min_token_balance:
            continue
        if (
            best is None
            or status.min_token_balance > best.min_token_balance
            or (status.min_token_balance == best.min_token_balance and status.id < best.id)
        ):
            best = status
    return best
