"""Counted limits: maxPerUser, maxPerDay (UTC day), minCooldownSeconds, and at a business the
engagement's maxPerBussiness and maxPerDay. The clock is moved, never slept on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.campaigns.conftest import ok
from tests.claims.conftest import Kit
from tests.conftest import MovableClock


def before_midnight(clock: MovableClock, seconds: int) -> datetime:
    """Move the clock to ``seconds`` before a UTC midnight (at least a day ahead); returns that
    midnight."""
    midnight = datetime.combine(clock.now().date() + timedelta(days=2), time(), tzinfo=UTC)
    clock.advance(midnight - timedelta(seconds=seconds) - clock.now())
    return midnight


async def test_max_per_user_counts_every_claim_of_the_user(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=2, amount=5)
    member, other = await kit.member(), await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id), "MAX_PER_USER_REACHED", before=before
    )
    assert body["maxPerUser"] == 2
    # Not a daily limit: a later day changes nothing.
    kit.clock.advance(timedelta(days=3))
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_USER_REACHED", before=before)
    # Another user has a limit of its own.
    ok(await kit.claim(other, reward.id), 201)
    assert await kit.balance(member.account_address, reward.token) == 10
    assert await kit.balance(other.account_address, reward.token) == 5


async def test_a_shared_trigger_counts_each_campaign_apart(kit: Kit) -> None:
    first = await kit.reward(maxPerUser=1)
    second = await kit.reward(with_trigger=False)
    await kit.programme.set_trigger(second.id, first.trigger["id"])
    member = await kit.member()
    ok(await kit.claim(member, first.id), 201)
    ok(await kit.claim(member, second.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, first.id), "MAX_PER_USER_REACHED", before=before)
    await kit.refused(await kit.claim(member, second.id), "MAX_PER_USER_REACHED", before=before)


async def test_raising_max_per_user_lets_the_user_claim_again(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=1)
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_USER_REACHED", before=before)
    await kit.update_trigger(reward.trigger["id"], name="Scan", maxPerUser=2)
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_USER_REACHED", before=before)


async def test_max_per_day_resets_at_the_utc_midnight(kit: Kit) -> None:
    reward = await kit.reward(maxPerDay=2, amount=1)
    member = await kit.member()
    before_midnight(kit.clock, 60)  # 23:59:00
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id), "MAX_PER_DAY_REACHED", before=before
    )
    assert body["maxPerDay"] == 2
    kit.clock.advance(timedelta(seconds=58))  # 23:59:58, still the same day
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_DAY_REACHED", before=before)
    kit.clock.advance(timedelta(seconds=3))  # 00:00:01, the next UTC day
    first = ok(await kit.claim(member, reward.id), 201)
    assert datetime.fromisoformat(first["createdAt"]).time() < time(0, 1)
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_DAY_REACHED", before=before)
    # Days later the count starts again.
    kit.clock.advance(timedelta(days=5))
    ok(await kit.claim(member, reward.id), 201)
    assert await kit.balance(member.account_address, reward.token) == 5


async def test_max_per_day_is_per_user(kit: Kit) -> None:
    reward = await kit.reward(maxPerDay=1)
    member, other = await kit.member(), await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.claim(other, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_DAY_REACHED", before=before)


async def test_the_cooldown_runs_from_the_last_claim(kit: Kit) -> None:
    reward = await kit.reward(minCooldownSeconds=60)
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    body = await kit.refused(await kit.claim(member, reward.id), "COOLDOWN_ACTIVE", before=before)
    assert body["minCooldownSeconds"] == 60
    assert body["retryAfterSeconds"] == 60
    kit.clock.advance(timedelta(seconds=59))
    body = await kit.refused(await kit.claim(member, reward.id), "COOLDOWN_ACTIVE", before=before)
    assert body["retryAfterSeconds"] == 1
    kit.clock.advance(timedelta(seconds=1))
    ok(await kit.claim(member, reward.id), 201)
    # The refused claims did not restart it: it runs from the last claim made.
    kit.clock.advance(timedelta(seconds=30))
    before = await kit.recorded()
    body = await kit.refused(await kit.claim(member, reward.id), "COOLDOWN_ACTIVE", before=before)
    assert body["retryAfterSeconds"] == 30
    kit.clock.advance(timedelta(seconds=30))
    ok(await kit.claim(member, reward.id), 201)
    # Other users are not cooling down.
    ok(await kit.claim(await kit.member(), reward.id), 201)


async def test_the_cooldown_outlasts_a_utc_midnight(kit: Kit) -> None:
    reward = await kit.reward(minCooldownSeconds=600, maxPerDay=1)
    member = await kit.member()
    before_midnight(kit.clock, 120)  # 23:58:00
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_DAY_REACHED", before=before)
    kit.clock.advance(timedelta(minutes=3))  # 00:01:00: a new day, but 180 s since the claim
    body = await kit.refused(await kit.claim(member, reward.id), "COOLDOWN_ACTIVE", before=before)
    assert body["retryAfterSeconds"] == 420
    kit.clock.advance(timedelta(seconds=420))
    ok(await kit.claim(member, reward.id), 201)


async def test_a_zero_cooldown_does_not_limit(kit: Kit) -> None:
    reward = await kit.reward(minCooldownSeconds=0)
    member = await kit.member()
    for _ in range(3):
        ok(await kit.claim(member, reward.id), 201)


# --- limits at a business ---------------------------------------------------------------------


async def test_max_per_bussiness_counts_the_users_claims_at_each_business(kit: Kit) -> None:
    reward = await kit.reward(amount=1)
    cafe, museum = await kit.business("Cafe"), await kit.business("Museum")
    await kit.engage(reward.id, cafe["id"], museum["id"], maxPerBussiness=2)
    member, other = await kit.member(), await kit.member()
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id, businessId=cafe["id"]),
        "MAX_PER_BUSINESS_REACHED",
        before=before,
    )
    assert body["maxPerBussiness"] == 2
    # Each business of the engagement counts apart; other users, and claims at no business,
    # are not limited by it.
    ok(await kit.claim(member, reward.id, businessId=museum["id"]), 201)
    ok(await kit.claim(other, reward.id, businessId=cafe["id"]), 201)
    ok(await kit.claim(member, reward.id), 201)
    kit.clock.advance(timedelta(days=2))  # not a daily limit
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, businessId=cafe["id"]),
        "MAX_PER_BUSINESS_REACHED",
        before=before,
    )
    assert await kit.balance(member.account_address, reward.token) == 4


async def test_max_per_bussiness_limits_a_business_claiming_for_a_user(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"], maxPerBussiness=1)
    member = await kit.member()
    ok(await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id), 201)
    before = await kit.recorded()
    response = await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "MAX_PER_BUSINESS_REACHED", before=before)
    other = await kit.member()
    ok(await kit.business_claim(cafe, reward.id, userIdentifier="id", id=other.id), 201)


async def test_the_engagements_max_per_day_resets_at_the_utc_midnight(kit: Kit) -> None:
    reward = await kit.reward()
    cafe, museum = await kit.business("Cafe"), await kit.business("Museum")
    await kit.engage(reward.id, cafe["id"], maxPerDay=1)
    await kit.engage(reward.id, museum["id"])
    member = await kit.member()
    before_midnight(kit.clock, 30)
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id, businessId=cafe["id"]),
        "MAX_PER_DAY_AT_BUSINESS_REACHED",
        before=before,
    )
    assert body["maxPerDay"] == 1
    ok(await kit.claim(member, reward.id, businessId=museum["id"]), 201)
    ok(await kit.claim(member, reward.id), 201)
    kit.clock.advance(timedelta(seconds=31))  # 00:00:01
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, businessId=cafe["id"]),
        "MAX_PER_DAY_AT_BUSINESS_REACHED",
        before=before,
    )


async def test_a_claim_refused_at_the_business_does_not_count_for_the_campaign(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=3)
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"], maxPerBussiness=1)
    member = await kit.member()
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    before = await kit.recorded()
    for _ in range(3):
        await kit.refused(
            await kit.claim(member, reward.id, businessId=cafe["id"]),
            "MAX_PER_BUSINESS_REACHED",
            before=before,
        )
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_USER_REACHED", before=before)


async def test_the_campaigns_limit_applies_to_claims_at_businesses(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=2)
    cafe, museum = await kit.business("Cafe"), await kit.business("Museum")
    await kit.engage(reward.id, cafe["id"], museum["id"])
    member = await kit.member()
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    ok(await kit.claim(member, reward.id, businessId=museum["id"]), 201)
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, businessId=cafe["id"]),
        "MAX_PER_USER_REACHED",
        before=before,
    )
