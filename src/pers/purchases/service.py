"""Buying credits by card: prices, payment intents, purchases and Stripe's webhook.

Flow: the user's client creates a payment intent (``POST /purchase/payment-intent``), then the
purchase for it (``POST /purchase/auth``): pers prices it (``quantity x conversionRate`` cents),
sets the intent to that amount and tags it with the tenant, user and purchase, and answers the
client secret the client pays with. Stripe then reports the outcome to the webhook, and
``payment_intent.succeeded`` mints the credits (PURCHASE) to the user, and the donation share to
the donation business, once.

Exactly once: every event id is recorded when handled (a redelivery is answered ``true`` and
changes nothing), and a purchase changes state only through conditional updates under its row
lock, so neither concurrent duplicate deliveries nor out-of-order ones mint twice or reopen a
final purchase.

Stripe is called inside the request (the client needs the intent's client secret in the
answer); the calls are idempotent reads or updates of one intent, so a retried request repeats
them harmlessly.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.businesses import service as businesses_service
from pers.businesses.errors import BusinessNotFound
from pers.businesses.models import Business
from pers.kit.amounts import AmountError, to_base_units
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.purchases import repository
from pers.purchases.errors import (
    AmountNotWholeCents,
    DonationIncomplete,
    DonationNotAllowed,
    DonationTypeExists,
    DonationTypeNotFound,
    InvalidQuantity,
    InvalidWebhookPayload,
    PaymentIntentAmountMismatch,
    PaymentIntentHasPurchase,
    PaymentIntentNotFound,
    PaymentIntentNotPayable,
    PaymentsNotConfigured,
    PurchaseNotYetRecorded,
    PurchaseTokenNotActive,
    PurchaseTokenNotErc20,
    PurchaseTokenNotFound,
    PurchaseTypeNotFound,
    WebhookTenantUnknown,
)
from pers.purchases.models import (
    Currency,
    DonationType,
    Purchase,
    PurchaseStatus,
    PurchaseToken,
    PurchaseType,
    StripeEvent,
)
from pers.purchases.stripe_gateway import (
    PAYABLE_STATUSES,
    Intent,
    StripeGateway,
    intent_of,
    verify_event,
)
from pers.runtime import Runtime
from pers.tenants import service as tenants_service
from pers.tokens import service as tokens_service
from pers.tokens.models import TokenType
from pers.tokens.service import TokenDetail
from pers.transactions import service as transactions_service
from pers.transactions.models import Transaction, TransactionType, TriggerProcessType
from pers.users import service as users_service
from pers.users.models import User

log = logging.getLogger(__name__)

# Stripe's largest amount for a charge in euros: 999,999.99.
MAX_AMOUNT_CENTS = 99_999_999
# Metadata pers writes on every payment intent it creates or prices.
META_TENANT = "pers_tenant_id"
META_USER = "pers_user_id"
META_ENVIRONMENT = "pers_environment"
META_PURCHASE = "pers_purchase_id"

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"
HANDLED_EVENTS = frozenset({SUCCEEDED, FAILED, CANCELED})
OPEN = (PurchaseStatus.PENDING, PurchaseStatus.FAILED)


@dataclass(frozen=True)
class PurchaseTokenRecord:
    row: PurchaseToken
    token: TokenDetail
    purchase_type: PurchaseType


@dataclass(frozen=True)
class PurchaseRecord:
    purchase: Purchase
    purchase_token: PurchaseTokenRecord
    user: User
    business: Business | None
    donation_type: DonationType | None
    client_secret: str | None = None


@dataclass(frozen=True)
class IntentAnswer:
    payment_intent_id: str
    client_secret: str | None


@dataclass(frozen=True)
class NewPurchase:
    quantity: Decimal
    payment_intent_id: str
    purchase_token_id: uuid.UUID
    donation_type_id: int | None = None
    donation_account_address: str | None = None


# --- Stripe access ----------------------------------------------------------------------------


async def _stripe_key(session: AsyncSession, rt: Runtime, ctx: RequestContext) -> str:
    view = tenants_service.view(rt, await tenants_service.get_by_id(session, ctx.tenant))
    if not view.stripe_api_key:
        raise PaymentsNotConfigured("the tenant has no stripeApiKey: an admin sets it on /tenant")
    return view.stripe_api_key


def _gateway(rt: Runtime, api_key: str) -> StripeGateway:
    return StripeGateway(api_key, rt.settings.stripe_api_base, rt.settings.stripe_timeout_seconds)


def _check_owner(ctx: RequestContext, intent: Intent) -> None:
    """A user manages only the intents made for it; others' (and other tenants', which Stripe
    does not even find with this tenant's key) are not found."""
    owner = intent.metadata.get(META_USER)
    tenant = intent.metadata.get(META_TENANT)
    if (owner is not None and owner != str(users_service.own_id(ctx))) or (
        tenant is not None and tenant != str(ctx.tenant)
    ):
        raise PaymentIntentNotFound(f"no payment intent {intent.id}")


