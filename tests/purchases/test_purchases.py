"""Payment intents and purchases: fields, pricing, Stripe state, validation, permissions,
tenancy and PAYMENTS_NOT_CONFIGURED."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TenantHandle
from tests.purchases.conftest import PURCHASE, FakeStripe, Shop, configure_stripe, make_catalog
from tests.transactions.conftest import Economy, problem

PURCHASE_FIELDS = {
    "id", "stripePaymentIntentId", "status", "amount", "currency", "quantity", "purchaseToken",
    "user", "business", "donationAccountAddress", "donationType", "createdAt", "updatedAt",
    "transactionIds",
}  # fmt: skip
INTENT_BODY = {"amount": 1200, "currency": "eur", "receiptEmail": "a@b.example",
               "description": "credits"}  # fmt: skip


async def _create(shop: Shop, headers: dict[str, str], **body: Any) -> Any:
    return await shop.client.post(f"{PURCHASE}/auth", json=body, headers=headers)


async def test_payment_intent_is_created_for_the_user_at_stripe(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    response = await shop.client.post(
        f"{PURCHASE}/payment-intent", json=INTENT_BODY, headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"paymentClientSecret", "paymentIntentId"}
    at_stripe = shop.stripe.snapshot(body["paymentIntentId"])
    assert body["paymentClientSecret"] == at_stripe["client_secret"]
    assert at_stripe["amount"] == 1200
    assert at_stripe["currency"] == "eur"
    assert at_stripe["receipt_email"] == "a@b.example"
    assert at_stripe["metadata"]["pers_user_id"] == profile["id"]
    assert at_stripe["metadata"]["pers_tenant_id"] == str(shop.economy.tenant.id)
    assert shop.stripe.owner[body["paymentIntentId"]] == shop.api_key


async def test_payment_intent_is_updated_and_canceled(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    intent = await shop.intent(headers)
    path = f"{PURCHASE}/payment-intent/{intent['paymentIntentId']}"
    updated = await shop.client.put(path, json={**INTENT_BODY, "amount": 700}, headers=headers)
    assert updated.status_code == 200, updated.text
    assert updated.json() == intent
    assert shop.stripe.snapshot(intent["paymentIntentId"])["amount"] == 700
    canceled = await shop.client.delete(path, headers=headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["paymentIntentId"] == intent["paymentIntentId"]
    assert shop.stripe.snapshot(intent["paymentIntentId"])["status"] == "canceled"
    problem(await shop.client.put(path, json=INTENT_BODY, headers=headers), 409,
            "PAYMENT_INTENT_NOT_PAYABLE")  # fmt: skip
    problem(await shop.client.delete(path, headers=headers), 409, "PAYMENT_INTENT_NOT_PAYABLE")


async def test_canceling_the_intent_cancels_its_purchase(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    purchase = await shop.purchase(headers)
    path = f"{PURCHASE}/payment-intent/{purchase['stripePaymentIntentId']}"
    assert (await shop.client.delete(path, headers=headers)).status_code == 200
    (listed,) = await shop.my_purchases(headers)
    assert listed["status"] == "CANCELED"


async def test_intent_used_by_a_purchase_cannot_change(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    purchase = await shop.purchase(headers)
    path = f"{PURCHASE}/payment-intent/{purchase['stripePaymentIntentId']}"
    response = await shop.client.put(path, json=INTENT_BODY, headers=headers)
    problem(response, 409, "PAYMENT_INTENT_HAS_PURCHASE")


async def test_another_users_or_tenants_intent_is_not_found(
    shop: Shop, other_tenant: TenantHandle
) -> None:
    owner, _ = await shop.economy.user()
    stranger, _ = await shop.economy.user()
    intent = await shop.intent(owner)
    path = f"{PURCHASE}/payment-intent/{intent['paymentIntentId']}"
    problem(await shop.client.put(path, json=INTENT_BODY, headers=stranger), 404,
            "PAYMENT_INTENT_NOT_FOUND")  # fmt: skip
    problem(await shop.client.delete(path, headers=stranger), 404, "PAYMENT_INTENT_NOT_FOUND")
    stolen = await _create(
        shop, stranger, quantity=1, paymentIntentId=intent["paymentIntentId"],
        purchaseTokenId=shop.purchase_token["id"],
    )  # fmt: skip
    problem(stolen, 404, "PAYMENT_INTENT_NOT_FOUND")
    missing = f"{PURCHASE}/payment-intent/pi_doesnotexist"
    problem(await shop.client.delete(missing, headers=owner), 404, "PAYMENT_INTENT_NOT_FOUND")
    # Another tenant's Stripe key does not find this tenant's intents at all.
    await configure_stripe(shop.client, other_tenant.admin, "sk_test_other", "whsec_other")
    other_economy = Economy(shop.client, other_tenant, {})
    allow = await shop.client.put(
        "/v1.7/tenant/admin", json={"allowJWTForUnauthenticatedUsers": True},
        headers=other_tenant.admin,
    )  # fmt: skip
    assert allow.status_code == 200
    other_user, _ = await other_economy.user()
    problem(await shop.client.delete(path, headers=other_user), 404, "PAYMENT_INTENT_NOT_FOUND")
    assert shop.stripe.snapshot(intent["paymentIntentId"])["status"] == "requires_payment_method"


async def test_purchase_is_priced_and_has_every_documented_field(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    intent = await shop.intent(headers, amount=1)
    response = await _create(
        shop, headers, quantity=12.5, paymentIntentId=intent["paymentIntentId"],
        purchaseTokenId=shop.purchase_token["id"],
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == PURCHASE_FIELDS | {"paymentClientSecret"}
    assert body["status"] == "PENDING"
    assert body["amount"] == 625  # 12.5 x 50 cents
    assert body["currency"] == "eur"
    assert body["quantity"] == 12.5
    assert body["stripePaymentIntentId"] == intent["paymentIntentId"]
    assert body["paymentClientSecret"] == intent["paymentClientSecret"]
    assert body["purchaseToken"] == shop.purchase_token
    assert body["user"]["id"] == profile["id"]
    assert body["business"] is None
    assert body["donationType"] is None
    assert body["donationAccountAddress"] is None
    assert body["transactionIds"] == []
    at_stripe = shop.stripe.snapshot(intent["paymentIntentId"])
    assert at_stripe["amount"] == 625
    assert at_stripe["metadata"]["pers_purchase_id"] == body["id"]
    (listed,) = await shop.my_purchases(headers)
    assert set(listed) == PURCHASE_FIELDS
    assert listed["id"] == body["id"]
    # Nothing is minted before Stripe reports the payment.
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0


async def test_one_purchase_per_intent(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    purchase = await shop.purchase(headers)
    again = await _create(
        shop, headers, quantity=1, paymentIntentId=purchase["stripePaymentIntentId"],
        purchaseTokenId=shop.purchase_token["id"],
    )  # fmt: skip
    problem(again, 409, "PAYMENT_INTENT_HAS_PURCHASE")


async def test_purchases_are_the_users_own(shop: Shop, other_tenant: TenantHandle) -> None:
    buyer, _ = await shop.economy.user()
    other, _ = await shop.economy.user()
    first = await shop.purchase(buyer)
    second = await shop.purchase(buyer)
    assert [p["id"] for p in await shop.my_purchases(buyer)] == [second["id"], first["id"]]
    assert await shop.my_purchases(other) == []
    paged = await shop.client.get(f"{PURCHASE}/auth?limit=1&page=2", headers=buyer)
    assert [p["id"] for p in paged.json()] == [first["id"]]
    assert (await shop.client.get(f"{PURCHASE}/auth", headers=shop.admin)).status_code == 403
    assert (
        await shop.client.get(f"{PURCHASE}/auth", headers=other_tenant.public)
    ).status_code == 401


@pytest.mark.parametrize(
    ("quantity", "status", "code"),
    [
        (0, 400, "VALIDATION_ERROR"),
        (-1, 400, "VALIDATION_ERROR"),
        ("abc", 400, "VALIDATION_ERROR"),
        (0.001, 400, "INVALID_QUANTITY"),  # the credit token has 2 decimals
        (0.01, 422, "AMOUNT_NOT_WHOLE_CENTS"),  # 0.5 cents
        (10_000_000, 400, "INVALID_QUANTITY"),  # above Stripe's largest charge
    ],
)
async def test_bad_quantities_are_refused(
    shop: Shop, quantity: Any, status: int, code: str
) -> None:
    headers, _ = await shop.economy.user()
    intent = await shop.intent(headers)
    response = await _create(
        shop, headers, quantity=quantity, paymentIntentId=intent["paymentIntentId"],
        purchaseTokenId=shop.purchase_token["id"],
    )  # fmt: skip
    problem(response, status, code)
    assert await shop.my_purchases(headers) == []


async def test_bad_purchase_bodies_are_400(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    base = {"quantity": 1, "paymentIntentId": "pi_x", "purchaseTokenId": shop.purchase_token["id"]}
    for body in (
        {k: v for k, v in base.items() if k != "paymentIntentId"},
        {**base, "purchaseTokenId": "nope"},
        {**base, "paymentIntentId": "pi x/../"},
        {**base, "donationAccountAddress": "0x123"},
        {**base, "unknown": 1},
    ):
        problem(await _create(shop, headers, **body), 400, "VALIDATION_ERROR")
    problem(await _create(shop, headers, **base, donationTypeId=1), 400, "DONATION_INCOMPLETE")


async def test_donations_need_a_known_type_and_a_business_that_receives_them(shop: Shop) -> None:
    await shop.client.post(
        f"{PURCHASE}/admin/donation/type", json={"percentage": 10, "id": 9}, headers=shop.admin
    )
    refuses = await shop.economy.business("Shop")
    headers, profile = await shop.economy.user()
    intent = await shop.intent(headers)
    base = {"quantity": 1, "paymentIntentId": intent["paymentIntentId"],
            "purchaseTokenId": shop.purchase_token["id"]}  # fmt: skip
    unknown_type = await _create(
        shop, headers, **base, donationTypeId=99, donationAccountAddress=refuses["accountAddress"]
    )
    problem(unknown_type, 404, "DONATION_TYPE_NOT_FOUND")
    not_allowed = await _create(
        shop, headers, **base, donationTypeId=9, donationAccountAddress=refuses["accountAddress"]
    )
    problem(not_allowed, 422, "DONATION_NOT_ALLOWED")
    a_user = await _create(
        shop, headers, **base, donationTypeId=9, donationAccountAddress=profile["accountAddress"]
    )
    problem(a_user, 422, "DONATION_NOT_ALLOWED")


async def test_inactive_or_deleted_purchase_tokens_cannot_be_bought(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    token_id = shop.purchase_token["id"]
    intent = await shop.intent(headers)
    body = {
        "quantity": 1,
        "paymentIntentId": intent["paymentIntentId"],
        "purchaseTokenId": token_id,
    }
    await shop.client.put(f"{PURCHASE}/admin/token/{token_id}", json={"isActive": False},
                          headers=shop.admin)  # fmt: skip
    problem(await _create(shop, headers, **body), 422, "PURCHASE_TOKEN_NOT_ACTIVE")
    await shop.client.delete(f"{PURCHASE}/admin/token/{token_id}", headers=shop.admin)
    problem(await _create(shop, headers, **body), 404, "PURCHASE_TOKEN_NOT_FOUND")


async def test_other_tenants_purchase_token_is_not_found(
    shop: Shop, other_tenant: TenantHandle
) -> None:
    allow = await shop.client.put(
        "/v1.7/tenant/admin", json={"allowJWTForUnauthenticatedUsers": True},
        headers=other_tenant.admin,
    )  # fmt: skip
    assert allow.status_code == 200
    await configure_stripe(shop.client, other_tenant.admin, "sk_test_other2", "whsec_o")
    other_user, _ = await Economy(shop.client, other_tenant, {}).user()
    intent = await shop.intent(other_user)
    response = await _create(
        shop, other_user, quantity=1, paymentIntentId=intent["paymentIntentId"],
        purchaseTokenId=shop.purchase_token["id"],
    )  # fmt: skip
    problem(response, 404, "PURCHASE_TOKEN_NOT_FOUND")


async def test_tenant_without_stripe_keys_gets_payments_not_configured(
    economy: Economy, fake_stripe: FakeStripe
) -> None:
    _, token = await make_catalog(economy.client, economy.admin, economy.credit["id"])
    headers, _ = await economy.user()
    intent = await economy.client.post(
        f"{PURCHASE}/payment-intent", json=INTENT_BODY, headers=headers
    )
    problem(intent, 422, "PAYMENTS_NOT_CONFIGURED")
    for response in (
        await economy.client.put(f"{PURCHASE}/payment-intent/pi_1", json=INTENT_BODY,
                                 headers=headers),
        await economy.client.delete(f"{PURCHASE}/payment-intent/pi_1", headers=headers),
        await economy.client.post(f"{PURCHASE}/auth", headers=headers,
                                  json={"quantity": 1, "paymentIntentId": "pi_1",
                                        "purchaseTokenId": token["id"]}),
    ):  # fmt: skip
        problem(response, 422, "PAYMENTS_NOT_CONFIGURED")
    assert fake_stripe.requests == []


async def test_a_key_stripe_refuses_is_payments_not_configured(shop: Shop) -> None:
    await configure_stripe(shop.client, shop.admin, "sk_bad_revoked", shop.webhook_secret)
    headers, _ = await shop.economy.user()
    response = await shop.client.post(
        f"{PURCHASE}/payment-intent", json=INTENT_BODY, headers=headers
    )
    problem(response, 422, "PAYMENTS_NOT_CONFIGURED")


async def test_unreachable_stripe_is_503(shop: Shop, fake_stripe: FakeStripe, runtime: Any) -> None:
    runtime.settings.stripe_api_base = "http://127.0.0.1:9"
    headers, _ = await shop.economy.user()
    response = await shop.client.post(
        f"{PURCHASE}/payment-intent", json=INTENT_BODY, headers=headers
    )
    problem(response, 503, "PAYMENT_PROVIDER_UNAVAILABLE")


async def test_payment_operations_are_for_logged_in_users(shop: Shop) -> None:
    public = shop.economy.tenant.public
    for method, path in (
        ("POST", f"{PURCHASE}/payment-intent"),
        ("PUT", f"{PURCHASE}/payment-intent/pi_1"),
        ("DELETE", f"{PURCHASE}/payment-intent/pi_1"),
        ("POST", f"{PURCHASE}/auth"),
    ):
        body = INTENT_BODY if method != "DELETE" else None
        assert (
            await shop.client.request(method, path, json=body, headers=public)
        ).status_code == 401
        as_admin = await shop.client.request(method, path, json=body, headers=shop.admin)
        assert as_admin.status_code == 403, as_admin.text


async def test_secrets_never_appear_in_purchase_answers(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    purchase = await shop.purchase(headers)
    tokens = await shop.client.get(f"{PURCHASE}/token", headers=shop.admin)
    mine = await shop.client.get(f"{PURCHASE}/auth", headers=headers)
    for text in (str(purchase), tokens.text, mine.text):
        assert shop.api_key not in text
        assert shop.webhook_secret not in text
