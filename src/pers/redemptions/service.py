"""Redemptions: the catalogue of what users get for credits, and redeeming.

Who sees what (as for campaigns): admins see every live redemption of both environments; every
other principal sees the redemptions of its request's environment, and only active ones, except
tenant systems, which see inactive ones too.

A redeem passes, in order: the user is active; the redemption is live (404), of the request's
environment, active and gives something; the user's country, when known, is allowed; the user's
status reaches the minimum status type; then, with locks, the user's counter (maxPerUser), the
credits (the ledger refuses an overdraft), the mints, and last one unit of stock. All of it is
the request's one database transaction: any refusal leaves nothing written.

Lock order of a redeem: the redemption ``FOR KEY SHARE`` (redeems never block each other on it;
an admin changing it with ``FOR UPDATE`` waits for them and they for it), the user's counter
row, the user's balance rows (ledger order), then one supply shard. Only the shard is shared
between users, and it is taken last, so it is held for the shortest time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.service import FastCredential
from pers.db import detach
from pers.errors import ValidationFailed
from pers.kit.amounts import MAX_BASE_UNITS, AmountError, from_base_units, to_base_units
from pers.kit.cache import VersionedCache
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.redemptions import repository
from pers.redemptions.errors import (
    CountryNotAllowed,
    MaxPerUserReached,
    RedemptionHasNoTokenUnits,
    RedemptionNotActive,
    RedemptionNotFound,
    RedemptionTypeNotFound,
    RedemptionWrongEnvironment,
    RewardTokenNotActive,
    SupplyBelowRedeemed,
    SupplyExhausted,
    TokenNotOnMainnet,
    TokenUnitExists,
    TokenUnitNotFound,
    UserNotActive,
    UserStatusTooLow,
)
from pers.redemptions.models import (
    Redemption,
    RedemptionRedeem,
    RedemptionTokenUnit,
    RedemptionType,
)
from pers.runtime import Runtime
from pers.tenants import service as tenants_service
from pers.tokens import service as tokens_service
from pers.tokens.errors import CreditTokenNotConfigured
from pers.tokens.models import TokenType
from pers.tokens.service import TokenDetail, TokenView
from pers.transactions import service as transactions_service
from pers.transactions.errors import InvalidAmount
from pers.transactions.models import Transaction, TriggerProcessType
from pers.users import service as users_service
from pers.users.models import User, UserStatusType

SEES_EVERY_ENVIRONMENT = frozenset({PrincipalKind.ADMIN})
SEES_INACTIVE = frozenset({PrincipalKind.ADMIN, PrincipalKind.SYSTEM})
# The most shard rows a limited redemption's stock is split over (fewer when the stock is
# smaller: every shard starts with at least one unit).
SUPPLY_SHARDS = 16
REDEMPTION_FIELDS = frozenset(
    {
        "name",
        "description",
        "image_url",
        "credit_token_amount",
        "redemption_type_id",
        "min_user_status_type_id",
        "max_total_supply",
        "max_per_user",
        "order",
        "country_code_restrictions",
        "tags",
    }
)
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
RESTRICTION = re.compile(r"^(NOT_)?[A-Z]{2}$")
# Where a user's country is kept when the operator's edge does not send it (docs).
COUNTRY_FIELD = "countryCode"


@dataclass(frozen=True)
class TokenUnitDetail:
    """A token unit with its amounts in token units; ``token`` as the redemption's environment
    sees it (None if it has no side there)."""

    unit: RedemptionTokenUnit
    token: TokenDetail | None
    amount: Decimal
    max_amount: Decimal | None


@dataclass(frozen=True)
class RedemptionDetail:
    redemption: Redemption
    type: RedemptionType | None
    token_units: tuple[TokenUnitDetail, ...]
    min_user_status_type: UserStatusType | None
    # Stock left (None: unlimited).
    available: int | None


@dataclass(frozen=True)
class RedeemRecord:
    redeem: RedemptionRedeem
    redemption: RedemptionDetail | None
    transactions: tuple[Transaction, ...] = ()


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


# --- types ------------------------------------------------------------------------------------


async def list_types(session: AsyncSession, ctx: RequestContext) -> list[RedemptionType]:
    return await repository.list_types(session, ctx.tenant)


async def create_type(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    name: str,
    description: str | None,
    image_url: str | None,
) -> RedemptionType:
    row = RedemptionType(
        tenant_id=ctx.tenant,
        name=name,
        description=description,
        image_url=image_url,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, row)
    return row


async def _require_type(session: AsyncSession, ctx: RequestContext, type_id: int) -> None:
    if not await repository.get_types(session, ctx.tenant, [type_id]):
        raise RedemptionTypeNotFound(f"no redemption type {type_id} in this tenant")


# --- assembling what the wire shows -----------------------------------------------------------


async def _unit_details(
    session: AsyncSession,
    ctx: RequestContext,
    units: Sequence[RedemptionTokenUnit],
    environments: Mapping[uuid.UUID, Environment],
) -> dict[uuid.UUID, list[TokenUnitDetail]]:
    tokens = await tokens_service.tokens_as_seen(
        session, ctx, [(u.token_id, environments[u.redemption_id]) for u in units]
    )
    out: dict[uuid.UUID, list[TokenUnitDetail]] = {}
    for unit in units:
        seen = tokens[(unit.token_id, environments[unit.redemption_id])]
        out.setdefault(unit.redemption_id, []).append(
            TokenUnitDetail(
                unit=unit,
                token=seen.detail,
                amount=from_base_units(unit.amount, seen.decimals),
                max_amount=None
                if unit.max_amount is None
                else from_base_units(unit.max_amount, seen.decimals),
            )
        )
    return out


async def _details(
    session: AsyncSession, ctx: RequestContext, redemptions: Sequence[Redemption]
) -> list[RedemptionDetail]:
    """Redemptions with their type, token units, status type and stock, in a fixed number of
    statements whatever their number."""
    ids = [r.id for r in redemptions]
    types = {
        t.id: t
        for t in await repository.get_types(
            session, ctx.tenant, [r.redemption_type_id for r in redemptions if r.redemption_type_id]
        )
    }
    statuses = await users_service.status_types_by_ids(
        session, ctx, [r.min_user_status_type_id for r in redemptions if r.min_user_status_type_id]
    )
    units = await _unit_details(
        session,
        ctx,
        await repository.units_of(session, ctx.tenant, ids),
        {r.id: r.environment for r in redemptions},
    )
    stock = await repository.available(
        session, ctx.tenant, [r.id for r in redemptions if r.max_total_supply is not None]
    )
    return [
        RedemptionDetail(
            redemption=r,
            type=None if r.redemption_type_id is None else types.get(r.redemption_type_id),
            token_units=tuple(units.get(r.id, ())),
            min_user_status_type=None
            if r.min_user_status_type_id is None
            else statuses.get(r.min_user_status_type_id),
            available=None if r.max_total_supply is None else stock.get(r.id, 0),
        )
        for r in redemptions
    ]


async def _detail(
    session: AsyncSession, ctx: RequestContext, redemption: Redemption
) -> RedemptionDetail:
    return (await _details(session, ctx, [redemption]))[0]


@dataclass(frozen=True)
class _Parts:
    """What a redeem reads of a redemption besides its row and its stock: its type, token units
    (with their tokens) and minimum status type."""

    type: RedemptionType | None
    token_units: tuple[TokenUnitDetail, ...]
    min_user_status_type: UserStatusType | None


# By (tenant, environment, redemption), with the tenant's catalog version they were read at
# (revision 0017; docs/decisions.md, "Campaign details are cached, revalidated"). Read-only.
_PARTS: VersionedCache[tuple[uuid.UUID, Environment, uuid.UUID], _Parts] = VersionedCache(4096)


async def _redeemable(
    session: AsyncSession, ctx: RequestContext, redemption: Redemption
) -> RedemptionDetail:
    """The detail of a redemption a user redeems: the row the caller read (and locked), its
    stock read now, and the rest from the cache while the tenant's catalog has not moved."""
    version = await tenants_service.catalog_version(session, ctx.tenant)
    key = (ctx.tenant, ctx.env, redemption.id)
    parts = _PARTS.get(key, version)
    if parts is not None:
        stock = (
            None
            if redemption.max_total_supply is None
            else (await repository.available(session, ctx.tenant, [redemption.id])).get(
                redemption.id, 0
            )
        )
        return RedemptionDetail(
            redemption=redemption,
            type=parts.type,
            token_units=parts.token_units,
            min_user_status_type=parts.min_user_status_type,
            available=stock,
        )
    detail = await _detail(session, ctx, redemption)
    parts = _Parts(detail.type, detail.token_units, detail.min_user_status_type)
    detach(session, parts)
    _PARTS.put(key, version, parts)
    return detail


