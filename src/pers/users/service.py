"""Users: accounts created by logins, admins and other packages; profiles; lookups by
identifier; user status types.

Every user gets its custodial wallet address at creation (:func:`new_user`), whichever path
creates it. Identifier uniqueness (e-mail case-insensitively, externalId, instagramAccountId)
is enforced by unique indexes; the paths that claim an identifier first take an advisory lock
on it, always in the order e-mail, externalId, instagramAccountId, so concurrent claims of one
value serialize and answer a clear 409 instead of an integrity error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import PrincipalNotAllowed
from pers.balances import service as balances_service
from pers.businesses import service as businesses_service
from pers.kit.addresses import checksum_address
from pers.kit.ids import parse_uuid, uuid7
from pers.kit.pagination import Page, PageRequest
from pers.kit.schemas import is_email
from pers.runtime import Runtime
from pers.users import repository
from pers.users.errors import (
    CannotManageUsers,
    InvalidUserIdentifier,
    UserEmailTaken,
    UserExternalIdTaken,
    UserFieldNotEditable,
    UserIdentifierTaken,
    UserInstagramAccountIdTaken,
    UserNotFound,
    UserStatusTypeNameTaken,
    UserStatusTypeNotFound,
)
from pers.users.models import GUEST_ISSUER, User, UserIdentifier, UserIdentity, UserStatusType
from pers.users.status import current_status
from pers.wallets.derivation import OwnerType, WalletDeriver

MAX_IDENTIFIER_LENGTH = 200

# Identifier columns in lock order, with the identifier each one answers to.
IDENTIFIER_FIELDS: dict[str, UserIdentifier] = {
    "email": UserIdentifier.EMAIL,
    "external_id": UserIdentifier.EXTERNAL_ID,
    "instagram_account_id": UserIdentifier.INSTAGRAM_ACCOUNT_ID,
}
PROFILE_FIELDS = frozenset(
    {"first_name", "last_name", "google_account_name", "custom_data", "public_profile"}
)
# What a user may not change about themselves: the identifiers others send value to, and
# whether the account is active.
ADMIN_ONLY_FIELDS = (*IDENTIFIER_FIELDS, "is_active")
# The User column each identifier names.
FIELD_OF_IDENTIFIER: dict[UserIdentifier, str] = {
    UserIdentifier.ID: "id",
    **{identifier: field for field, identifier in IDENTIFIER_FIELDS.items()},
}
_TAKEN: dict[UserIdentifier, type[UserIdentifierTaken]] = {
    UserIdentifier.EMAIL: UserEmailTaken,
    UserIdentifier.EXTERNAL_ID: UserExternalIdTaken,
    UserIdentifier.INSTAGRAM_ACCOUNT_ID: UserInstagramAccountIdTaken,
}


@dataclass(frozen=True)
class UserView:
    """What other packages need of a user: who it is and where its tokens live."""

    id: uuid.UUID
    account_address: str
    email: str | None
    external_id: str | None
    instagram_account_id: str | None
    is_active: bool


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        account_address=user.account_address,
        email=user.email,
        external_id=user.external_id,
        instagram_account_id=user.instagram_account_id,
        is_active=user.is_active,
    )


def new_user(wallets: WalletDeriver, tenant_id: uuid.UUID, now: datetime, **fields: Any) -> User:
    """A new (unsaved) user with its wallet address: the one constructor every path uses."""
    user_id = uuid7()
    return User(
        tenant_id=tenant_id,
        id=user_id,
        account_address=wallets.address(tenant_id, OwnerType.USER, user_id),
        created_at=now,
        updated_at=now,
        **fields,
    )


def _lock_name(identifier: UserIdentifier, value: str) -> str:
    # ``email:<lower>`` is also the key login_identity takes before attaching an e-mail.
    return f"{identifier.value}:{value.lower() if identifier is UserIdentifier.EMAIL else value}"


async def _find(
    session: AsyncSession, tenant_id: uuid.UUID, identifier: UserIdentifier, value: str
) -> User | None:
    match identifier:
        case UserIdentifier.ID:
            user_id = parse_uuid(value)
            return None if user_id is None else await repository.get(session, tenant_id, user_id)
        case UserIdentifier.EMAIL:
            return await repository.get_by_email(session, tenant_id, value)
        case UserIdentifier.EXTERNAL_ID:
            return await repository.get_by_external_id(session, tenant_id, value)
        case UserIdentifier.INSTAGRAM_ACCOUNT_ID:
            return await repository.get_by_instagram_account_id(session, tenant_id, value)


async def _claim_identifiers(
    session: AsyncSession, tenant_id: uuid.UUID, user: User | None, values: Mapping[str, Any]
) -> None:
    """Lock each identifier ``user`` is about to take and check no other user holds it."""
    for field, identifier in IDENTIFIER_FIELDS.items():
        value = values.get(field)
        if value is None:
            continue
        current = getattr(user, field) if user is not None else None
        if current is not None and _lock_name(identifier, current) == _lock_name(identifier, value):
            continue  # unchanged (an e-mail may change case)
        await repository.lock_key(session, tenant_id, _lock_name(identifier, value))
        holder = await _find(session, tenant_id, identifier, value)
        if holder is not None and (user is None or holder.id != user.id):
            raise _TAKEN[identifier]()


def _require_admin(ctx: RequestContext) -> None:
    if ctx.principal.kind is not PrincipalKind.ADMIN:
        raise PrincipalNotAllowed("only the tenant's admins manage users and status types")


# --- logins (called by pers.auth) ------------------------------------------------------------


async def get_active(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> User | None:
    user = await repository.get(session, tenant_id, user_id)
    return user if user is not None and user.is_active else None


async def login_identity(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    wallets: WalletDeriver,
    issuer: str,
    subject: str,
    verified_email: str | None,
    now: datetime,
) -> User:
    """Find the user of (issuer, subject), or create one.

    A first login whose provider verified an e-mail joins the existing user with that e-mail
    (rewards given to a customer's e-mail before they signed up are theirs), unless that user
    already has another identity at the same issuer. Concurrent first logins are serialized by
    an advisory lock on the identity.
    """
    identity = await repository.get_identity(session, tenant_id, issuer, subject)
    if identity is None:
        await repository.lock_key(session, tenant_id, f"identity:{issuer}:{subject}")
        identity = await repository.get_identity(session, tenant_id, issuer, subject)
    if identity is not None:
        await repository.touch_identity(session, identity)
        user = await repository.get(session, tenant_id, identity.user_id)
        assert user is not None  # guaranteed by the foreign key
        if verified_email and user.email is None:
            # Attach the newly verified e-mail only while no other account holds it.
            await repository.lock_key(
                session, tenant_id, _lock_name(UserIdentifier.EMAIL, verified_email)
            )
            if await repository.get_by_email(session, tenant_id, verified_email) is None:
                user.email = verified_email
                await session.flush()
        return user

    user = None
    if verified_email:
        await repository.lock_key(
            session, tenant_id, _lock_name(UserIdentifier.EMAIL, verified_email)
        )
        existing = await repository.get_by_email(session, tenant_id, verified_email)
        if existing is not None and not await repository.has_identity_from(
            session, tenant_id, existing.id, issuer
        ):
            user = existing
    if user is None:
        email = verified_email
        if email and await repository.get_by_email(session, tenant_id, email) is not None:
            email = None  # taken by an account bound to another identity of this issuer
        user = new_user(wallets, tenant_id, now, email=email)
        await repository.add(session, user)
    await repository.add(
        session,
        UserIdentity(
            tenant_id=tenant_id,
            issuer=issuer,
            subject=subject,
            user_id=user.id,
            email=verified_email,
            created_at=now,
            last_login_at=now,
        ),
    )
    return user


async def create_guest(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    raw_login_data: dict[str, Any],
    now: datetime,
    *,
    wallets: WalletDeriver,
) -> User:
    """A fresh user for an unauthenticated session; never matched to an existing account."""
    user = new_user(wallets, tenant_id, now)
    await repository.add(session, user)
    await repository.add(
        session,
        UserIdentity(
            tenant_id=tenant_id,
            issuer=GUEST_ISSUER,
            subject=str(user.id),
            user_id=user.id,
            raw_login_data=raw_login_data,
            created_at=now,
            last_login_at=now,
        ),
    )
    return user


# --- for other packages ----------------------------------------------------------------------


def _check_new_identifier(identifier: UserIdentifier, value: str) -> None:
    if identifier is UserIdentifier.EMAIL:
        if not is_email(value):
            raise InvalidUserIdentifier(f"{value!r} is not an e-mail address", field="email")
    elif len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidUserIdentifier(
            f"{identifier.value} is longer than {MAX_IDENTIFIER_LENGTH} characters",
            field=identifier.value,
        )


async def resolve_user(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    identifier: UserIdentifier,
    value: str,
    create: bool,
) -> UserView:
    """The tenant's user named by ``identifier`` = ``value``; with ``create``, a new user
    holding that identifier when none has it (never for ``id``).

    E-mails match case-insensitively. Concurrent creations of one identifier make one user.
    Deactivated users are returned too (``is_active`` says so): refusing them is the caller's
    rule. Unknown: 404 ``USER_NOT_FOUND``; an empty value, or an invalid one to create with:
    400 ``INVALID_USER_IDENTIFIER``.
    """
    if not value:
        raise InvalidUserIdentifier(f"{identifier.value} is empty", field=identifier.value)
    found = await _find_view(session, ctx.tenant, identifier, value)
    if found is not None:
        return found
    if create and identifier is not UserIdentifier.ID:
        _check_new_identifier(identifier, value)
        await repository.lock_key(session, ctx.tenant, _lock_name(identifier, value))
        found = await _find_view(session, ctx.tenant, identifier, value)
        if found is not None:
            return found
        field = FIELD_OF_IDENTIFIER[identifier]
        user = new_user(rt.wallets, ctx.tenant, ctx.now, **{field: value})
        await repository.add(session, user)
        return user_view(user)
    raise UserNotFound(f"no user with {identifier.value} {value!r}")


async def _find_view(
    session: AsyncSession, tenant_id: uuid.UUID, identifier: UserIdentifier, value: str
) -> UserView | None:
    key: object = _normalized(identifier, value)
    if identifier is UserIdentifier.ID:
        key = parse_uuid(value)
        if key is None:
            return None
    row = await repository.view_row(session, tenant_id, FIELD_OF_IDENTIFIER[identifier], key)
    return None if row is None else UserView(*row)


def lookup_key(identifier: UserIdentifier, value: str) -> tuple[str, str] | None:
    """The column and value :func:`resolve_user` looks ``value`` up by (an e-mail lower-cased,
    for ``email_key``), for statements that find the user themselves (the fast lane); None
    when no user can have it (an id that is not a uuid)."""
    if identifier is UserIdentifier.ID and parse_uuid(value) is None:
        return None
    return FIELD_OF_IDENTIFIER[identifier], _normalized(identifier, value)


def _normalized(identifier: UserIdentifier, value: str) -> str:
    return value.lower() if identifier is UserIdentifier.EMAIL else value


def _view_of_row(row: Any) -> UserView:
    return UserView(
        id=row.id,
        account_address=row.account_address,
        email=row.email,
        external_id=row.external_id,
        instagram_account_id=row.instagram_account_id,
        is_active=row.is_active,
    )


async def _views_by(
    session: AsyncSession, tenant_id: uuid.UUID, identifier: UserIdentifier, keys: Sequence[str]
) -> dict[str, UserView]:
    """Users by normalized identifier value (ids as canonical UUID strings)."""
    field = FIELD_OF_IDENTIFIER[identifier]
    values: Sequence[object] = keys
    if identifier is UserIdentifier.ID:
        values = [uuid.UUID(key) for key in keys]
    found: dict[str, UserView] = {}
    for row in await repository.rows_where_in(session, tenant_id, field, values):
        view = _view_of_row(row)
        value = str(view.id) if identifier is UserIdentifier.ID else getattr(view, field)
        found[_normalized(identifier, value)] = view
    return found


ResolvedUser = UserView | InvalidUserIdentifier | UserNotFound


async def resolve_users(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    wanted: Iterable[tuple[UserIdentifier, str]],
    *,
    create: bool,
) -> dict[tuple[UserIdentifier, str], ResolvedUser]:
    """:func:`resolve_user` for many values in a few statements, whatever their number: one
    SELECT per identifier kind, one INSERT for the users to create, and one SELECT per kind
    for those a concurrent transaction created first. Each ``(identifier, value)`` as given maps
    to its user, or to the error ``resolve_user`` would raise for it (returned, not raised).
    Values naming one user (e-mails in another case, repeats) resolve to that one user.

    Concurrent creation takes no advisory lock per value: a file can name 100,000 new
    identifiers, and PostgreSQL's shared lock table holds a few thousand locks. Instead the
    INSERT skips (``ON CONFLICT DO NOTHING``) a user whose identifier another transaction
    holds, waiting for that transaction if it is in flight, and the re-SELECT finds that user.
    """
    wanted = list(dict.fromkeys(wanted))
    results: dict[tuple[UserIdentifier, str], ResolvedUser] = {}
    keys: dict[UserIdentifier, dict[str, str]] = {}  # normalized -> first spelling given
    for identifier, value in wanted:
        if not value:
            results[(identifier, value)] = InvalidUserIdentifier(
                f"{identifier.value} is empty", field=identifier.value
            )
        elif identifier is UserIdentifier.ID:
            user_id = parse_uuid(value)
            if user_id is None:
                results[(identifier, value)] = UserNotFound(f"no user with id {value!r}")
            else:
                keys.setdefault(identifier, {}).setdefault(str(user_id), value)
        else:
            keys.setdefault(identifier, {}).setdefault(_normalized(identifier, value), value)

    found: dict[UserIdentifier, dict[str, UserView]] = {}
    for identifier, spellings in keys.items():
        found[identifier] = await _views_by(session, ctx.tenant, identifier, list(spellings))

    if create:
        invalid: dict[tuple[UserIdentifier, str], InvalidUserIdentifier] = {}
        new: list[tuple[UserIdentifier, str]] = []
        for identifier, spellings in keys.items():
            if identifier is UserIdentifier.ID:
                continue
            for key, value in spellings.items():
                if key in found[identifier]:
                    continue
                try:
                    _check_new_identifier(identifier, value)
                except InvalidUserIdentifier as exc:
                    invalid[(identifier, key)] = exc
                else:
                    new.append((identifier, value))
        if new:
            created, lost = await _create_users(session, rt, ctx, new)
            for (identifier, value), created_user in created.items():
                found[identifier][_normalized(identifier, value)] = created_user
            for identifier in {identifier for identifier, _value in lost}:
                lost_keys = [_normalized(i, v) for i, v in lost if i is identifier]
                found[identifier].update(
                    await _views_by(session, ctx.tenant, identifier, lost_keys)
                )
    else:
        invalid = {}

    for identifier, value in wanted:
        if (identifier, value) in results:
            continue
        key = str(parse_uuid(value)) if identifier is UserIdentifier.ID else value
        key = _normalized(identifier, key)
        user = found.get(identifier, {}).get(key)
        if user is not None:
            results[(identifier, value)] = user
        elif (identifier, key) in invalid:
            results[(identifier, value)] = invalid[(identifier, key)]
        else:
            results[(identifier, value)] = UserNotFound(
                f"no user with {identifier.value} {value!r}"
            )
    return results


async def _create_users(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    new: Sequence[tuple[UserIdentifier, str]],
) -> tuple[dict[tuple[UserIdentifier, str], UserView], list[tuple[UserIdentifier, str]]]:
    """Create one user per identifier value, each with its wallet address as :func:`new_user`
    gives it. Returns the users created, and the values skipped because another user took
    them meanwhile."""
    views = []
    for identifier, value in new:
        user_id = uuid7()
        views.append(
            UserView(
                id=user_id,
                account_address=rt.wallets.address(ctx.tenant, OwnerType.USER, user_id),
                email=value if identifier is UserIdentifier.EMAIL else None,
                external_id=value if identifier is UserIdentifier.EXTERNAL_ID else None,
                instagram_account_id=value
                if identifier is UserIdentifier.INSTAGRAM_ACCOUNT_ID
                else None,
                is_active=True,
            )
        )
    inserted = await repository.insert_many(
        session,
        ctx.tenant,
        ctx.now,
        ids=[view.id for view in views],
        addresses=[view.account_address for view in views],
        emails=[view.email for view in views],
        external_ids=[view.external_id for view in views],
        instagram_ids=[view.instagram_account_id for view in views],
    )
    created = {}
    lost = []
    for wanted, view in zip(new, views, strict=True):
        if view.id in inserted:
            created[wanted] = view
        else:
            lost.append(wanted)
    return created, lost


async def users_by_addresses(
    session: AsyncSession, ctx: RequestContext, addresses: Iterable[str]
) -> dict[str, UserView]:
    """The tenant's users owning these wallet addresses (EIP-55 form), by address."""
    rows = await repository.rows_where_in(
        session, ctx.tenant, "account_address", list(dict.fromkeys(addresses))
    )
    return {row.account_address: _view_of_row(row) for row in rows}


async def _by_id(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
) -> User:
    user = await repository.get(session, tenant_id, user_id, for_update=for_update)
    if user is None:
        raise UserNotFound(f"no user with id {user_id}")
    return user


async def get_user_view(session: AsyncSession, ctx: RequestContext, user_id: uuid.UUID) -> UserView:
    found = await find_view(session, ctx.tenant, user_id)
    if found is None:
        raise UserNotFound(f"no user with id {user_id}")
    return found


async def users_by_ids(
    session: AsyncSession, ctx: RequestContext, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, User]:
    """The tenant's users among ``user_ids`` (for other packages that show a user, like claim
    answers); ids of no user of the tenant are left out."""
    return await repository.get_many(session, ctx.tenant, list(dict.fromkeys(user_ids)))


async def find_view(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> UserView | None:
    """The user's view, or None (a plain statement: authentication runs it per request)."""
    row = await repository.view_row(session, tenant_id, "id", user_id)
    return None if row is None else UserView(*row)


async def _by_address(session: AsyncSession, tenant_id: uuid.UUID, address: str) -> User:
    """The user whose wallet is ``address`` (any letter case)."""
    checksummed = checksum_address(address)
    user = None
    if checksummed is not None:
        user = await repository.get_by_address(session, tenant_id, checksummed)
    if user is None:
        raise UserNotFound(f"no user with account address {address!r}")
    return user


async def get_user_by_address(session: AsyncSession, ctx: RequestContext, address: str) -> UserView:
    return user_view(await _by_address(session, ctx.tenant, address))


# --- the user's own account ------------------------------------------------------------------


def own_id(ctx: RequestContext) -> uuid.UUID:
    if ctx.principal.kind is not PrincipalKind.USER or ctx.principal.id is None:
        raise PrincipalNotAllowed("this operation is for a logged-in user")
    return ctx.principal.id


async def _own_user(session: AsyncSession, ctx: RequestContext, *, for_update: bool) -> User:
    user = await repository.get(session, ctx.tenant, own_id(ctx), for_update=for_update)
    if user is None:
        raise UserNotFound()
    return user


async def get_me(session: AsyncSession, ctx: RequestContext) -> User:
    return await _own_user(session, ctx, for_update=False)


async def update_me(session: AsyncSession, ctx: RequestContext, changes: Mapping[str, Any]) -> User:
    """Profile fields change; admin-only fields are accepted only with their current value."""
    user = await _own_user(session, ctx, for_update=True)
    for field in ADMIN_ONLY_FIELDS:
        if field in changes and changes[field] != getattr(user, field):
            raise UserFieldNotEditable(to_camel(field))
    profile = {k: v for k, v in changes.items() if k in PROFILE_FIELDS}
    return await _apply(session, ctx, user, profile)


async def _apply(
    session: AsyncSession, ctx: RequestContext, user: User, changes: Mapping[str, Any]
) -> User:
    await _claim_identifiers(session, ctx.tenant, user, changes)
    for field, value in changes.items():
        setattr(user, field, value)
    user.updated_at = ctx.now
    await session.flush()
    return user


# --- admin -----------------------------------------------------------------------------------


async def list_users(
    session: AsyncSession,
    ctx: RequestContext,
    request: PageRequest,
    *,
    search: str | None = None,
    active: bool | None = None,
) -> Page[User]:
    _require_admin(ctx)
    search = (search or "").strip() or None
    return await repository.list_page(
        session,
        ctx.tenant,
        request,
        search=search,
        active=active,
        search_id=parse_uuid(search) if search else None,
    )


async def get_user(
    session: AsyncSession, ctx: RequestContext, user_id: uuid.UUID, *, for_update: bool = False
) -> User:
    _require_admin(ctx)
    return await _by_id(session, ctx.tenant, user_id, for_update=for_update)


async def create_user(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, fields: Mapping[str, Any]
) -> User:
    """A user created by an admin, before (or without) any login of theirs."""
    _require_admin(ctx)
    await _claim_identifiers(session, ctx.tenant, None, fields)
    user = new_user(rt.wallets, ctx.tenant, ctx.now, **fields)
    await repository.add(session, user)
    return user


async def update_user(
    session: AsyncSession, ctx: RequestContext, user_id: uuid.UUID, changes: Mapping[str, Any]
) -> User:
    user = await get_user(session, ctx, user_id, for_update=True)
    return await _apply(session, ctx, user, changes)


async def toggle_active(session: AsyncSession, ctx: RequestContext, user_id: uuid.UUID) -> User:
    """Deactivate an active user or reactivate an inactive one. A deactivated user's tokens
    answer 401 ``USER_INACTIVE`` and their refresh tokens stop working."""
    user = await get_user(session, ctx, user_id, for_update=True)
    return await _apply(session, ctx, user, {"is_active": not user.is_active})


async def _require_lookup(session: AsyncSession, ctx: RequestContext) -> None:
    """Admins look users up; so does an active business with ``canManageUsers``."""
    kind = ctx.principal.kind
    if kind is PrincipalKind.ADMIN:
        return
    if kind is PrincipalKind.BUSINESS and ctx.principal.id is not None:
        business = await businesses_service.get_active_business(session, ctx, ctx.principal.id)
        if business.can_manage_users:
            return
        raise CannotManageUsers()
    raise PrincipalNotAllowed("only admins and businesses with canManageUsers look users up")


async def find_user(
    session: AsyncSession, ctx: RequestContext, identifier: UserIdentifier, value: str
) -> User:
    """Look a user up by one identifier (``POST /user/info``); never creates."""
    await _require_lookup(session, ctx)
    user = await _find(session, ctx.tenant, identifier, value)
    if user is None:
        raise UserNotFound(f"no user with {identifier.value} {value!r}")
    return user


async def find_user_by_address(session: AsyncSession, ctx: RequestContext, address: str) -> User:
    await _require_lookup(session, ctx)
    return await _by_address(session, ctx.tenant, address)


# --- status types ----------------------------------------------------------------------------


async def list_status_types(session: AsyncSession, ctx: RequestContext) -> Sequence[UserStatusType]:
    """The tenant's status types, lowest threshold first."""
    return await repository.list_status_types(session, ctx.tenant)


async def _check_status_name(
    session: AsyncSession, ctx: RequestContext, name: str, status: UserStatusType | None
) -> None:
    await repository.lock_key(session, ctx.tenant, f"statusType:{name.lower()}")
    holder = await repository.get_status_type_by_name(session, ctx.tenant, name)
    if holder is not None and (status is None or holder.id != status.id):
        raise UserStatusTypeNameTaken(f"a status type is already named {holder.name!r}")


def _unique(addresses: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(addresses))


async def create_status_type(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    name: str,
    description: str | None,
    min_token_balance: Decimal,
    discount_percentage: Decimal,
    image_url: str | None,
    eligible_token_addresses: Sequence[str],
) -> UserStatusType:
    _require_admin(ctx)
    await _check_status_name(session, ctx, name, None)
    status = UserStatusType(
        tenant_id=ctx.tenant,
        name=name,
        description=description,
        min_token_balance=min_token_balance,
        discount_percentage=discount_percentage,
        image_url=image_url,
        eligible_token_addresses=_unique(eligible_token_addresses),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, status)
    return status


async def update_status_type(
    session: AsyncSession, ctx: RequestContext, status_type_id: int, changes: Mapping[str, Any]
) -> UserStatusType:
    """Only the fields in ``changes`` change."""
    _require_admin(ctx)
    status = await repository.get_status_type(session, ctx.tenant, status_type_id, for_update=True)
    if status is None:
        raise UserStatusTypeNotFound(f"no user status type with id {status_type_id}")
    if "name" in changes:
        await _check_status_name(session, ctx, changes["name"], status)
    for field, value in changes.items():
        setattr(status, field, _unique(value) if field == "eligible_token_addresses" else value)
    status.updated_at = ctx.now
    await session.flush()
    return status


async def status_of(
    session: AsyncSession, ctx: RequestContext, user_id: uuid.UUID
) -> UserStatusType | None:
    """The user's current status: the highest status type whose threshold the user's balance
    of that type's eligible tokens reaches (in the request's environment)."""
    user = await _by_id(session, ctx.tenant, user_id)
    held: dict[str, Decimal] = {}
    for line in await balances_service.token_balances(session, ctx, user.account_address):
        held[line.contract_address] = held.get(line.contract_address, Decimal(0)) + line.balance
    return current_status(await repository.list_status_types(session, ctx.tenant), held)


async def get_status_type(
    session: AsyncSession, ctx: RequestContext, status_type_id: int
) -> UserStatusType:
    """One of the tenant's status types (for redemptions' ``minUserStatusTypeId``); 404."""
    status = await repository.get_status_type(session, ctx.tenant, status_type_id)
    if status is None:
        raise UserStatusTypeNotFound(f"no user status type with id {status_type_id}")
    return status


async def status_types_by_ids(
    session: AsyncSession, ctx: RequestContext, status_type_ids: Iterable[int]
) -> dict[int, UserStatusType]:
    """The tenant's status types among ``status_type_ids``, by id."""
    wanted = set(status_type_ids)
    if not wanted:
        return {}
    rows = await repository.list_status_types(session, ctx.tenant)
    return {s.id: s for s in rows if s.id in wanted}
