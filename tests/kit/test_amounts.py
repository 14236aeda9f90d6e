import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from pers.kit.amounts import AmountError, ExactFloat, WireAmount, from_base_units, to_base_units


class Body(BaseModel):
    amount: WireAmount


def parse(raw: str) -> Decimal:
    return Body.model_validate(json.loads(raw, parse_float=ExactFloat)).amount


def test_json_numbers_reach_amounts_exactly() -> None:
    assert parse('{"amount": 1234.567890123456789123}') == Decimal("1234.567890123456789123")
    assert parse('{"amount": 0.1}') == Decimal("0.1")
    assert parse('{"amount": 7}') == Decimal(7)
    assert parse('{"amount": "2.50"}') == Decimal("2.50")
    assert parse('{"amount": 1e2}') == Decimal(100)


@pytest.mark.parametrize(
    "raw",
    [
        '{"amount": true}',
        '{"amount": "abc"}',
        '{"amount": NaN}',
        '{"amount": Infinity}',
        '{"amount": null}',
        '{"amount": []}',
    ],
)
def test_non_numbers_are_not_amounts(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse(raw)


def test_token_units_convert_to_base_units_exactly() -> None:
    assert to_base_units(Decimal("1.5"), 18) == 1_500_000_000_000_000_000
    assert to_base_units(Decimal("0.000000000000000001"), 18) == 1
    assert to_base_units(Decimal(3), 0) == 3
    assert from_base_units(1_500_000_000_000_000_000, 18) == Decimal("1.5")
    assert from_base_units(0, 18) == 0
    big = 2**256 - 1
    assert to_base_units(Decimal(big), 0) == big
    exact = "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    assert from_base_units(big, 18) == Decimal(exact)
    assert to_base_units(from_base_units(big, 18), 18) == big


@pytest.mark.parametrize(
    ("amount", "decimals"),
    [("0", 2), ("-1", 2), ("0.001", 2), ("1.5", 0), (str(2**256), 0)],
)
def test_bad_amounts_are_refused(amount: str, decimals: int) -> None:
    with pytest.raises(AmountError):
        to_base_units(Decimal(amount), decimals)


def test_amounts_render_as_json_numbers() -> None:
    assert Body(amount=Decimal("12.5")).model_dump_json() == '{"amount":12.5}'
    assert Body(amount=Decimal(3)).model_dump_json() == '{"amount":3}'