def _visible(ctx: RequestContext, redemption: Redemption) -> bool:
    kind = ctx.principal.kind
    if kind not in SEES_EVERY_ENVIRONMENT and redemption.environment is not ctx.env:
        return False
    return redemption.is_active or kind in SEES_INACTIVE


async def _lock(session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID) -> Redemption:
    redemption = await repository.get_redemption(session, ctx.tenant, redemption_id, lock="update")
    if redemption is None:
        raise RedemptionNotFound(f"no redemption {redemption_id} in this tenant")
    return redemption


async def _touched(
    session: AsyncSession, ctx: RequestContext, redemption: Redemption
) -> RedemptionDetail:
    redemption.updated_at = ctx.now
    await repository.flush(session, redemption)
    return await _detail(session, ctx, redemption)


# --- reading ----------------------------------------------------------------------------------


async def list_active(session: AsyncSession, ctx: RequestContext) -> list[RedemptionDetail]:
    """Active redemptions of the request's environment, by ``order`` then oldest first."""
    redemptions = await repository.list_redemptions(session, ctx.tenant, env=ctx.env, active=True)
    return await _details(session, ctx, redemptions)


async def list_for_admin(
    session: AsyncSession, ctx: RequestContext, *, active: bool | None
) -> list[RedemptionDetail]:
    redemptions = await repository.list_redemptions(session, ctx.tenant, env=None, active=active)
    return await _details(session, ctx, redemptions)


