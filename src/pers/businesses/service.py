"""Businesses: types, partner accounts, their activation and abilities, their API keys and
wallet addresses; and the typed views other packages use (``get_active_business``,
``get_business_by_address``)."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import OwnerAdminRequired
from pers.balances import service as balances_service
from pers.balances.service import TokenBalance
from pers.businesses import repository
from pers.businesses.errors import (
    BusinessEmailTaken,
    BusinessNotActive,
    BusinessNotFound,
    BusinessTypeCodeTaken,
    BusinessTypeNotFound,
)
from pers.businesses.models import Business, BusinessType
from pers.errors import Forbidden
from pers.kit.addresses import checksum_address
from pers.kit.crypto import sha256_hex
from pers.kit.ids import uuid7
from pers.runtime import Runtime
from pers.wallets.derivation import OwnerType

log = logging.getLogger(__name__)

API_KEY_PREFIX = "pers_biz_"
# Who sees inactive businesses through the read operations; everyone else gets 404 for them.
SEES_INACTIVE = frozenset({PrincipalKind.ADMIN, PrincipalKind.SYSTEM})
PROFILE_FIELDS = frozenset(
    {
        "email",
        "business_legal_name",
        "display_name",
        "description",
        "short_description",
        "website_url",
        "image_url",
        "street_address",
        "city",
        "postal_code",
        "coords_latitude",
        "coords_longitude",
    }
)
ABILITIES = ("can_mint_token", "can_charge_token", "can_manage_users", "can_receive_donation")


@dataclass(frozen=True)
class BusinessView:
    """What other packages need to know of a business (transactions, claims, redemptions)."""

    id: uuid.UUID
    account_address: str
    is_active: bool
    can_mint_token: bool
    can_charge_token: bool
    can_manage_users: bool
    can_receive_donation: bool
    display_name: str


@dataclass(frozen=True)
class BusinessAccount:
    """A business with its current token balances (``/business/business/me``, updates)."""

    business: Business
    token_balances: list[TokenBalance]


@dataclass(frozen=True)
class IssuedBusiness:
    """A new business and its API key, shown this once."""

    business: Business
    api_key: str


class SanitizeMode(StrEnum):
    SOFT = "soft"  # compare each stored accountAddress with its derivation, change nothing
    HARD = "hard"  # overwrite a stored accountAddress that differs from its derivation


@dataclass(frozen=True)
class SanitizeReport:
    mode: SanitizeMode
    checked: int
    mismatched: list[uuid.UUID]
    repaired: list[uuid.UUID]


@dataclass(frozen=True)
class BusinessListing:
    businesses: list[Business]
    sanitized: SanitizeReport | None


def view_of(business: Business) -> BusinessView:
    return BusinessView(
        id=business.id,
        account_address=business.account_address,
        is_active=business.is_active,
        can_mint_token=business.can_mint_token,
        can_charge_token=business.can_charge_token,
        can_manage_users=business.can_manage_users,
        can_receive_donation=business.can_receive_donation,
        display_name=business.display_name,
    )


def is_business_key(value: str) -> bool:
    return value.startswith(API_KEY_PREFIX)


def _new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_hex(32)


# --- business types -----------------------------------------------------------------------


async def list_types(session: AsyncSession, ctx: RequestContext) -> list[BusinessType]:
    return await repository.list_types(session, ctx.tenant)


async def _check_code_free(
    session: AsyncSession, ctx: RequestContext, code: str | None, other_than: int | None = None
) -> None:
    if code is None:
        return
    holder = await repository.get_type_by_code(session, ctx.tenant, code)
    if holder is not None and holder.id != other_than:
        raise BusinessTypeCodeTaken(f"business type {holder.id} already has code {code!r}")


async def create_type(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    name: str,
    description: str,
    code: str | None,
    icon_url: str | None,
) -> BusinessType:
    await _check_code_free(session, ctx, code)
    business_type = BusinessType(
        tenant_id=ctx.tenant,
        name=name,
        description=description,
        code=code,
        icon_url=icon_url,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add_type(session, business_type)
    return business_type


async def update_type(
    session: AsyncSession, ctx: RequestContext, type_id: int, changes: dict[str, Any]
) -> BusinessType:
    """Apply the fields sent; ``code`` and ``icon_url`` may be cleared with null."""
    business_type = await repository.get_type(session, ctx.tenant, type_id, for_update=True)
    if business_type is None:
        raise BusinessTypeNotFound()
    if "code" in changes:
        await _check_code_free(session, ctx, changes["code"], other_than=type_id)
    for name in ("name", "description", "code", "icon_url"):
        if name in changes:
            setattr(business_type, name, changes[name])
    business_type.updated_at = ctx.now
    await session.flush()
    return business_type


async def delete_type(session: AsyncSession, ctx: RequestContext, type_id: int) -> bool:
    """Delete a type. Its businesses stay, without a type (``businessType: null``)."""
    business_type = await repository.get_type(session, ctx.tenant, type_id, for_update=True)
    if business_type is None:
        raise BusinessTypeNotFound()
    detached = await repository.detach_type(session, ctx.tenant, type_id)
    await repository.delete_type(session, ctx.tenant, type_id)
    log.info("business type %s deleted; %d business(es) left without a type", type_id, detached)
    return True


# --- business accounts --------------------------------------------------------------------


async def create_business(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, *, display_name: str
) -> IssuedBusiness:
    """A new business, inactive and with no abilities until an admin activates it. Its wallet
    address is derived now; its API key is returned once."""
    business_id = uuid7()
    api_key = _new_api_key()
    business = Business(
        tenant_id=ctx.tenant,
        id=business_id,
        display_name=display_name,
        account_address=rt.wallets.address(ctx.tenant, OwnerType.BUSINESS, business_id),
        is_active=False,
        can_mint_token=False,
        can_charge_token=False,
        can_manage_users=False,
        can_receive_donation=False,
        api_key_hash=sha256_hex(api_key),
        api_key_issued_at=ctx.now,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, business)
    return IssuedBusiness(await _reload(session, ctx, business_id), api_key)


async def _reload(session: AsyncSession, ctx: RequestContext, business_id: uuid.UUID) -> Business:
    business = await repository.get(session, ctx.tenant, business_id)
    if business is None:
        raise BusinessNotFound()
    return business


async def _lock(session: AsyncSession, ctx: RequestContext, business_id: uuid.UUID) -> Business:
    business = await repository.get(session, ctx.tenant, business_id, for_update=True)
    if business is None:
        raise BusinessNotFound()
    return business


async def rotate_api_key(session: AsyncSession, ctx: RequestContext, business_id: uuid.UUID) -> str:
    """A new API key for the business; the previous one stops working at once."""
    await _lock(session, ctx, business_id)
    api_key = _new_api_key()
    await repository.update_fields(
        session,
        ctx.tenant,
        business_id,
        {"api_key_hash": sha256_hex(api_key), "api_key_issued_at": ctx.now, "updated_at": ctx.now},
    )
    return api_key


async def update_business(
    session: AsyncSession, ctx: RequestContext, business_id: uuid.UUID, changes: dict[str, Any]
) -> BusinessAccount:
    """Apply the profile fields sent; an explicit null clears an optional one."""
    business = await _lock(session, ctx, business_id)
    values = {name: value for name, value in changes.items() if name in PROFILE_FIELDS}
    email = values.get("email")
    if email is not None and await repository.email_taken(
        session, ctx.tenant, email, other_than=business.id
    ):
        raise BusinessEmailTaken(f"{email} is the e-mail of another business")
    if "business_type_id" in changes:
        type_id = changes["business_type_id"]
        if type_id is not None and await repository.get_type(session, ctx.tenant, type_id) is None:
            raise BusinessTypeNotFound(f"business type {type_id} does not exist")
        values["business_type_id"] = type_id
    if values:
        values["updated_at"] = ctx.now
        await repository.update_fields(session, ctx.tenant, business.id, values)
    business = await _reload(session, ctx, business_id)
    return BusinessAccount(business, await token_balances(session, ctx, business.account_address))


async def set_activation(
    session: AsyncSession,
    ctx: RequestContext,
    business_id: uuid.UUID,
    *,
    is_active: bool,
    abilities: dict[str, bool],
) -> Business:
    """Activate or deactivate; abilities not sent keep their current value."""
    business = await _lock(session, ctx, business_id)
    values: dict[str, Any] = {"is_active": is_active, "updated_at": ctx.now}
    values.update({name: abilities[name] for name in ABILITIES if name in abilities})
    await repository.update_fields(session, ctx.tenant, business.id, values)
    return await _reload(session, ctx, business_id)


async def list_active(session: AsyncSession, ctx: RequestContext) -> list[Business]:
    return await repository.list_businesses(session, ctx.tenant, active=True)


async def list_for_admin(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    active: bool | None,
    sanitize: SanitizeMode | None,
) -> BusinessListing:
    """Every business (or only active / inactive ones), optionally sanitized.

    ``sanitize`` checks each listed business's stored ``accountAddress`` against the address
    derived for it now: ``soft`` only reports the differences, ``hard`` overwrites the stored
    address (tokens held at the old one stay there), so it needs an owner-level admin.
    """
    if sanitize is SanitizeMode.HARD and not ctx.is_owner_admin:
        raise OwnerAdminRequired("sanitize=hard rewrites wallet addresses; it needs a SUPER_ADMIN")
    businesses = await repository.list_businesses(session, ctx.tenant, active=active)
    if sanitize is None:
        return BusinessListing(businesses, None)
    mismatched: list[uuid.UUID] = []
    repaired: list[uuid.UUID] = []
    for business in businesses:
        expected = rt.wallets.address(ctx.tenant, OwnerType.BUSINESS, business.id)
        if business.account_address == expected:
            continue
        mismatched.append(business.id)
        log.warning(
            "business %s: stored accountAddress %s differs from the derived %s (sanitize=%s)",
            business.id,
            business.account_address,
            expected,
            sanitize.value,
        )
        if sanitize is SanitizeMode.HARD:
            business.account_address = expected
            business.updated_at = ctx.now
            repaired.append(business.id)
    if repaired:
        await session.flush()
    report = SanitizeReport(sanitize, len(businesses), mismatched, repaired)
    return BusinessListing(businesses, report)


def _visible_to(ctx: RequestContext, business: Business | None) -> Business:
    if business is None or not visible_to(ctx, business):
        raise BusinessNotFound()
    return business


async def get_business(
    session: AsyncSession, ctx: RequestContext, business_id: uuid.UUID
) -> Business:
    """A business by id. Inactive businesses are visible to admins and systems only."""
    return _visible_to(ctx, await repository.get(session, ctx.tenant, business_id))


async def get_business_at(session: AsyncSession, ctx: RequestContext, address: str) -> Business:
    """A business by its ``accountAddress`` (any letter case)."""
    normalized = checksum_address(address)
    if normalized is None:
        raise BusinessNotFound("not an account address")
    return _visible_to(ctx, await repository.get_by_address(session, ctx.tenant, normalized))


# --- for other packages ---------------------------------------------------------------------


async def get_active_business(
    session: AsyncSession, ctx: RequestContext, business_id: uuid.UUID
) -> BusinessView:
    """The business, which must exist in the tenant (404) and be active (422)."""
    row = await repository.view_row(session, ctx.tenant, business_id)
    if row is None:
        raise BusinessNotFound()
    business = BusinessView(*row)
    if not business.is_active:
        raise BusinessNotActive(f"business {business_id} is not active")
    return business


async def businesses_by_ids(
    session: AsyncSession, ctx: RequestContext, business_ids: Iterable[uuid.UUID]
) -> list[Business]:
    """The tenant's businesses among ``business_ids`` (active or not; the caller decides what
    to show), oldest first. Ids of no business of the tenant are left out."""
    return await repository.get_many(session, ctx.tenant, list(dict.fromkeys(business_ids)))


def visible_to(ctx: RequestContext, business: Business) -> bool:
    """Whether the principal may see the business: inactive ones are for admins and systems."""
    return business.is_active or ctx.principal.kind in SEES_INACTIVE


async def get_business_by_address(
    session: AsyncSession, ctx: RequestContext, address: str
) -> BusinessView:
    """The business owning a wallet address, active or not (404 when none does)."""
    normalized = checksum_address(address)
    business = (
        None
        if normalized is None
        else await repository.get_by_address(session, ctx.tenant, normalized)
    )
    if business is None:
        raise BusinessNotFound()
    return view_of(business)


async def ids_by_addresses(
    session: AsyncSession, ctx: RequestContext, addresses: Iterable[str]
) -> dict[str, uuid.UUID]:
    """The ids of the tenant's businesses (active or not) owning these wallet addresses
    (EIP-55 form), by address."""
    return await repository.ids_by_addresses(session, ctx.tenant, list(dict.fromkeys(addresses)))


async def _current(session: AsyncSession, ctx: RequestContext) -> Business:
    principal = ctx.principal
    if principal.kind is not PrincipalKind.BUSINESS or principal.id is None:
        raise Forbidden("only a business (x-api-key with a business key) has a 'me'")
    business = await repository.get(session, ctx.tenant, principal.id)
    if business is None:
        raise BusinessNotFound()
    return business


async def me(session: AsyncSession, ctx: RequestContext) -> BusinessView:
    """The calling business."""
    return view_of(await _current(session, ctx))


async def my_account(session: AsyncSession, ctx: RequestContext) -> BusinessAccount:
    """The calling business with its token balances."""
    business = await _current(session, ctx)
    return BusinessAccount(business, await token_balances(session, ctx, business.account_address))


async def token_balances(
    session: AsyncSession, ctx: RequestContext, account_address: str
) -> list[TokenBalance]:
    """The token balances of a business wallet, from the ledger."""
    return await balances_service.token_balances(session, ctx, account_address)


# --- authentication -------------------------------------------------------------------------


async def find_by_api_key(
    session: AsyncSession, tenant_id: uuid.UUID, api_key: str
) -> BusinessView | None:
    """The business holding this API key in the tenant, active or not; None when no business
    of the tenant holds it (unknown, rotated away, or another tenant's)."""
    business = await repository.get_by_key_hash(session, tenant_id, sha256_hex(api_key))
    return None if business is None else view_of(business)
