from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, literal_column, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import driver
from pers.kit.enums import Environment
from pers.tokens.models import Token, TokenMetadata, TokenType, TokenTypeDefinition


class UniqueTaken(Exception):
    """An insert or update hit a unique constraint; ``constraint`` names it."""

    def __init__(self, constraint: str | None) -> None:
        super().__init__(constraint)
        self.constraint = constraint


def _constraint(exc: IntegrityError) -> str | None:
    orig: Any = exc.orig
    name = getattr(orig, "constraint_name", None) or getattr(
        getattr(orig, "__cause__", None), "constraint_name", None
    )
    return str(name) if name else None


def _in_env(env: Environment) -> ColumnElement[bool]:
    if env is Environment.MAINNET:
        return Token.mainnet_contract_address.is_not(None)
    return true()


def _active_in(env: Environment) -> ColumnElement[bool]:
    column = Token.mainnet_is_active if env is Environment.MAINNET else Token.testnet_is_active
    return column.expression


def _address_column(env: Environment) -> Any:
    if env is Environment.MAINNET:
        return Token.mainnet_contract_address
    return Token.testnet_contract_address


# --- tokens -----------------------------------------------------------------------------------


async def get_token(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    env: Environment,
    token_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Token | None:
    """The token if it exists in the tenant and is available in ``env``."""
    stmt = select(Token).where(Token.tenant_id == tenant_id, Token.id == token_id, _in_env(env))
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_tokens(
    session: AsyncSession, tenant_id: uuid.UUID, env: Environment, token_ids: Sequence[uuid.UUID]
) -> list[Token]:
    """The tokens among ``token_ids`` that exist in the tenant and are available in ``env``."""
    if not token_ids:
        return []
    result = await session.execute(
        select(Token).where(
            Token.tenant_id == tenant_id, Token.id.in_(list(token_ids)), _in_env(env)
        )
    )
    return list(result.scalars())


async def get_token_any_env(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID, *, for_update: bool = False
) -> Token | None:
    stmt = select(Token).where(Token.tenant_id == tenant_id, Token.id == token_id)
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_token_by_address(
    session: AsyncSession, tenant_id: uuid.UUID, env: Environment, address: str
) -> Token | None:
    result = await session.execute(
        select(Token).where(Token.tenant_id == tenant_id, _address_column(env) == address)
    )
    return result.scalar_one_or_none()


async def list_tokens(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    env: Environment,
    *,
    token_type: TokenType | None,
    only_active: bool,
) -> list[Token]:
    stmt = select(Token).where(Token.tenant_id == tenant_id, _in_env(env))
    if token_type is not None:
        stmt = stmt.where(Token.type == token_type)
    if only_active:
        stmt = stmt.where(_active_in(env))
    result = await session.execute(stmt.order_by(Token.created_at, Token.id))
    return list(result.scalars())


async def active_credit_token(
    session: AsyncSession, tenant_id: uuid.UUID, env: Environment
) -> Token | None:
    result = await session.execute(
        select(Token).where(
            Token.tenant_id == tenant_id,
            Token.type == TokenType.ERC20,
            _in_env(env),
            _active_in(env),
        )
    )
    return result.scalar_one_or_none()


def _credit_view_sql(env: Environment) -> str:
    p = env.value  # column names from the Environment enum, never from input
    columns = f"{p}_contract_address, {p}_chain_id, {p}_is_active"
    where = f"{p}_is_active AND {p}_contract_address IS NOT NULL"
    return (
        f"SELECT id, type, name, symbol, decimals, {columns}, abi_url, is_gallery"  # noqa: S608
        f" FROM tokens WHERE tenant_id = $1 AND type = 'ERC20' AND {where}"
    )


_CREDIT_VIEW = {env: _credit_view_sql(env) for env in Environment}


async def active_credit_view_row(
    session: AsyncSession, tenant_id: uuid.UUID, env: Environment
) -> tuple[Any, ...] | None:
    """The columns of the active credit token as ``env`` sees it (id, type, name, symbol,
    decimals, address, chain, active, abi url, gallery): a plain statement on the driver
    connection, for the mints and charges that read it on every request."""
    conn = await driver(session)
    row = await conn.fetchrow(_CREDIT_VIEW[env], tenant_id)
    return None if row is None else tuple(row)


async def lock_credit_slot(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Serialize the changes that may make an ERC20 the tenant's active credit token, so the
    one-active-ERC20 rule is decided by a check (a clear answer), not by the unique index."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"tokens:credit:{tenant_id}"},
    )


async def add_token(session: AsyncSession, token: Token) -> None:
    try:
        async with session.begin_nested():
            session.add(token)
    except IntegrityError as exc:
        raise UniqueTaken(_constraint(exc)) from exc


async def update_token(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID, values: dict[str, Any]
) -> None:
    try:
        async with session.begin_nested():
            await session.execute(
                update(Token)
                .where(Token.tenant_id == tenant_id, Token.id == token_id)
                .values(**values)
            )
    except IntegrityError as exc:
        raise UniqueTaken(_constraint(exc)) from exc


async def refresh(
    session: AsyncSession, row: Token | TokenMetadata, *, for_update: bool = False
) -> None:
    """Reload ``row``; ``for_update`` locks it (``SELECT ... FOR UPDATE``) as it reloads."""
    await session.refresh(row, with_for_update=True if for_update else None)


async def next_metadata_incremental_id(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID
) -> int:
    """Allocate the token's next incremental id. The UPDATE locks the token row until the
    transaction ends, so concurrent allocations queue and get consecutive ids; a rolled-back
    allocation rolls the counter back with it (no gaps)."""
    result = await session.execute(
        update(Token)
        .where(Token.tenant_id == tenant_id, Token.id == token_id)
        .values(last_metadata_incremental_id=Token.last_metadata_incremental_id + 1)
        .returning(Token.last_metadata_incremental_id)
    )
    return int(result.scalar_one())


# --- metadata ---------------------------------------------------------------------------------


async def list_metadata(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    token_ids: Sequence[uuid.UUID],
    *,
    only_active: bool,
) -> list[TokenMetadata]:
    if not token_ids:
        return []
    stmt = select(TokenMetadata).where(
        TokenMetadata.tenant_id == tenant_id, TokenMetadata.token_id.in_(token_ids)
    )
    if only_active:
        stmt = stmt.where(TokenMetadata.is_active)
    result = await session.execute(
        stmt.order_by(TokenMetadata.token_id, TokenMetadata.incremental_id)
    )
    return list(result.scalars())


async def get_metadata(
    session: AsyncSession, tenant_id: uuid.UUID, metadata_id: uuid.UUID, *, for_update: bool
) -> TokenMetadata | None:
    stmt = select(TokenMetadata).where(
        TokenMetadata.tenant_id == tenant_id, TokenMetadata.id == metadata_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_metadata_by_incremental_id(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID, incremental_id: int
) -> TokenMetadata | None:
    result = await session.execute(
        select(TokenMetadata).where(
            TokenMetadata.tenant_id == tenant_id,
            TokenMetadata.token_id == token_id,
            TokenMetadata.incremental_id == incremental_id,
        )
    )
    return result.scalar_one_or_none()


_ITEM_ACTIVE = (
    "SELECT is_active FROM token_metadata WHERE tenant_id = $1 AND token_id = $2"
    " AND incremental_id = $3"
)


async def item_is_active(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID, incremental_id: int
) -> bool | None:
    """Whether the item is active; None when the token has no such item. A plain statement
    on the driver connection: every NFT mint asks it."""
    conn = await driver(session)
    found = await conn.fetchval(_ITEM_ACTIVE, tenant_id, token_id, incremental_id)
    return None if found is None else bool(found)


async def add_metadata(session: AsyncSession, row: TokenMetadata) -> None:
    session.add(row)
    await session.flush()


# --- token types ------------------------------------------------------------------------------


async def upsert_type(
    session: AsyncSession, values: dict[str, Any]
) -> tuple[TokenTypeDefinition, bool]:
    """Insert the tenant's definition of a native type, or replace the one there. One statement,
    so concurrent first definitions cannot both insert. Returns the row and whether it is new."""
    insert = pg_insert(TokenTypeDefinition).values(**values)
    stmt = insert.on_conflict_do_update(
        index_elements=[TokenTypeDefinition.tenant_id, TokenTypeDefinition.native_token_type],
        set_={
            "name": insert.excluded.name,
            "image_url": insert.excluded.image_url,
            "description": insert.excluded.description,
            "updated_at": insert.excluded.updated_at,
        },
    ).returning(TokenTypeDefinition, literal_column("xmax = 0", Boolean))
    result = await session.execute(stmt, execution_options={"populate_existing": True})
    row = result.one()
    return row[0], bool(row[1])


async def list_types(session: AsyncSession, tenant_id: uuid.UUID) -> list[TokenTypeDefinition]:
    result = await session.execute(
        select(TokenTypeDefinition).where(TokenTypeDefinition.tenant_id == tenant_id)
    )
    return list(result.scalars())
