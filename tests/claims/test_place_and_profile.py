"""Where and who: ``maxGeoDistanceInMeters`` (great-circle distance to the engaged business's
coordinates) and ``requiredUserInfo`` (fields the user's profile must have)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.campaigns.conftest import ok, validation_error
from tests.claims.conftest import Kit, Member

# Metres in one degree of a great circle on the sphere the distance is measured on.
METERS_PER_DEGREE = 6_371_008.8 * math.pi / 180  # about 111,195 m


async def _near(
    kit: Kit, latitude: float, longitude: float, limit: float, **rules: Any
) -> tuple[Any, dict[str, Any], Member]:
    reward = await kit.reward(maxGeoDistanceInMeters=limit, **rules)
    cafe = await kit.business("Cafe", coordsLatitude=latitude, coordsLongitude=longitude)
    await kit.engage(reward.id, cafe["id"])
    return reward, cafe, await kit.member()


async def test_a_claim_within_the_distance_of_the_business(kit: Kit) -> None:
    reward, cafe, member = await _near(kit, 41.4036, 2.1744, 100)
    # 0.0008 degrees north along the meridian: about 89 m.
    claim = ok(
        await kit.claim(
            member, reward.id, businessId=cafe["id"], latitude=41.4044, longitude=2.1744
        ),
        201,
    )
    assert (claim["business"]["coordsLatitude"], claim["business"]["coordsLongitude"]) == (
        41.4036,
        2.1744,
    )
    # At the business itself.
    ok(
        await kit.claim(
            member, reward.id, businessId=cafe["id"], latitude=41.4036, longitude=2.1744
        ),
        201,
    )


async def test_a_claim_beyond_the_distance_is_refused(kit: Kit) -> None:
    reward, cafe, member = await _near(kit, 41.4036, 2.1744, 100)
    before = await kit.recorded()
    # 0.001 degrees north: about 111 m.
    response = await kit.claim(
        member, reward.id, businessId=cafe["id"], latitude=41.4046, longitude=2.1744
    )
    body = await kit.refused(response, "TOO_FAR_FROM_BUSINESS", before=before)
    assert body["distanceInMeters"] == pytest.approx(0.001 * METERS_PER_DEGREE, abs=0.1)
    assert body["maxGeoDistanceInMeters"] == 100
    assert await kit.balances(member.account_address) == []


async def test_the_distance_is_great_circle_at_high_latitudes(kit: Kit) -> None:
    # At 60 degrees north a degree of longitude is half as long as at the equator: 0.003
    # degrees east is about 167 m, not 334 m.
    reward, cafe, member = await _near(kit, 60.0, 10.0, 200)
    ok(
        await kit.claim(member, reward.id, businessId=cafe["id"], latitude=60.0, longitude=10.003),
        201,
    )
    before = await kit.recorded()
    response = await kit.claim(
        member, reward.id, businessId=cafe["id"], latitude=60.0, longitude=10.004
    )
    body = await kit.refused(response, "TOO_FAR_FROM_BUSINESS", before=before)
    expected = 2 * 6_371_008.8 * math.asin(0.5 * math.sin(math.radians(0.004) / 2))
    assert body["distanceInMeters"] == pytest.approx(expected, abs=0.1)


async def test_the_distance_across_the_antimeridian(kit: Kit) -> None:
    reward, cafe, member = await _near(kit, 0.0, 179.9995, 150)
    # 0.001 degrees apart along the equator (about 111 m), on either side of 180 degrees.
    ok(
        await kit.claim(
            member, reward.id, businessId=cafe["id"], latitude=0.0, longitude=-179.9995
        ),
        201,
    )


@pytest.mark.parametrize(
    "where",
    [
        {"latitude": 41.4036},
        {"longitude": 2.1744},
        {},
    ],
)
async def test_a_claim_without_its_location_is_refused(kit: Kit, where: dict[str, float]) -> None:
    reward, cafe, member = await _near(kit, 41.4036, 2.1744, 100)
    before = await kit.recorded()
    response = await kit.claim(member, reward.id, businessId=cafe["id"], **where)
    await kit.refused(response, "LOCATION_REQUIRED", before=before)


async def test_a_claim_at_no_business_is_refused_when_the_distance_is_limited(kit: Kit) -> None:
    reward, _cafe, member = await _near(kit, 41.4036, 2.1744, 100)
    before = await kit.recorded()
    response = await kit.claim(member, reward.id, latitude=41.4036, longitude=2.1744)
    await kit.refused(response, "LOCATION_REQUIRED", before=before)


async def test_a_business_without_coordinates_cannot_be_measured(kit: Kit) -> None:
    reward = await kit.reward(maxGeoDistanceInMeters=100)
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.claim(
        member, reward.id, businessId=cafe["id"], latitude=41.4036, longitude=2.1744
    )
    await kit.refused(response, "BUSINESS_LOCATION_UNKNOWN", before=before)
    ok(
        await kit.client.put(
            f"/v1.7/business/admin/{cafe['id']}",
            json={"coordsLatitude": 41.4036, "coordsLongitude": 2.1744},
            headers=kit.admin,
        )
    )
    ok(
        await kit.claim(
            member, reward.id, businessId=cafe["id"], latitude=41.4036, longitude=2.1744
        ),
        201,
    )


async def test_a_business_claim_is_measured_from_the_business(kit: Kit) -> None:
    reward, cafe, member = await _near(kit, 41.4036, 2.1744, 100, triggerType="CLAIM_BY_BUSINESS")
    here = {"userIdentifier": "id", "id": member.id, "longitude": 2.1744}
    ok(await kit.business_claim(cafe, reward.id, latitude=41.4040, **here), 201)
    before = await kit.recorded()
    response = await kit.business_claim(cafe, reward.id, latitude=41.4100, **here)
    await kit.refused(response, "TOO_FAR_FROM_BUSINESS", before=before)
    response = await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "LOCATION_REQUIRED", before=before)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ({"latitude": 90.5, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
    ],
)
async def test_coordinates_out_of_range_are_invalid(
    kit: Kit, where: dict[str, float], field: str
) -> None:
    reward = await kit.reward()
    member = await kit.member()
    validation_error(await kit.claim(member, reward.id, **where), field)
    assert await kit.recorded() == (0, 0, 0)


# --- requiredUserInfo ---------------------------------------------------------------------------


async def test_a_required_first_name_must_be_in_the_profile(kit: Kit) -> None:
    reward = await kit.reward(requiredUserInfo=["firstName"])
    member = await kit.member()
    before = await kit.recorded()
    body = await kit.refused(await kit.claim(member, reward.id), "USER_INFO_MISSING", before=before)
    assert body["missingUserInfo"] == ["firstName"]
    ok(
        await kit.client.put(
            "/v1.7/user/auth/me", json={"firstName": "Ada"}, headers=member.headers
        )
    )
    claim = ok(await kit.claim(member, reward.id), 201)
    assert claim["user"]["firstName"] == "Ada"


async def test_every_missing_field_is_named(kit: Kit) -> None:
    reward = await kit.reward(
        triggerType="CLAIM_BY_SYSTEM", requiredUserInfo=["email", "lastName", "customData"]
    )
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, userIdentifier="externalId", externalId="crm-7")
    body = await kit.refused(response, "USER_INFO_MISSING", before=before)
    assert body["missingUserInfo"] == ["email", "lastName", "customData"]
    member = await kit.member(
        external_id="crm-8", last_name="Lovelace", custom_data={"tier": "gold"}
    )
    claim = ok(
        await kit.system_claim(reward.id, userIdentifier="externalId", externalId="crm-8"), 201
    )
    assert claim["user"]["id"] == member.id


async def test_an_empty_custom_data_is_missing(kit: Kit) -> None:
    reward = await kit.reward(requiredUserInfo={"customData": True})
    member = await kit.member(custom_data={})
    before = await kit.recorded()
    body = await kit.refused(await kit.claim(member, reward.id), "USER_INFO_MISSING", before=before)
    assert body["missingUserInfo"] == ["customData"]
    ok(
        await kit.client.put(
            "/v1.7/user/auth/me", json={"customData": {"size": "M"}}, headers=member.headers
        )
    )
    ok(await kit.claim(member, reward.id), 201)