# --- purchase and donation types --------------------------------------------------------------


async def create_purchase_type(
    session: AsyncSession, ctx: RequestContext, *, conversion_rate: Decimal, currency: Currency
) -> PurchaseType:
    row = PurchaseType(
        tenant_id=ctx.tenant, conversion_rate=conversion_rate, currency=currency, created_at=ctx.now
    )
    await repository.add(session, row)
    return row


async def create_donation_type(
    session: AsyncSession, ctx: RequestContext, *, type_id: int, percentage: Decimal
) -> DonationType:
    row = DonationType(tenant_id=ctx.tenant, id=type_id, percentage=percentage, created_at=ctx.now)
    if not await repository.add_donation_type(session, row):
        raise DonationTypeExists(f"donation type {type_id} exists")
    return row


async def list_donation_types(session: AsyncSession, ctx: RequestContext) -> list[DonationType]:
    return await repository.list_donation_types(session, ctx.tenant)


# --- purchase tokens --------------------------------------------------------------------------


async def _token_records(
    session: AsyncSession,
    ctx: RequestContext,
    rows: Sequence[PurchaseToken],
    env: Environment,
) -> list[PurchaseTokenRecord]:
    """Purchase tokens whose token exists in ``env`` (others are left out)."""
    tokens = await tokens_service.token_details(session, ctx, [r.token_id for r in rows], env=env)
    types = await repository.get_types(session, ctx.tenant, [r.purchase_type_id for r in rows])
    return [
        PurchaseTokenRecord(r, tokens[r.token_id], types[r.purchase_type_id])
        for r in rows
        if r.token_id in tokens
    ]


async def _token_record(
    session: AsyncSession, ctx: RequestContext, row: PurchaseToken
) -> PurchaseTokenRecord:
    records = await _token_records(session, ctx, [row], ctx.env)
    if not records:
        raise PurchaseTokenNotFound(f"purchase token {row.id} has no token on {ctx.env}")
    return records[0]


async def create_purchase_token(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    token_id: uuid.UUID,
    description: str,
    purchase_type_id: int,
) -> PurchaseTokenRecord:
    token = await tokens_service.get_token(session, ctx, token_id)
    if token.type is not TokenType.ERC20:
        raise PurchaseTokenNotErc20(f"token {token_id} is {token.type.value}, not ERC20")
    if await repository.get_type(session, ctx.tenant, purchase_type_id) is None:
        raise PurchaseTypeNotFound(f"no purchase type {purchase_type_id}")
    row = PurchaseToken(
        tenant_id=ctx.tenant, id=uuid7(), token_id=token.id, purchase_type_id=purchase_type_id,
        description=description, is_active=True, created_at=ctx.now, updated_at=ctx.now,
    )  # fmt: skip
    await repository.add(session, row)
    return await _token_record(session, ctx, row)