async def _visible_redemption(
    session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID
) -> Redemption:
    redemption = await repository.get_redemption(session, ctx.tenant, redemption_id)
    if redemption is None or not _visible(ctx, redemption):
        raise RedemptionNotFound(f"no redemption {redemption_id} for this request")
    return redemption


async def get_redemption(
    session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID
) -> RedemptionDetail:
    return await _detail(session, ctx, await _visible_redemption(session, ctx, redemption_id))


async def available_supply(
    session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID
) -> int | None:
    """Redeems still possible (None: no maxTotalSupply)."""
    redemption = await _visible_redemption(session, ctx, redemption_id)
    if redemption.max_total_supply is None:
        return None
    stock = await repository.available(session, ctx.tenant, [redemption.id])
    return stock.get(redemption.id, 0)


# --- configuration ----------------------------------------------------------------------------


def normalized_restrictions(codes: Sequence[str]) -> list[str]:
    """``["NOT_ES", "FR"]``: upper case, each once, in the order sent."""
    out: list[str] = []
    for code in codes:
        value = code.strip().upper()
        if not RESTRICTION.match(value):
            raise _invalid(
                "body.countryCodeRestrictions",
                f"{code!r} is neither an ISO 3166-1 alpha-2 code nor NOT_ and one",
            )
        if value not in out:
            out.append(value)
    return out


