"""current_status: the highest status type whose threshold the eligible balances reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pers.users.models import UserStatusType
from pers.users.status import current_status, eligible_balance

CREDIT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
STAMP = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
OTHER = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"


@dataclass(frozen=True)
class Tier:
    id: int
    min_token_balance: Decimal
    eligible_token_addresses: list[str] = field(default_factory=lambda: [CREDIT])


BRONZE = Tier(1, Decimal(0))
SILVER = Tier(2, Decimal(100))
GOLD = Tier(3, Decimal(500))
TIERS = [GOLD, BRONZE, SILVER]  # not in order: the answer must not depend on it


def test_no_status_types_means_no_status() -> None:
    assert current_status([], {CREDIT: Decimal(1000)}) is None


def test_balance_below_every_threshold_means_no_status() -> None:
    assert current_status([SILVER, GOLD], {CREDIT: Decimal("99.99")}) is None


def test_zero_threshold_is_reached_without_any_balance() -> None:
    assert current_status(TIERS, {}) is BRONZE


def test_exactly_the_threshold_reaches_the_status() -> None:
    assert current_status(TIERS, {CREDIT: Decimal(100)}) is SILVER
    assert current_status(TIERS, {CREDIT: Decimal(500)}) is GOLD


def test_the_highest_reached_status_wins() -> None:
    assert current_status(TIERS, {CREDIT: Decimal(499)}) is SILVER
    assert current_status(TIERS, {CREDIT: Decimal(10_000)}) is GOLD


def test_balances_of_all_eligible_tokens_are_summed() -> None:
    both = Tier(4, Decimal(100), [CREDIT, STAMP])
    assert current_status([both], {CREDIT: Decimal(60), STAMP: Decimal(40)}) is both
    assert current_status([both], {CREDIT: Decimal(60), STAMP: Decimal(39)}) is None


def test_tokens_that_are_not_eligible_do_not_count() -> None:
    assert current_status([SILVER], {OTHER: Decimal(1_000_000)}) is None
    assert current_status([SILVER], {OTHER: Decimal(60), CREDIT: Decimal(60)}) is None


def test_each_status_type_counts_only_its_own_eligible_tokens() -> None:
    credit_tier = Tier(5, Decimal(50), [CREDIT])
    stamp_tier = Tier(6, Decimal(10), [STAMP])
    balances = {CREDIT: Decimal(20), STAMP: Decimal(10)}
    assert current_status([credit_tier, stamp_tier], balances) is stamp_tier


def test_addresses_match_in_any_letter_case() -> None:
    assert current_status([SILVER], {CREDIT.lower(): Decimal(100)}) is SILVER
    lower_tier = Tier(7, Decimal(100), [CREDIT.lower()])
    assert current_status([lower_tier], {CREDIT: Decimal(100)}) is lower_tier


def test_fractional_balances_compare_exactly() -> None:
    tier = Tier(8, Decimal("0.3"))
    assert current_status([tier], {CREDIT: Decimal("0.1") + Decimal("0.2")}) is tier
    assert current_status([tier], {CREDIT: Decimal("0.29999999999999999999")}) is None


def test_equal_thresholds_resolve_to_the_oldest_type_in_any_order() -> None:
    first, second = Tier(10, Decimal(100)), Tier(11, Decimal(100))
    balances = {CREDIT: Decimal(100)}
    assert current_status([first, second], balances) is first
    assert current_status([second, first], balances) is first


def test_a_token_listed_twice_counts_once() -> None:
    assert eligible_balance([CREDIT, CREDIT.lower()], {CREDIT: Decimal(70)}) == Decimal(70)


def test_balances_keyed_in_two_spellings_are_added() -> None:
    assert eligible_balance([CREDIT], {CREDIT: Decimal(1), CREDIT.lower(): Decimal(2)}) == 3


def test_stored_status_types_are_accepted() -> None:
    silver = UserStatusType(
        id=1, name="Silver", min_token_balance=Decimal(100), eligible_token_addresses=[CREDIT]
    )
    gold = UserStatusType(
        id=2, name="Gold", min_token_balance=Decimal(500), eligible_token_addresses=[CREDIT]
    )
    assert current_status([silver, gold], {CREDIT: Decimal(600)}) is gold