async def _require_token(
    session: AsyncSession, ctx: RequestContext, purchase_token_id: uuid.UUID, *, lock: bool
) -> PurchaseToken:
    row = await repository.get_token(session, ctx.tenant, purchase_token_id, for_update=lock)
    if row is None:
        raise PurchaseTokenNotFound(f"no purchase token {purchase_token_id}")
    return row


async def update_purchase_token(
    session: AsyncSession,
    ctx: RequestContext,
    purchase_token_id: uuid.UUID,
    *,
    description: str | None,
    is_active: bool | None,
) -> PurchaseTokenRecord:
    row = await _require_token(session, ctx, purchase_token_id, lock=True)
    if description is not None:
        row.description = description
    if is_active is not None:
        row.is_active = is_active
    row.updated_at = ctx.now
    await session.flush()
    return await _token_record(session, ctx, row)


async def delete_purchase_token(
    session: AsyncSession, ctx: RequestContext, purchase_token_id: uuid.UUID
) -> bool:
    """Taken off sale and out of every list; purchases made with it keep showing it."""
    row = await _require_token(session, ctx, purchase_token_id, lock=True)
    row.deleted_at = ctx.now
    row.is_active = False
    row.updated_at = ctx.now
    await session.flush()
    return True


async def list_purchase_tokens(
    session: AsyncSession, ctx: RequestContext, *, active: bool | None
) -> list[PurchaseTokenRecord]:
    """Admins: every purchase token, or those with ``isActive`` = ``active``. Everyone else:
    the ones on sale (active, with an active token in the request's environment)."""
    is_admin = ctx.principal.kind is PrincipalKind.ADMIN
    rows = await repository.list_tokens(session, ctx.tenant, active=active if is_admin else True)
    records = await _token_records(session, ctx, rows, ctx.env)
    if not is_admin:
        records = [r for r in records if r.token.token.is_active]
    return records


# --- payment intents --------------------------------------------------------------------------


async def create_payment_intent(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    amount: int,
    currency: Currency,
    receipt_email: str | None,
    description: str | None,
) -> IntentAnswer:
    user_id = users_service.own_id(ctx)
    key = await _stripe_key(session, rt, ctx)
    metadata = {META_TENANT: str(ctx.tenant), META_USER: str(user_id),
                META_ENVIRONMENT: ctx.env.value}  # fmt: skip
    async with _gateway(rt, key) as stripe_api:
        intent = await stripe_api.create(
            amount=amount, currency=currency.value, receipt_email=receipt_email,
            description=description, metadata=metadata,
        )  # fmt: skip
    return IntentAnswer(intent.id, intent.client_secret)


async def update_payment_intent(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    intent_id: str,
    *,
    amount: int,
    currency: Currency,
    receipt_email: str | None,
    description: str | None,
) -> IntentAnswer:
    """Change an intent that no purchase uses yet (a purchase fixes its intent's amount)."""
    key = await _stripe_key(session, rt, ctx)
    if await repository.get_purchase_by_intent(session, ctx.tenant, intent_id) is not None:
        raise PaymentIntentHasPurchase(f"a purchase uses payment intent {intent_id}")
    async with _gateway(rt, key) as stripe_api:
        intent = await stripe_api.retrieve(intent_id)
        _check_owner(ctx, intent)
        if intent.status not in PAYABLE_STATUSES:
            raise PaymentIntentNotPayable(f"payment intent {intent_id} is {intent.status}")
        params: dict[str, Any] = {"amount": amount, "currency": currency.value}
        if receipt_email is not None:
            params["receipt_email"] = receipt_email
        if description is not None:
            params["description"] = description
        intent = await stripe_api.update(intent_id, **params)
    return IntentAnswer(intent.id, intent.client_secret)