async def _credit_units(
    session: AsyncSession, ctx: RequestContext, amount: Decimal, env: Environment
) -> None:
    """``creditTokenAmount`` must fit the credit token's decimals (checked when the tenant has
    a credit token in the redemption's environment; re-checked when redeemed)."""
    if amount < 0:
        raise InvalidAmount("creditTokenAmount must not be negative", field="creditTokenAmount")
    if amount == 0:
        return
    try:
        token = await tokens_service.get_credit_token(session, replace(ctx, environment=env))
    except CreditTokenNotConfigured:
        return
    try:
        to_base_units(amount, token.decimals)
    except AmountError as exc:
        raise InvalidAmount(f"creditTokenAmount: {exc}", field="creditTokenAmount") from exc


async def _check_fields(
    session: AsyncSession, ctx: RequestContext, values: Mapping[str, Any], env: Environment
) -> dict[str, Any]:
    out = dict(values)
    if out.get("redemption_type_id") is not None:
        await _require_type(session, ctx, out["redemption_type_id"])
    if out.get("min_user_status_type_id") is not None:
        await users_service.get_status_type(session, ctx, out["min_user_status_type_id"])
    if "credit_token_amount" in out:
        if out["credit_token_amount"] is None:
            raise _invalid("body.creditTokenAmount", "cannot be null")
        await _credit_units(session, ctx, out["credit_token_amount"], env)
    if "country_code_restrictions" in out:
        out["country_code_restrictions"] = normalized_restrictions(
            out["country_code_restrictions"] or []
        )
    if "tags" in out:
        out["tags"] = list(dict.fromkeys(out["tags"] or []))
    if "order" in out and out["order"] is None:
        out["order"] = 0
    return out


