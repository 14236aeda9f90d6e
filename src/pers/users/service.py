"""User accounts: lookup and just-in-time creation from logins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.kit.ids import uuid7
from pers.users import repository
from pers.users.models import GUEST_ISSUER, User, UserIdentity
from pers.wallets.derivation import OwnerType, WalletDeriver


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


async def get_active(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> User | None:
    user = await repository.get(session, tenant_id, user_id)
    return user if user is not None and user.is_active else None


async def get(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    return await repository.get(session, tenant_id, user_id)


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
            await repository.lock_key(session, tenant_id, f"email:{verified_email.lower()}")
            if await repository.get_by_email(session, tenant_id, verified_email) is None:
                user.email = verified_email
                await session.flush()
        return user

    user = None
    if verified_email:
        await repository.lock_key(session, tenant_id, f"email:{verified_email.lower()}")
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