async def cancel_payment_intent(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, intent_id: str
) -> IntentAnswer:
    """Cancel at Stripe; a purchase using the intent is closed as CANCELED at once (the
    webhook's later ``payment_intent.canceled`` then changes nothing)."""
    key = await _stripe_key(session, rt, ctx)
    async with _gateway(rt, key) as stripe_api:
        intent = await stripe_api.retrieve(intent_id)
        _check_owner(ctx, intent)
        if intent.status not in PAYABLE_STATUSES and intent.status != "processing":
            raise PaymentIntentNotPayable(f"payment intent {intent_id} is {intent.status}")
        intent = await stripe_api.cancel(intent_id)
    purchase = await repository.get_purchase_by_intent(
        session, ctx.tenant, intent_id, for_update=True
    )
    if purchase is not None and intent.status == "canceled":
        await repository.transition(
            session, ctx.tenant, purchase.id, allowed_from=OPEN, to=PurchaseStatus.CANCELED,
            now=ctx.now, failure_reason="canceled",
        )  # fmt: skip
    return IntentAnswer(intent.id, intent.client_secret)


# --- purchases --------------------------------------------------------------------------------


def price_cents(quantity: Decimal, conversion_rate: Decimal) -> int:
    """``quantity x conversionRate``, which must be a whole number of cents."""
    with localcontext() as exact:
        exact.prec = 160
        total = quantity * conversion_rate
    if total != total.to_integral_value():
        raise AmountNotWholeCents(
            f"{quantity} x {conversion_rate} = {total} cents is not a whole number of cents",
            amount=float(total),
        )
    cents = int(total)
    if cents <= 0:
        raise InvalidQuantity("the purchase must cost at least one cent")
    if cents > MAX_AMOUNT_CENTS:
        raise InvalidQuantity(f"the purchase would cost {cents} cents; at most {MAX_AMOUNT_CENTS}")
    return cents


def donation_share(units: int, percentage: Decimal) -> int:
    """The donation's base units: ``percentage`` % of the purchase, rounded down."""
    with localcontext() as exact:
        exact.prec = 160
        share = (Decimal(units) * percentage / 100).to_integral_value(rounding=ROUND_FLOOR)
    return int(share)


async def _donation(
    session: AsyncSession, ctx: RequestContext, request: NewPurchase
) -> tuple[DonationType | None, Business | None]:
    if request.donation_type_id is None and request.donation_account_address is None:
        return None, None
    if request.donation_type_id is None or request.donation_account_address is None:
        missing = "donationTypeId" if request.donation_type_id is None else "donationAccountAddress"
        raise DonationIncomplete(
            f"send {missing} too",
            errors=[{"field": missing, "message": "required with a donation", "type": "missing"}],
        )
    types = await repository.get_donation_types(session, ctx.tenant, [request.donation_type_id])
    donation_type = types.get(request.donation_type_id)
    if donation_type is None:
        raise DonationTypeNotFound(f"no donation type {request.donation_type_id}")
    try:
        view = await businesses_service.get_business_by_address(
            session, ctx, request.donation_account_address
        )
    except BusinessNotFound:
        raise DonationNotAllowed(
            f"{request.donation_account_address} is no business of this tenant"
        ) from None
    if not view.is_active or not view.can_receive_donation:
        raise DonationNotAllowed(f"business {view.id} cannot receive donations")
    (business,) = await businesses_service.businesses_by_ids(session, ctx, [view.id])
    return donation_type, business


