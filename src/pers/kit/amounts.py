"""Exact token amounts: base units are ``int``; the wire speaks token units as decimal numbers.

JSON numbers reach us without passing through binary floating point: request bodies are parsed
with ``parse_float=ExactFloat``, a ``float`` that remembers its source text, and ``WireAmount``
builds its ``Decimal`` from that text. Everything else still sees an ordinary float.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

MAX_DECIMALS = 36
MAX_BASE_UNITS = 2**256 - 1
# Decimal arithmetic rounds to the context's precision (28 digits by default). Amounts must
# never be rounded, so every operation here runs in a context wide enough for any uint256 scaled
# by any allowed number of decimals, and traps rounding if it ever happened.
EXACT = Context(prec=160, traps=[Inexact, Rounded, InvalidOperation])


class ExactFloat(float):
    """A JSON number: a float for everyone, with its exact source text for amounts."""

    text: str

    def __new__(cls, text: str) -> ExactFloat:
        value = super().__new__(cls, text)
        value.text = text
        return value


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("an amount must be a number")
    if isinstance(value, ExactFloat):
        value = value.text
    elif isinstance(value, float):
        value = repr(value)
    elif isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("an amount must be a decimal number") from exc
    else:
        raise ValueError("an amount must be a number")
    if not result.is_finite():
        raise ValueError("an amount must be finite")
    return result


def _to_number(value: Decimal) -> float | int:
    # The JSON renderer speaks float: exact for integral amounts below 2**53 and for every amount
    # with at most 15 significant digits (see docs/decisions.md).
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


WireAmount = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_to_number, when_used="json"),
    WithJsonSchema({"type": "number", "description": "Token units (ERC20: scaled by decimals)"}),
]


WireDecimal = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_to_number, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""Any exact decimal number that is not an amount (a multiplier, say), read and shown like
``WireAmount``."""


class AmountError(ValueError):
    pass


def to_base_units(amount: Decimal, decimals: int) -> int:
    """Token units to base units, exactly; positive, at most ``decimals`` fractional digits."""
    if amount <= 0:
        raise AmountError("amount must be greater than zero")
    scaled = amount.scaleb(decimals, context=EXACT)
    if scaled != scaled.to_integral_value(context=EXACT):
        raise AmountError(f"amount has more than {decimals} decimal places")
    base = int(scaled)
    if base > MAX_BASE_UNITS:
        raise AmountError("amount is too large")
    return base


def from_base_units(base: int, decimals: int) -> Decimal:
    return (
        Decimal(base).scaleb(-decimals, context=EXACT).normalize(context=EXACT)
        if base
        else Decimal(0)
    )
