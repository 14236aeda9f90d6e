"""Purchase module (seed 001): 13 operations under ``/purchase``: purchase types, purchase
tokens, donation types, Stripe payment intents, the user's purchases and the Stripe webhook."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.businesses.http_v1 import BusinessRead, business_read
from pers.kit.amounts import WireAmount, WireDecimal
from pers.kit.schemas import Email, EvmAddress, WireInput, WireModel
from pers.purchases import service
from pers.purchases.models import Currency, DonationType, PurchaseStatus, PurchaseType
from pers.purchases.service import IntentAnswer, PurchaseRecord, PurchaseTokenRecord
from pers.runtime import Runtime
from pers.tokens.http_v1 import TokenRead, token_read
from pers.users.http_v1 import UserRead, user_read
from pers.web import Access, PersRoute, get_runtime, get_session, runtime_of, session_of

router = APIRouter(prefix="/purchase", route_class=PersRoute, tags=["Purchase"])

ADMIN = Access(PrincipalKind.ADMIN)
USER = Access(PrincipalKind.USER)
READERS = Access(
    PrincipalKind.PUBLIC,
    PrincipalKind.USER,
    PrincipalKind.BUSINESS,
    PrincipalKind.SYSTEM,
    PrincipalKind.ADMIN,
)
Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
INTENT_ID_PATTERN = r"^[A-Za-z0-9_]{1,255}$"

PurchaseTokenId = Annotated[uuid.UUID, Path(alias="id", description="Purchase Token id")]
IntentId = Annotated[
    str,
    Path(alias="paymentIntentId", pattern=INTENT_ID_PATTERN, description="Payment Intent Id"),
]


# --- wire schemas -----------------------------------------------------------------------------


class PurchaseTypeCreate(WireInput):
    conversion_rate: WireDecimal = Field(
        description="Conversion Rate of the token: the price of one token unit in cents"
    )
    currency: Currency = Field(description="Currency of the token")

    @field_validator("conversion_rate")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0 or value > 10**12:
            raise ValueError("must be above 0 (and at most 10^12)")
        return value


class PurchaseTypeRead(WireModel):
    conversion_rate: WireDecimal = Field(
        description="Conversion Rate of the token: the price of one token unit in cents"
    )
    currency: Currency = Field(description="Currency of the token")
    id: int = Field(description="Purchase Type id")


class DonationTypeCreate(WireInput):
    percentage: WireDecimal = Field(description="Percentage of donation (0 to 100)")
    id: int = Field(ge=1, le=2**62, description="Id of the donation type")

    @field_validator("percentage")
    @classmethod
    def _range(cls, value: Decimal) -> Decimal:
        if value < 0 or value > 100:
            raise ValueError("must be between 0 and 100")
        return value


class DonationTypeRead(WireModel):
    percentage: WireDecimal = Field(description="Percentage of donation")
    id: int = Field(description="Id of the donation type")


class PurchaseTokenCreate(WireInput):
    token_id: uuid.UUID = Field(description="Token id (an ERC20 token of the tenant)")
    description: str = Field(
        min_length=1, max_length=2000, description="Purchase Token description"
    )
    purchase_type_id: int = Field(ge=1, description="Purchase Type id")


class PurchaseTokenUpdate(WireInput):
    description: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Purchase Token description"
    )
    is_active: bool | None = Field(default=None, description="Purchase Token isActive")


class PurchaseTokenRead(WireModel):
    id: str = Field(description="Purchase Token id")
    description: str = Field(description="Purchase Token description")
    token: TokenRead = Field(description="Token")
    contract_token_id: str | None = Field(
        description="optional contract token id (always null: only ERC20 tokens are sold)"
    )
    purchase_type: PurchaseTypeRead = Field(description="Purchase Type")
    is_active: bool = Field(description="Purchase Token isActive")


class PaymentIntentBody(WireInput):
    amount: int = Field(ge=1, le=service.MAX_AMOUNT_CENTS, description="Amount in cents")
    currency: Currency = Field(description="Currency")
    receipt_email: Email | None = Field(default=None, description="Receipt Email")
    description: str | None = Field(default=None, max_length=1000, description="Description")


class PaymentIntentRead(WireModel):
    payment_client_secret: str | None = Field(
        description="Payment Intent ClientSecrete to complete Stripe payment"
    )
    payment_intent_id: str = Field(description="Payment Intent Id")


class PurchaseCreate(WireInput):
    quantity: WireAmount = Field(description="Quantity of tokens to purchase (token units)")
    payment_intent_id: str = Field(
        pattern=INTENT_ID_PATTERN, description="Payment Intent Id (from POST /payment-intent)"
    )
    purchase_token_id: uuid.UUID = Field(description="Purchase Token id")
    donation_type_id: int | None = Field(default=None, ge=1, description="Donation Type")
    donation_account_address: EvmAddress | None = Field(
        default=None, description="Donation Account Address (a business that receives donations)"
    )

    @field_validator("quantity")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be above 0")
        return value


class PurchaseRead(WireModel):
    id: str = Field(description="Purchase id")
    stripe_payment_intent_id: str = Field(description="Stripe Payment Intent id")
    status: PurchaseStatus = Field(
        description="Purchase status: PENDING until Stripe reports the payment, then SUCCEEDED "
        "(credits minted), FAILED (a later successful retry still succeeds) or CANCELED"
    )
    amount: int = Field(description="Amount to pay in cents")
    currency: Currency = Field(description="Currency")
    quantity: WireAmount = Field(description="Quantity of tokens to purchase")
    purchase_token: PurchaseTokenRead = Field(description="Purchase Token")
    user: UserRead = Field(description="User")
    business: BusinessRead | None = Field(
        description="Business: the donation business, null without a donation"
    )
    donation_account_address: str | None = Field(description="Donation Account Address")
    donation_type: DonationTypeRead | None = Field(description="Donation Type")
    created_at: datetime = Field(description="create date")
    updated_at: datetime = Field(description="update date")
    transaction_ids: list[str] = Field(
        description="Extension: the PURCHASE mints of this purchase (empty until it succeeds)"
    )


class PurchaseCreated(PurchaseRead):
    payment_client_secret: str | None = Field(description="Stripe payment intent client secret")


def purchase_type_read(row: PurchaseType) -> PurchaseTypeRead:
    return PurchaseTypeRead(conversion_rate=row.conversion_rate, currency=row.currency, id=row.id)


def donation_type_read(row: DonationType) -> DonationTypeRead:
    return DonationTypeRead(percentage=row.percentage, id=row.id)


def purchase_token_read(record: PurchaseTokenRecord) -> PurchaseTokenRead:
    return PurchaseTokenRead(
        id=str(record.row.id),
        description=record.row.description,
        token=token_read(record.token),
        contract_token_id=None,
        purchase_type=purchase_type_read(record.purchase_type),
        is_active=record.row.is_active,
    )


def purchase_read(record: PurchaseRecord) -> PurchaseRead:
    p = record.purchase
    return PurchaseRead(
        id=str(p.id),
        stripe_payment_intent_id=p.stripe_payment_intent_id,
        status=p.status,
        amount=p.amount,
        currency=p.currency,
        quantity=p.quantity,
        purchase_token=purchase_token_read(record.purchase_token),
        user=user_read(record.user),
        business=None if record.business is None else business_read(record.business),
        donation_account_address=p.donation_account_address,
        donation_type=None
        if record.donation_type is None
        else donation_type_read(record.donation_type),
        created_at=p.created_at,
        updated_at=p.updated_at,
        transaction_ids=[str(t) for t in p.transaction_ids],
    )


def intent_read(answer: IntentAnswer) -> PaymentIntentRead:
    return PaymentIntentRead(
        payment_client_secret=answer.client_secret, payment_intent_id=answer.payment_intent_id
    )


# --- webhook ----------------------------------------------------------------------------------


@router.post("/stripe-webhook", summary="Stripe webhook", response_model=bool)
async def stripe_webhook(
    request: Request,
    tenant_id: str | None = Query(
        default=None,
        alias="tenantId",
        max_length=64,
        description="Extension: the tenant whose Stripe account sends the events. Without it, "
        "the tenant is read from the metadata pers puts on every payment intent it creates.",
    ),
) -> bool:
    """Stripe's events for the tenant's payment intents, signed with the tenant's
    `stripeWebhookSecret` (`Stripe-Signature`; 400 when it does not verify).
    `payment_intent.succeeded` mints the purchased credits once; `payment_failed` and `canceled`
    close the purchase. Redelivered events change nothing. A `succeeded` event for an intent no
    purchase uses yet is answered 409 `PURCHASE_NOT_YET_RECORDED` so Stripe redelivers it."""
    return await service.handle_stripe_event(
        session_of(request),
        runtime_of(request),
        payload=await request.body(),
        signature=request.headers.get("stripe-signature"),
        tenant_hint=tenant_id,
        request_id=str(getattr(request.state, "request_id", "")),
    )


# --- admin: purchase tokens and types ---------------------------------------------------------


@router.post("/admin/token", summary="ADMIN: Create a new purchase Token", status_code=201,
             response_model=PurchaseTokenRead)  # fmt: skip
async def create_purchase_token(
    body: PurchaseTokenCreate, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> PurchaseTokenRead:
    """Put an ERC20 token of the tenant on sale at a purchase type's price."""
    record = await service.create_purchase_token(
        session, ctx, token_id=body.token_id, description=body.description,
        purchase_type_id=body.purchase_type_id,
    )  # fmt: skip
    return purchase_token_read(record)