async def create_purchase(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, request: NewPurchase
) -> PurchaseRecord:
    """Price the purchase, fix its intent's amount at Stripe and record it PENDING. An intent
    that already succeeded (for exactly this amount) completes the purchase at once."""
    user_id = users_service.own_id(ctx)
    key = await _stripe_key(session, rt, ctx)
    token_row = await _require_token(session, ctx, request.purchase_token_id, lock=False)
    if not token_row.is_active:
        raise PurchaseTokenNotActive(f"purchase token {token_row.id} is not on sale")
    token_record = await _token_record(session, ctx, token_row)
    token = token_record.token.token
    if not token.is_active:
        raise PurchaseTokenNotActive(f"token {token.id} is not active on {ctx.env}")
    purchase_type = token_record.purchase_type
    try:
        units = to_base_units(request.quantity, token.decimals)
    except AmountError as exc:
        raise InvalidQuantity(str(exc)) from exc
    if units <= 0:
        raise InvalidQuantity("quantity must be above 0")
    amount = price_cents(request.quantity, purchase_type.conversion_rate)
    donation_type, business = await _donation(session, ctx, request)
    donation_units = 0 if donation_type is None else donation_share(units, donation_type.percentage)
    if await repository.get_purchase_by_intent(session, ctx.tenant, request.payment_intent_id):
        raise PaymentIntentHasPurchase(
            f"a purchase uses payment intent {request.payment_intent_id}"
        )

    purchase_id = uuid7()
    currency = purchase_type.currency
    async with _gateway(rt, key) as stripe_api:
        intent = await stripe_api.retrieve(request.payment_intent_id)
        _check_owner(ctx, intent)
        changes: dict[str, Any] = {}
        if intent.status == "succeeded":
            if intent.amount_received != amount or intent.currency != currency.value:
                raise PaymentIntentAmountMismatch(
                    f"the intent was paid {intent.amount_received} {intent.currency}; the "
                    f"purchase costs {amount} {currency.value}",
                    paid=intent.amount_received, amount=amount,
                )  # fmt: skip
        elif intent.amount != amount or intent.currency != currency.value:
            if intent.status not in PAYABLE_STATUSES:
                raise PaymentIntentNotPayable(
                    f"payment intent {intent.id} is {intent.status}; its amount cannot change"
                )
            changes = {"amount": amount, "currency": currency.value}
        if intent.status == "canceled":
            raise PaymentIntentNotPayable(f"payment intent {intent.id} is canceled")
        metadata = {META_TENANT: str(ctx.tenant), META_USER: str(user_id),
                    META_ENVIRONMENT: ctx.env.value, META_PURCHASE: str(purchase_id)}  # fmt: skip
        intent = await stripe_api.update(intent.id, metadata=metadata, **changes)

    purchase = Purchase(
        tenant_id=ctx.tenant, id=purchase_id, environment=ctx.env, user_id=user_id,
        purchase_token_id=token_row.id, token_id=token.id,
        stripe_payment_intent_id=intent.id, status=PurchaseStatus.PENDING, amount=amount,
        currency=currency, quantity=request.quantity,
        conversion_rate=purchase_type.conversion_rate, units=units,
        donation_type_id=None if donation_type is None else donation_type.id,
        donation_percentage=None if donation_type is None else donation_type.percentage,
        donation_account_address=None if business is None else business.account_address,
        donation_business_id=None if business is None else business.id,
        donation_units=donation_units, transaction_ids=[], failure_reason=None,
        created_at=ctx.now, updated_at=ctx.now,
    )  # fmt: skip
    await repository.add(session, purchase)
    if intent.status == "succeeded":
        await _complete(session, rt, ctx, purchase)
    users = await users_service.users_by_ids(session, ctx, [user_id])
    return PurchaseRecord(
        purchase, token_record, users[user_id], business, donation_type, intent.client_secret
    )


async def my_purchases(
    session: AsyncSession, ctx: RequestContext, *, limit: int, offset: int
) -> list[PurchaseRecord]:
    """The user's purchases in the request's environment, newest first."""
    user_id = users_service.own_id(ctx)
    rows = await repository.list_purchases(
        session, ctx.tenant, ctx.env, user_id, limit=limit, offset=offset
    )
    tokens = await repository.get_tokens(session, ctx.tenant, [p.purchase_token_id for p in rows])
    token_records = {
        r.row.id: r for r in await _token_records(session, ctx, list(tokens.values()), ctx.env)
    }
    users = await users_service.users_by_ids(session, ctx, [user_id])
    businesses = {
        b.id: b
        for b in await businesses_service.businesses_by_ids(
            session, ctx, [p.donation_business_id for p in rows if p.donation_business_id]
        )
    }
    donation_types = await repository.get_donation_types(
        session, ctx.tenant, [p.donation_type_id for p in rows if p.donation_type_id is not None]
    )
    return [
        PurchaseRecord(
            purchase=p,
            purchase_token=token_records[p.purchase_token_id],
            user=users[user_id],
            business=businesses.get(p.donation_business_id) if p.donation_business_id else None,
            donation_type=None
            if p.donation_type_id is None
            else donation_types.get(p.donation_type_id),
        )
        for p in rows
        if p.purchase_token_id in token_records
    ]