def _spread(remaining: int) -> list[int]:
    """``remaining`` units over at most SUPPLY_SHARDS shards, as evenly as possible."""
    shards = max(1, min(SUPPLY_SHARDS, remaining))
    base, extra = divmod(remaining, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


async def _set_supply(
    session: AsyncSession, ctx: RequestContext, redemption: Redemption, total: int | None
) -> None:
    """Size the stock for a new ``maxTotalSupply``; the caller holds the redemption ``FOR
    UPDATE``, so no redeem is under way and none starts until the commit."""
    if total is None:
        await repository.set_shards(session, ctx.tenant, redemption.id, [])
        redemption.supply_shards = 0
        return
    redeemed = await repository.redeemed_count(session, ctx.tenant, redemption.id)
    if total < redeemed:
        raise SupplyBelowRedeemed(
            f"{redeemed} redeems were made; maxTotalSupply must be at least that",
            redeemed=redeemed,
        )
    spread = _spread(total - redeemed)
    await repository.set_shards(session, ctx.tenant, redemption.id, spread)
    redemption.supply_shards = len(spread)


async def create_redemption(
    session: AsyncSession, ctx: RequestContext, fields: Mapping[str, Any]
) -> RedemptionDetail:
    """A new redemption in the request's environment, inactive until toggled (its token units
    are added first)."""
    values = await _check_fields(
        session, ctx, {k: v for k, v in fields.items() if k in REDEMPTION_FIELDS}, ctx.env
    )
    total = values.get("max_total_supply")
    spread = None if total is None else _spread(total)
    redemption = Redemption(
        tenant_id=ctx.tenant,
        id=uuid7(),
        name=values.get("name"),
        description=values.get("description"),
        image_url=values.get("image_url"),
        environment=ctx.env,
        is_active=False,
        credit_token_amount=values["credit_token_amount"],
        redemption_type_id=values.get("redemption_type_id"),
        min_user_status_type_id=values.get("min_user_status_type_id"),
        max_total_supply=values.get("max_total_supply"),
        max_per_user=values.get("max_per_user"),
        supply_shards=0 if spread is None else len(spread),
        order=values.get("order", 0),
        country_code_restrictions=values.get("country_code_restrictions", []),
        tags=values.get("tags", []),
        deleted_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, redemption)
    if spread is not None:
        await repository.set_shards(session, ctx.tenant, redemption.id, spread)
    return await _detail(session, ctx, redemption)


async def update_redemption(
    session: AsyncSession,
    ctx: RequestContext,
    redemption_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> RedemptionDetail:
    """Apply the fields sent; ``None`` clears an optional one. A new ``maxTotalSupply`` keeps
    the redeems made: what is left is the new total less them (never below: 422)."""
    redemption = await _lock(session, ctx, redemption_id)
    values = await _check_fields(
        session,
        ctx,
        {k: v for k, v in changes.items() if k in REDEMPTION_FIELDS},
        redemption.environment,
    )
    for name, value in values.items():
        setattr(redemption, name, value)
    if "max_total_supply" in values:
        await _set_supply(session, ctx, redemption, values["max_total_supply"])
    return await _touched(session, ctx, redemption)


async def delete_redemption(
    session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID
) -> bool:
    """Soft delete: gone from every list and lookup, never redeemed again; the redeems stay."""
    redemption = await _lock(session, ctx, redemption_id)
    redemption.deleted_at = ctx.now
    redemption.is_active = False
    redemption.updated_at = ctx.now
    await repository.flush(session)
    return True


async def toggle_active(
    session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID
) -> RedemptionDetail:
    redemption = await _lock(session, ctx, redemption_id)
    redemption.is_active = not redemption.is_active
    return await _touched(session, ctx, redemption)


# --- token units ------------------------------------------------------------------------------


async def _checked_unit(
    session: AsyncSession,
    ctx: RequestContext,
    redemption: Redemption,
    *,
    token_id: uuid.UUID,
    metadata_id: int | None,
    amount: Decimal,
    max_amount: Decimal | None,
    other_than: uuid.UUID | None = None,
) -> tuple[int, int | None]:
    checked = await transactions_service.check_reward_unit(
        session, ctx, env=redemption.environment, token_id=token_id, metadata_id=metadata_id,
        amount=amount, max_amount=max_amount, not_on_mainnet=TokenNotOnMainnet,
    )  # fmt: skip
    for unit in await repository.units_of(session, ctx.tenant, [redemption.id]):
        same = (unit.token_id, unit.token_metadata_incremental_id) == (token_id, metadata_id)
        if same and unit.id != other_than:
            raise TokenUnitExists(
                f"token unit {unit.id} already gives this token", tokenUnitId=str(unit.id)
            )
    return checked.amount, checked.max_amount


async def add_token_unit(
    session: AsyncSession,
    ctx: RequestContext,
    redemption_id: uuid.UUID,
    *,
    token_id: uuid.UUID,
    amount: Decimal,
    token_metadata_incremental_id: int | None = None,
    max_amount: Decimal | None = None,
) -> RedemptionDetail:
    redemption = await _lock(session, ctx, redemption_id)
    units, max_units = await _checked_unit(
        session, ctx, redemption, token_id=token_id, metadata_id=token_metadata_incremental_id,
        amount=amount, max_amount=max_amount,
    )  # fmt: skip
    unit = RedemptionTokenUnit(
        tenant_id=ctx.tenant,
        id=uuid7(),
        redemption_id=redemption.id,
        token_id=token_id,
        token_metadata_incremental_id=token_metadata_incremental_id,
        amount=units,
        max_amount=max_units,
        removed_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    try:
        await repository.add(session, unit)
    except repository.UniqueTaken as exc:
        raise TokenUnitExists() from exc
    return await _touched(session, ctx, redemption)


async def _require_unit(
    session: AsyncSession, ctx: RequestContext, redemption: Redemption, unit_id: uuid.UUID
) -> RedemptionTokenUnit:
    unit = await repository.get_unit(session, ctx.tenant, redemption.id, unit_id)
    if unit is None:
        raise TokenUnitNotFound(f"redemption {redemption.id} has no token unit {unit_id}")
    return unit


async def update_token_unit(
    session: AsyncSession,
    ctx: RequestContext,
    redemption_id: uuid.UUID,
    unit_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> RedemptionDetail:
    """``token_id`` and ``amount`` are always given; the others change only when given."""
    redemption = await _lock(session, ctx, redemption_id)
    unit = await _require_unit(session, ctx, redemption, unit_id)
    if "max_amount" in changes:
        max_amount: Decimal | None = changes["max_amount"]
    elif unit.max_amount is None:
        max_amount = None
    else:
        old = await tokens_service.get_token(session, ctx, unit.token_id, env=Environment.TESTNET)
        max_amount = from_base_units(unit.max_amount, old.decimals)
    token_id: uuid.UUID = changes.get("token_id", unit.token_id)
    metadata_id: int | None = changes.get(
        "token_metadata_incremental_id", unit.token_metadata_incremental_id
    )
    units, max_units = await _checked_unit(
        session, ctx, redemption, token_id=token_id, metadata_id=metadata_id,
        amount=changes["amount"], max_amount=max_amount, other_than=unit.id,
    )  # fmt: skip
    unit.token_id = token_id
    unit.token_metadata_incremental_id = metadata_id
    unit.amount = units
    unit.max_amount = max_units
    unit.updated_at = ctx.now
    return await _touched(session, ctx, redemption)


async def remove_token_unit(
    session: AsyncSession, ctx: RequestContext, redemption_id: uuid.UUID, unit_id: uuid.UUID
) -> RedemptionDetail:
    redemption = await _lock(session, ctx, redemption_id)
    unit = await _require_unit(session, ctx, redemption, unit_id)
    unit.removed_at = ctx.now
    unit.updated_at = ctx.now
    return await _touched(session, ctx, redemption)


# --- redeeming --------------------------------------------------------------------------------


def country_allowed(restrictions: Sequence[str], country: str | None) -> bool:
    """``NOT_XX`` entries deny a country; plain entries, if any, are the only ones allowed. An
    unknown country passes (the rule applies when the country is known)."""
    if country is None or not restrictions:
        return True
    denied = {r[4:] for r in restrictions if r.startswith("NOT_")}
    allowed = {r for r in restrictions if not r.startswith("NOT_")}
    if country in denied:
        return False
    return not allowed or country in allowed


def country_code(raw: object) -> str | None:
    """``raw`` as a two-letter country code (trimmed, upper case), or None."""
    if isinstance(raw, str) and COUNTRY_CODE.match(raw.strip().upper()):
        return raw.strip().upper()
    return None


def user_country(user: User, header_value: str | None) -> str | None:
    """The operator's edge header (trusted, when configured and sent) first, else the user's
    ``customData.countryCode``; None when neither is a two-letter code."""
    return country_code(header_value) or country_code((user.custom_data or {}).get(COUNTRY_FIELD))


async def _check_status(
    session: AsyncSession, ctx: RequestContext, user: User, required: UserStatusType | None
) -> None:
    """The user's current status must rank at least as high (threshold) as the required one."""
    if required is None:
        return
    current = await users_service.status_of(session, ctx, user.id)
    if current is None or current.min_token_balance < required.min_token_balance:
        raise UserStatusTooLow(
            f"the redemption needs status {required.name!r}; the user's is "
            f"{'none' if current is None else repr(current.name)}",
            minUserStatusTypeId=required.id,
            userStatusTypeId=None if current is None else current.id,
        )


async def redeem(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    redemption_id: uuid.UUID,
    *,
    country_header: str | None = None,
) -> RedeemRecord:
    user_id = users_service.own_id(ctx)
    user = (await users_service.users_by_ids(session, ctx, [user_id]))[user_id]
    if not user.is_active:
        raise UserNotActive(f"user {user.id} is deactivated")
    redemption = await repository.get_redemption(
        session, ctx.tenant, redemption_id, lock="key share"
    )
    if redemption is None:
        raise RedemptionNotFound(f"no redemption {redemption_id} in this tenant")
    if redemption.environment is not ctx.env:
        raise RedemptionWrongEnvironment(
            f"the redemption runs on {redemption.environment.value}, the credentials are for "
            f"{ctx.env.value}"
        )
    if not redemption.is_active:
        raise RedemptionNotActive(f"redemption {redemption.id} is not active")
    detail = await _redeemable(session, ctx, redemption)
    if not detail.token_units:
        raise RedemptionHasNoTokenUnits(f"redemption {redemption.id} has no token units")
    for unit in detail.token_units:
        if unit.token is None or not unit.token.token.is_active:
            raise RewardTokenNotActive(f"token {unit.unit.token_id} is not active")
    country = user_country(user, country_header)
    if not country_allowed(redemption.country_code_restrictions, country):
        raise CountryNotAllowed(
            f"the redemption is not available in {country}",
            userCountryCode=country,
            countryCodeRestrictions=list(redemption.country_code_restrictions),
        )
    await _check_status(session, ctx, user, detail.min_user_status_type)
    if detail.available == 0:  # a plain read: sold out needs no lock to tell
        raise SupplyExhausted(f"redemption {redemption.id} has no supply left", availableSupply=0)

    redeem_id = uuid7()
    counted = await repository.count_redeem(
        session, tenant_id=ctx.tenant, redemption_id=redemption.id, user_id=user.id,
        now=ctx.now, max_per_user=redemption.max_per_user,
    )  # fmt: skip
    if counted is None:
        total = await repository.user_total(session, ctx.tenant, redemption.id, user.id)
        raise MaxPerUserReached(
            f"{total} redeems; the limit is {redemption.max_per_user}",
            maxPerUser=redemption.max_per_user,
        )
    view = users_service.user_view(user)
    made: list[Transaction] = []
    credit_units = 0
    if redemption.credit_token_amount > 0:
        credit = await tokens_service.get_credit_token(session, ctx)
        credit_units = transactions_service.base_units(credit, redemption.credit_token_amount)
        made.append(
            await transactions_service.spend_credits(
                session,
                rt,
                ctx,
                token=credit,
                amount=credit_units,
                user=view,
                trigger=TriggerProcessType.REDEMPTION_SPEND,
                trigger_process_id=str(redeem_id),
            )
        )
    for unit in detail.token_units:
        assert unit.token is not None
        made.append(
            await transactions_service.mint_reward(
                session,
                rt,
                ctx,
                token=unit.token.token,
                metadata_id=unit.unit.token_metadata_incremental_id,
                amount=unit.unit.amount,
                user=view,
                trigger=TriggerProcessType.REDEMPTION_RECEIVE,
                trigger_process_id=str(redeem_id),
            )
        )
    if redemption.max_total_supply is not None:
        taken = await repository.take_supply(
            session, ctx.tenant, redemption.id,
            shards=redemption.supply_shards, start=user.id.int % redemption.supply_shards,
        )  # fmt: skip
        if not taken:
            raise SupplyExhausted(
                f"redemption {redemption.id} has no supply left", availableSupply=0
            )
    row = RedemptionRedeem(
        tenant_id=ctx.tenant,
        id=redeem_id,
        environment=ctx.env,
        redemption_id=redemption.id,
        user_id=user.id,
        credit_token_amount=redemption.credit_token_amount,
        credit_base_units=credit_units,
        user_country_code=country,
        transaction_ids=[t.id for t in made],
        created_at=ctx.now,
    )
    await repository.add_redeem(session, row)
    return RedeemRecord(row, detail, tuple(made))


async def fast_redeem(
    rt: Runtime,
    credential: FastCredential,
    *,
    project_key: str,
    redemption_id: uuid.UUID,
    country_header: str | None,
    now: datetime,
) -> RedeemRecord | None:
    """:func:`redeem` in one statement when everything holds; None (with nothing written) for
    anything else, which the regular path then answers.

    The token units come from the detail the regular path cached (none cached: None); the
    statement confirms the tenant's catalog is still at the version they were read at, and
    does the rest in :func:`redeem`'s order and lock order: the redemption ``FOR KEY SHARE``
    and its rules, the user and its country, the counter, the spend, the mints, the stock.
    Not taken: redemptions with a minimum status type, users with a country the statement
    cannot read plainly, and any refusal."""
    if credential.principal is not PrincipalKind.USER or credential.check != "user":
        return None
    cached = _PARTS.peek((credential.tenant_id, credential.environment, redemption_id))
    if cached is None:
        return None
    version, parts = cached
    if not parts.token_units or parts.min_user_status_type is not None:
        return None
    args = _FastUnits()
    for unit in parts.token_units:
        token = None if unit.token is None else unit.token.token
        if token is None or not token.is_active or not 0 < unit.unit.amount <= MAX_BASE_UNITS:
            return None
        metadata_id = unit.unit.token_metadata_incremental_id
        entry_id = uuid7()
        if token.type is TokenType.ERC20:
            key, unique, metadata_id = 0, False, None
        elif metadata_id is None:
            return None
        elif token.type is TokenType.ERC1155:
            key, unique = metadata_id, False
        else:
            key, unique = entry_id.int, True
            if unit.unit.amount != 1:
                return None
        args.add(token, key, unique, metadata_id, int(unit.unit.amount), entry_id)
    tenant = credential.tenant_id
    found = await repository.fast_redeem(
        rt.db,
        repository.FastRedeem(
            tenant_id=tenant, environment=credential.environment, user_id=credential.subject_id,
            project_key=project_key, catalog_version=version, redemption_id=redemption_id,
            country=country_code(country_header), redeem_id=uuid7(), spend_entry_id=uuid7(),
            token_ids=args.token_ids, token_addresses=args.addresses, token_types=args.types,
            token_decimals=args.decimals, chain_ids=args.chains, token_keys=args.keys,
            unique=args.unique, metadata_ids=args.metadata_ids, amounts=args.amounts,
            entry_ids=args.entry_ids,
            issuer=transactions_service.issuer_address(rt, tenant), now=now,
        ),
    )  # fmt: skip
    if found is None:
        return None
    row, made = found
    return RedeemRecord(row, None, tuple(made))


@dataclass
class _FastUnits:
    """The token units of a fast redeem as ``pers_fast_redeem`` takes them: a list per field."""

    token_ids: list[uuid.UUID] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    decimals: list[int] = field(default_factory=list)
    chains: list[int | None] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    unique: list[bool] = field(default_factory=list)
    metadata_ids: list[int | None] = field(default_factory=list)
    amounts: list[int] = field(default_factory=list)
    entry_ids: list[uuid.UUID] = field(default_factory=list)

    def add(
        self,
        token: TokenView,
        key: int,
        unique: bool,
        metadata_id: int | None,
        amount: int,
        entry_id: uuid.UUID,
    ) -> None:
        self.token_ids.append(token.id)
        self.addresses.append(token.contract_address)
        self.types.append(token.type.value)
        self.decimals.append(token.decimals)
        self.chains.append(token.chain_id)
        self.keys.append(key)
        self.unique.append(unique)
        self.metadata_ids.append(metadata_id)
        self.amounts.append(amount)
        self.entry_ids.append(entry_id)


async def my_redeems(
    session: AsyncSession, ctx: RequestContext, *, limit: int, offset: int
) -> list[RedeemRecord]:
    """The user's redeems in the request's environment, newest first."""
    redeems = await repository.list_redeems(
        session, ctx.tenant, ctx.env, user_id=users_service.own_id(ctx), limit=limit,
        offset=offset,
    )  # fmt: skip
    redemptions = await repository.get_redemptions(
        session, ctx.tenant, list({r.redemption_id for r in redeems})
    )
    details = {d.redemption.id: d for d in await _details(session, ctx, redemptions)}
    return [RedeemRecord(r, details.get(r.redemption_id)) for r in redeems]