@router.put("/admin/token/{id}", summary="ADMIN: Update an existing purchase Token",
            response_model=PurchaseTokenRead)  # fmt: skip
async def update_purchase_token(
    purchase_token_id: PurchaseTokenId,
    body: PurchaseTokenUpdate,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
) -> PurchaseTokenRead:
    """Change the description or take the token off sale (`isActive: false`) and back."""
    record = await service.update_purchase_token(
        session, ctx, purchase_token_id, description=body.description,
        is_active=body.is_active,
    )  # fmt: skip
    return purchase_token_read(record)


@router.delete("/admin/token/{id}", summary="ADMIN: Delete an existing purchase Token",
               response_model=bool)  # fmt: skip
async def delete_purchase_token(
    purchase_token_id: PurchaseTokenId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> bool:
    """Take the purchase token off sale and out of every list; past purchases keep it."""
    return await service.delete_purchase_token(session, ctx, purchase_token_id)


@router.post("/admin/type", summary="ADMIN: Create a new purchase Type", status_code=201,
             response_model=PurchaseTypeRead)  # fmt: skip
async def create_purchase_type(
    body: PurchaseTypeCreate, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> PurchaseTypeRead:
    """A price: `conversionRate` cents per token unit. The answer adds the new type's `id`
    (which purchase tokens name)."""
    row = await service.create_purchase_type(
        session, ctx, conversion_rate=body.conversion_rate, currency=body.currency
    )
    return purchase_type_read(row)


@router.post("/admin/donation/type", summary="ADMIN: Create a new donation Type", status_code=201,
             response_model=DonationTypeRead)  # fmt: skip
async def create_donation_type(
    body: DonationTypeCreate, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> DonationTypeRead:
    """A donation share with the id the admin chooses (409 `DONATION_TYPE_EXISTS` when taken)."""
    row = await service.create_donation_type(
        session, ctx, type_id=body.id, percentage=body.percentage
    )
    return donation_type_read(row)


@router.get("/donation/type", summary="Get all donation Types",
            response_model=list[DonationTypeRead])  # fmt: skip
async def list_donation_types(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[DonationTypeRead]:
    """Every donation type of the tenant, by id."""
    return [donation_type_read(t) for t in await service.list_donation_types(session, ctx)]


@router.get("/token", summary="get active Purchase Tokens",
            response_model=list[PurchaseTokenRead])  # fmt: skip
async def list_purchase_tokens(
    session: Session,
    ctx: RequestContext = Depends(READERS),
    active: bool | None = Query(
        default=None, description="Filter by active status (admins; others see active ones only)"
    ),
) -> list[PurchaseTokenRead]:
    """The purchase tokens on sale in the project key's environment. Admins see every one, or
    only active (`true`) or inactive (`false`) ones."""
    records = await service.list_purchase_tokens(session, ctx, active=active)
    return [purchase_token_read(r) for r in records]


# --- the user's purchases ---------------------------------------------------------------------


@router.post("/auth", summary="AUTH USER: Create Purchase", status_code=201,
             response_model=PurchaseCreated)  # fmt: skip
async def create_purchase(
    body: PurchaseCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> PurchaseCreated:
    """Create the purchase of `quantity` token units paid by the payment intent: it costs
    `quantity x conversionRate` cents, and the intent is set to that amount. With a donation,
    `percentage` % of the units go to the donation business. Answers the intent's client
    secret to pay with; the credits are minted when Stripe reports the payment."""
    record = await service.create_purchase(
        session,
        rt,
        ctx,
        service.NewPurchase(
            quantity=body.quantity,
            payment_intent_id=body.payment_intent_id,
            purchase_token_id=body.purchase_token_id,
            donation_type_id=body.donation_type_id,
            donation_account_address=body.donation_account_address,
        ),
    )
    return PurchaseCreated(
        **dict(purchase_read(record)), payment_client_secret=record.client_secret
    )


@router.get("/auth", summary="AUTH USER: Get user past Purchases",
            response_model=list[PurchaseRead])  # fmt: skip
async def my_purchases(
    session: Session,
    ctx: RequestContext = Depends(USER),
    page: int = Query(default=1, ge=1, description="Extension: page number, from 1"),
    limit: int = Query(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Extension: purchases per page"
    ),
) -> list[PurchaseRead]:
    """The user's purchases in the project key's environment, newest first."""
    records = await service.my_purchases(session, ctx, limit=limit, offset=(page - 1) * limit)
    return [purchase_read(r) for r in records]


# --- payment intents --------------------------------------------------------------------------


@router.post("/payment-intent", summary="Create a new payment intent", status_code=201,
             response_model=PaymentIntentRead)  # fmt: skip
async def create_payment_intent(
    body: PaymentIntentBody, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> PaymentIntentRead:
    """A Stripe payment intent on the tenant's Stripe account, for the logged-in user."""
    answer = await service.create_payment_intent(
        session, rt, ctx, amount=body.amount, currency=body.currency,
        receipt_email=body.receipt_email, description=body.description,
    )  # fmt: skip
    return intent_read(answer)


@router.put("/payment-intent/{paymentIntentId}", summary="Update a payment intent",
            response_model=PaymentIntentRead)  # fmt: skip
async def update_payment_intent(
    intent_id: IntentId,
    body: PaymentIntentBody,
    session: Session,
    rt: Rt,
    ctx: RequestContext = Depends(USER),
) -> PaymentIntentRead:
    """Change the user's intent while it awaits payment and no purchase uses it."""
    answer = await service.update_payment_intent(
        session, rt, ctx, intent_id, amount=body.amount, currency=body.currency,
        receipt_email=body.receipt_email, description=body.description,
    )  # fmt: skip
    return intent_read(answer)


@router.delete("/payment-intent/{paymentIntentId}", summary="Cancel a payment intent",
               response_model=PaymentIntentRead)  # fmt: skip
async def cancel_payment_intent(
    intent_id: IntentId, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> PaymentIntentRead:
    """Cancel the user's intent; a purchase using it is closed as CANCELED."""
    answer = await service.cancel_payment_intent(session, rt, ctx, intent_id)
    return intent_read(answer)
