"""The Stripe webhook: signatures, exactly-once minting, duplicates, early and out-of-order
events."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.conftest import TenantHandle
from tests.purchases.conftest import WEBHOOK, Shop, configure_stripe, event, sign
from tests.transactions.conftest import problem


async def _received(shop: Shop, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await shop.client.get("/v1.7/transaction/auth/recipient", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body if isinstance(body, list) else body["data"]  # type: ignore[no-any-return]


async def _status(shop: Shop, headers: dict[str, str]) -> str:
    (listed,) = await shop.my_purchases(headers)
    return str(listed["status"])


async def test_succeeded_event_mints_the_purchased_credits(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=10)
    assert purchase["status"] == "PENDING"
    assert purchase["amount"] == 500
    paid = shop.stripe.pay(purchase["stripePaymentIntentId"])
    response = await shop.deliver(event("payment_intent.succeeded", paid))
    assert response.status_code == 200, response.text
    assert response.json() is True
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 10
    (listed,) = await shop.my_purchases(headers)
    assert listed["status"] == "SUCCEEDED"
    (tx_id,) = listed["transactionIds"]
    (tx,) = await _received(shop, headers)
    assert tx["id"] == tx_id
    assert tx["type"] == "MINT"
    assert tx["triggerProcessType"] == "PURCHASE"
    assert tx["triggerProcessId"] == purchase["id"]
    assert tx["amount"] == 10


async def test_succeeded_event_for_another_amount_mints_nothing(shop: Shop) -> None:
    """Stripe says the intent was paid, but not the purchase's price (the intent was changed
    behind pers' back): nothing is minted, the purchase stays open, the event is answered (a
    redelivery would not change it)."""
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=10)
    paid = shop.stripe.pay(purchase["stripePaymentIntentId"], amount=purchase["amount"] - 1)
    response = await shop.deliver(event("payment_intent.succeeded", paid))
    assert response.status_code == 200, response.text
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0
    assert await _received(shop, headers) == []
    (listed,) = await shop.my_purchases(headers)
    assert listed["status"] == "PENDING"
    assert listed["transactionIds"] == []
    again = await shop.deliver(event("payment_intent.succeeded", paid))
    assert again.status_code == 200, again.text
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0


async def test_bad_signature_is_400_and_mints_nothing(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers)
    payload = event("payment_intent.succeeded", shop.stripe.pay(purchase["stripePaymentIntentId"]))
    wrong_secret = await shop.deliver(payload, secret="whsec_not_the_tenants")
    problem(wrong_secret, 400, "INVALID_STRIPE_SIGNATURE")
    missing = await shop.client.post(WEBHOOK, content=payload)
    problem(missing, 400, "INVALID_STRIPE_SIGNATURE")
    tampered = payload.replace(b'"amount_received": 500', b'"amount_received": 50000')
    assert tampered != payload
    forged = await shop.client.post(
        WEBHOOK, content=tampered, headers={"Stripe-Signature": sign(payload, shop.webhook_secret)}
    )
    problem(forged, 400, "INVALID_STRIPE_SIGNATURE")
    stale = await shop.client.post(
        WEBHOOK,
        content=payload,
        headers={"Stripe-Signature": sign(payload, shop.webhook_secret, int(time.time()) - 3600)},
    )
    problem(stale, 400, "INVALID_STRIPE_SIGNATURE")
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0
    assert await _status(shop, headers) == "PENDING"


async def test_replayed_event_changes_nothing(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=4)
    payload = event("payment_intent.succeeded", shop.stripe.pay(purchase["stripePaymentIntentId"]))
    for _ in range(3):
        response = await shop.deliver(payload)
        assert response.status_code == 200, response.text
        assert response.json() is True
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 4
    assert len(await _received(shop, headers)) == 1


async def test_another_succeeded_event_for_the_same_intent_mints_nothing_more(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=4)
    paid = shop.stripe.pay(purchase["stripePaymentIntentId"])
    for _ in range(2):
        assert (await shop.deliver(event("payment_intent.succeeded", paid))).status_code == 200
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 4


async def test_concurrent_duplicate_deliveries_mint_once(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=3)
    paid = shop.stripe.pay(purchase["stripePaymentIntentId"])
    same = event("payment_intent.succeeded", paid)
    payloads = [same] * 8 + [event("payment_intent.succeeded", paid) for _ in range(4)]
    responses = await asyncio.gather(*(shop.deliver(p) for p in payloads))
    assert [r.status_code for r in responses] == [200] * len(payloads), [
        r.text for r in responses if r.status_code != 200
    ]
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 3
    assert len(await _received(shop, headers)) == 1


async def test_succeeded_before_the_purchase_exists_is_refused_until_it_does(shop: Shop) -> None:
    """Stripe redelivers an event answered with an error; the redelivery after the purchase
    is recorded mints."""
    headers, profile = await shop.economy.user()
    intent = await shop.intent(headers, amount=500)
    intent_id = intent["paymentIntentId"]
    early = shop.stripe.snapshot(intent_id)
    early.update(status="succeeded", amount_received=500)
    payload = event("payment_intent.succeeded", early)
    body = problem(await shop.deliver(payload), 409, "PURCHASE_NOT_YET_RECORDED")
    assert body["paymentIntentId"] == intent_id
    created = await shop.client.post(
        "/v1.7/purchase/auth",
        json={"quantity": 10, "paymentIntentId": intent_id,
              "purchaseTokenId": shop.purchase_token["id"]},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "PENDING"
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0
    redelivered = await shop.deliver(payload)
    assert redelivered.status_code == 200, redelivered.text
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 10
    assert (await shop.deliver(payload)).status_code == 200
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 10


async def test_purchase_of_an_intent_already_paid_completes_at_once(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    intent = await shop.intent(headers, amount=250)
    paid = shop.stripe.pay(intent["paymentIntentId"])
    early = await shop.deliver(event("payment_intent.succeeded", paid))
    problem(early, 409, "PURCHASE_NOT_YET_RECORDED")
    created = await shop.client.post(
        "/v1.7/purchase/auth",
        json={"quantity": 5, "paymentIntentId": intent["paymentIntentId"],
              "purchaseTokenId": shop.purchase_token["id"]},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "SUCCEEDED"
    assert len(created.json()["transactionIds"]) == 1
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 5
    redelivered = await shop.deliver(event("payment_intent.succeeded", paid))
    assert redelivered.status_code == 200
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 5


async def test_paid_intent_for_another_amount_cannot_buy(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    intent = await shop.intent(headers, amount=100)
    shop.stripe.pay(intent["paymentIntentId"])
    response = await shop.client.post(
        "/v1.7/purchase/auth",
        json={"quantity": 5, "paymentIntentId": intent["paymentIntentId"],
              "purchaseTokenId": shop.purchase_token["id"]},
        headers=headers,
    )  # fmt: skip
    problem(response, 422, "PAYMENT_INTENT_AMOUNT_MISMATCH")
    assert await shop.my_purchases(headers) == []


async def test_failed_payment_closes_the_purchase_and_a_later_success_still_mints(
    shop: Shop,
) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=2)
    intent_id = purchase["stripePaymentIntentId"]
    failed = await shop.deliver(
        event("payment_intent.payment_failed", shop.stripe.decline(intent_id))
    )
    assert failed.status_code == 200, failed.text
    assert await _status(shop, headers) == "FAILED"
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0
    retried = await shop.deliver(event("payment_intent.succeeded", shop.stripe.pay(intent_id)))
    assert retried.status_code == 200
    assert await _status(shop, headers) == "SUCCEEDED"
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 2


async def test_out_of_order_failure_after_success_changes_nothing(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=2)
    intent_id = purchase["stripePaymentIntentId"]
    declined = event("payment_intent.payment_failed", shop.stripe.decline(intent_id))
    assert (
        await shop.deliver(event("payment_intent.succeeded", shop.stripe.pay(intent_id)))
    ).status_code == 200
    assert (await shop.deliver(declined)).status_code == 200
    assert await _status(shop, headers) == "SUCCEEDED"
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 2


async def test_canceled_event_closes_the_purchase_for_good(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=2)
    intent = shop.stripe.snapshot(purchase["stripePaymentIntentId"])
    intent["status"] = "canceled"
    assert (await shop.deliver(event("payment_intent.canceled", intent))).status_code == 200
    assert await _status(shop, headers) == "CANCELED"
    late = dict(intent, status="succeeded", amount_received=intent["amount"])
    assert (await shop.deliver(event("payment_intent.succeeded", late))).status_code == 200
    assert await _status(shop, headers) == "CANCELED"
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0


async def test_other_event_types_are_acknowledged_and_ignored(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    purchase = await shop.purchase(headers)
    intent = shop.stripe.snapshot(purchase["stripePaymentIntentId"])
    response = await shop.deliver(event("payment_intent.created", intent))
    assert response.status_code == 200
    assert response.json() is True
    assert await _status(shop, headers) == "PENDING"


async def test_webhook_routes_by_tenant_id_in_the_url(shop: Shop) -> None:
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=1)
    paid = shop.stripe.pay(purchase["stripePaymentIntentId"])
    paid["metadata"] = {}
    payload = event("payment_intent.succeeded", paid)
    problem(await shop.deliver(payload), 400, "WEBHOOK_TENANT_UNKNOWN")
    routed = await shop.deliver(payload, query=f"?tenantId={shop.economy.tenant.id}")
    assert routed.status_code == 200, routed.text
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 1
    problem(await shop.deliver(payload, query="?tenantId=nope"), 400, "WEBHOOK_TENANT_UNKNOWN")
    unknown = "?tenantId=00000000-0000-0000-0000-000000000001"
    problem(await shop.deliver(payload, query=unknown), 400, "WEBHOOK_TENANT_UNKNOWN")


async def test_another_tenants_secret_or_route_does_not_verify(
    shop: Shop, other_tenant: TenantHandle
) -> None:
    await configure_stripe(shop.client, other_tenant.admin, "sk_test_other", "whsec_other")
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(headers, quantity=1)
    payload = event("payment_intent.succeeded", shop.stripe.pay(purchase["stripePaymentIntentId"]))
    problem(await shop.deliver(payload, secret="whsec_other"), 400, "INVALID_STRIPE_SIGNATURE")
    # Signed by the other tenant, routed to it: its ledger has no such purchase.
    other = await shop.deliver(payload, secret="whsec_other", query=f"?tenantId={other_tenant.id}")
    problem(other, 409, "PURCHASE_NOT_YET_RECORDED")
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 0


async def test_tenant_without_a_webhook_secret_is_422(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    purchase = await shop.purchase(headers)
    payload = event("payment_intent.succeeded", shop.stripe.pay(purchase["stripePaymentIntentId"]))
    cleared = await shop.client.put(
        "/v1.7/tenant/admin", json={"stripeWebhookSecret": None}, headers=shop.admin
    )
    assert cleared.status_code == 200, cleared.text
    problem(await shop.deliver(payload), 422, "PAYMENTS_NOT_CONFIGURED")


async def test_malformed_webhook_bodies_are_400(shop: Shop) -> None:
    problem(await shop.client.post(WEBHOOK, content=b"not json"), 400, "INVALID_WEBHOOK_PAYLOAD")
    problem(await shop.client.post(WEBHOOK, content=b"[1]"), 400, "INVALID_WEBHOOK_PAYLOAD")
    body = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}).encode()
    problem(await shop.client.post(WEBHOOK, content=body), 400, "WEBHOOK_TENANT_UNKNOWN")


async def test_donation_share_is_minted_to_the_business(shop: Shop) -> None:
    business = await shop.economy.business("Charity", canReceiveDonation=True)
    created = await shop.client.post(
        "/v1.7/purchase/admin/donation/type", json={"percentage": 10, "id": 7}, headers=shop.admin
    )
    assert created.status_code == 201, created.text
    headers, profile = await shop.economy.user()
    purchase = await shop.purchase(
        headers, quantity=10, donationTypeId=7, donationAccountAddress=business["accountAddress"]
    )
    assert purchase["amount"] == 500
    assert purchase["donationType"] == {"percentage": 10, "id": 7}
    assert purchase["donationAccountAddress"] == business["accountAddress"]
    assert purchase["business"]["id"] == business["id"]
    paid = shop.stripe.pay(purchase["stripePaymentIntentId"])
    assert (await shop.deliver(event("payment_intent.succeeded", paid))).status_code == 200
    assert await shop.economy.credit_balance(profile["accountAddress"]) == 9
    assert await shop.economy.credit_balance(business["accountAddress"]) == 1
    (listed,) = await shop.my_purchases(headers)
    assert len(listed["transactionIds"]) == 2