# --- completing a purchase --------------------------------------------------------------------


async def _complete(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, purchase: Purchase
) -> list[Transaction]:
    """Mark the purchase SUCCEEDED and mint its credits, if it is still open; the caller holds
    the purchase's row (its insert, or its lock)."""
    if not await repository.transition(
        session, ctx.tenant, purchase.id, allowed_from=OPEN, to=PurchaseStatus.SUCCEEDED,
        now=ctx.now, failure_reason=None,
    ):  # fmt: skip
        return []
    token = await tokens_service.get_token(
        session, ctx, purchase.token_id, env=purchase.environment
    )
    minted: list[Transaction] = []
    user_units = purchase.units - purchase.donation_units
    if user_units > 0:
        user = await users_service.get_user_view(session, ctx, purchase.user_id)
        minted.append(
            await _mint(session, rt, ctx, token, user_units, purchase,
                        transactions_service.user_party(user))
        )  # fmt: skip
    if purchase.donation_units > 0 and purchase.donation_business_id is not None:
        (business,) = await businesses_service.businesses_by_ids(
            session, ctx, [purchase.donation_business_id]
        )
        minted.append(
            await _mint(session, rt, ctx, token, purchase.donation_units, purchase,
                        transactions_service.business_party(businesses_service.view_of(business)),
                        engaged=business.id)
        )  # fmt: skip
    await repository.transition(
        session, ctx.tenant, purchase.id, allowed_from=[PurchaseStatus.SUCCEEDED],
        to=PurchaseStatus.SUCCEEDED, now=ctx.now, transaction_ids=[t.id for t in minted],
    )  # fmt: skip
    await session.refresh(purchase)
    return minted


async def _mint(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    token: tokens_service.TokenView,
    amount: int,
    purchase: Purchase,
    recipient: transactions_service.Party,
    *,
    engaged: uuid.UUID | None = None,
) -> Transaction:
    entry_id = uuid7()
    holding = await transactions_service.mint_holding(session, ctx, token, None, entry_id)
    return await transactions_service.move(
        session, rt, ctx, kind=TransactionType.MINT, trigger=TriggerProcessType.PURCHASE,
        token=token, holding=holding, amount=amount,
        sender=transactions_service.issuer_party(rt, ctx), recipient=recipient,
        trigger_process_id=str(purchase.id), engaged_business_id=engaged, entry_id=entry_id,
    )  # fmt: skip


# --- the Stripe webhook -----------------------------------------------------------------------


def _tenant_of(event: dict[str, Any], hint: str | None) -> uuid.UUID:
    """The tenant named by ``?tenantId=`` on the endpoint URL, or else by the metadata pers puts
    on every intent it makes. Only routing: the event is trusted after the signature check with
    that tenant's secret."""
    raw = hint
    if raw is None:
        obj = (event.get("data") or {}).get("object") or {}
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        raw = metadata.get(META_TENANT) if isinstance(metadata, dict) else None
    if not isinstance(raw, str):
        raise WebhookTenantUnknown(
            "no tenant: add ?tenantId=<tenant id> to the webhook URL, or send events of intents "
            "pers created"
        )
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise WebhookTenantUnknown("tenantId is not a tenant id") from None


async def handle_stripe_event(
    session: AsyncSession,
    rt: Runtime,
    *,
    payload: bytes,
    signature: str | None,
    tenant_hint: str | None,
    request_id: str,
) -> bool:
    try:
        unverified = json.loads(payload)
    except ValueError:
        raise InvalidWebhookPayload("the body is not JSON") from None
    if not isinstance(unverified, dict):
        raise InvalidWebhookPayload("the body is not a Stripe event")
    tenant_id = _tenant_of(unverified, tenant_hint)
    if not await tenants_service.bind_tenant(session, tenant_id):
        raise WebhookTenantUnknown("no such tenant")
    view = tenants_service.view(rt, await tenants_service.get_by_id(session, tenant_id))
    if not view.stripe_webhook_secret:
        raise PaymentsNotConfigured("the tenant has no stripeWebhookSecret")
    event = verify_event(payload, signature, view.stripe_webhook_secret)

    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if event_type not in HANDLED_EVENTS or not event_id or not isinstance(obj, dict):
        return True
    intent_id = str(obj.get("id") or "")
    now = rt.clock.now()
    if await repository.event_seen(session, tenant_id, event_id):
        log.info("Stripe event %s seen before; nothing to do", event_id)
        return True

    purchase = await repository.get_purchase_by_intent(
        session, tenant_id, intent_id, for_update=True
    )
    if purchase is None:
        if event_type == SUCCEEDED:
            # Paid before pers recorded the purchase: answer an error so Stripe redelivers;
            # nothing of this attempt is kept, so the redelivery is handled in full.
            raise PurchaseNotYetRecorded(
                f"no purchase uses payment intent {intent_id} yet", paymentIntentId=intent_id
            )
        outcome = "no_purchase"
    else:
        ctx = RequestContext(
            tenant_id=tenant_id, environment=purchase.environment,
            principal=Principal(PrincipalKind.SYSTEM), now=now, request_id=request_id,
        )  # fmt: skip
        outcome = await _apply(session, rt, ctx, purchase, event_type, obj)
    await repository.record_event(
        session,
        StripeEvent(
            tenant_id=tenant_id, event_id=event_id, event_type=event_type,
            payment_intent_id=intent_id or None, outcome=outcome, received_at=now,
        ),
    )  # fmt: skip
    return True


async def _apply(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    purchase: Purchase,
    event_type: str,
    obj: dict[str, Any],
) -> str:
    """What the event does to the (locked) purchase: its outcome, for the event record."""
    intent = intent_of(obj)
    if event_type == SUCCEEDED:
        if purchase.status not in OPEN:
            return f"ignored_{purchase.status.value.lower()}"
        if intent.amount_received != purchase.amount or intent.currency != purchase.currency.value:
            log.warning(
                "purchase %s: intent %s received %s %s, the purchase costs %s %s; not minted",
                purchase.id, intent.id, intent.amount_received, intent.currency,
                purchase.amount, purchase.currency.value,
            )  # fmt: skip
            await repository.transition(
                session, ctx.tenant, purchase.id, allowed_from=OPEN, to=purchase.status,
                now=ctx.now, failure_reason="amount_mismatch",
            )  # fmt: skip
            return "amount_mismatch"
        await _complete(session, rt, ctx, purchase)
        return "minted"
    if event_type == FAILED:
        changed = await repository.transition(
            session, ctx.tenant, purchase.id, allowed_from=[PurchaseStatus.PENDING],
            to=PurchaseStatus.FAILED, now=ctx.now, failure_reason=intent.last_error or "failed",
        )  # fmt: skip
        return "failed" if changed else f"ignored_{purchase.status.value.lower()}"
    changed = await repository.transition(
        session, ctx.tenant, purchase.id, allowed_from=OPEN, to=PurchaseStatus.CANCELED,
        now=ctx.now, failure_reason="canceled",
    )  # fmt: skip
    return "canceled" if changed else f"ignored_{purchase.status.value.lower()}"
