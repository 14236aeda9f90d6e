"""Tokens: the tenant's contracts (credits, status, rewards), their item metadata and the
token type descriptions, each served for the environment of the request.

A contract address given by an admin is checked on its chain before anything is written (see
``verify_contract``): code exists there, it offers the interface settlement calls, and its
owner is the tenant's operator. The check asks the chain before any lock is taken.

Lock order: a token row (``FOR UPDATE``, or the metadata counter UPDATE) before the tenant's
credit slot (an advisory lock); token creation takes the credit slot only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.chain import probe
from pers.chain.rpc import ChainUnavailable as RpcUnavailable
from pers.chains import service as chains
from pers.chains.errors import ChainEnvironmentMismatch, ChainUnavailable
from pers.chains.registry import Chain
from pers.config import Settings
from pers.errors import Conflict, PersError, ValidationFailed
from pers.kit.addresses import checksum_address
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.ledger import service as ledger
from pers.runtime import Runtime
from pers.tokens import repository
from pers.tokens.abis import CONTRACT_OF
from pers.tokens.addresses import ZERO_ADDRESS
from pers.tokens.errors import (
    ContractDecimalsMismatch,
    ContractInterfaceMissing,
    ContractNotDeployed,
    ContractOperatorMismatch,
    CreditTokenAlreadyActive,
    CreditTokenNotConfigured,
    MainnetAddressAlreadySet,
    TokenAddressTaken,
    TokenMetadataNotFound,
    TokenMetadataNotSupported,
    TokenNotFound,
)
from pers.tokens.models import Token, TokenMetadata, TokenType, TokenTypeDefinition

DEFAULT_ERC20_DECIMALS = 18
MAX_DECIMALS = 36
UPDATABLE_FIELDS = frozenset({"name", "symbol", "is_gallery"})


@dataclass(frozen=True)
class TokenView:
    """A token as one environment sees it: that environment's address, chain and flag."""

    id: uuid.UUID
    type: TokenType
    name: str | None
    symbol: str | None
    decimals: int  # 0 for NFTs
    contract_address: str
    chain_id: int
    is_active: bool
    environment: Environment
    abi_url: str | None
    is_gallery: bool


@dataclass(frozen=True)
class TokenMetadataView:
    id: uuid.UUID
    token_id: uuid.UUID
    incremental_id: int
    name: str | None
    description: str | None
    image_url: str | None
    external_url: str | None
    animation_url: str | None
    youtube_url: str | None
    preview_url: str | None
    creator_account_address: str | None
    expiry_date: datetime | None
    image_web3_storage_url: str | None
    animation_web3_storage_url: str | None
    web3_storage_url: str | None
    is_active: bool


@dataclass(frozen=True)
class TokenDetail:
    """A token with its items: ``metadata`` is None for ERC20 (credits have no items)."""

    token: TokenView
    metadata: tuple[TokenMetadataView, ...] | None


@dataclass(frozen=True)
class TokenTypeView:
    native_token_type: TokenType
    name: str | None
    image_url: str | None
    description: str | None


@dataclass(frozen=True)
class NewTokenMetadata:
    name: str | None = None
    description: str | None = None
    image_url: str | None = None
    external_url: str | None = None
    animation_url: str | None = None
    youtube_url: str | None = None
    preview_url: str | None = None
    creator_account_address: str | None = None
    expiry_date: datetime | None = None


# --- views ------------------------------------------------------------------------------------


def _view(token: Token, env: Environment) -> TokenView:
    address, chain = token.address_in(env), token.chain_in(env)
    if address is None or chain is None:
        raise TokenNotFound(f"token {token.id} has no {env} address")
    return TokenView(
        id=token.id,
        type=token.type,
        name=token.name,
        symbol=token.symbol,
        decimals=token.decimals,
        contract_address=address,
        chain_id=chain,
        is_active=token.is_active_in(env),
        environment=env,
        abi_url=token.abi_url,
        is_gallery=token.is_gallery,
    )


def _metadata_view(row: TokenMetadata) -> TokenMetadataView:
    return TokenMetadataView(
        id=row.id,
        token_id=row.token_id,
        incremental_id=row.incremental_id,
        name=row.name,
        description=row.description,
        image_url=row.image_url,
        external_url=row.external_url,
        animation_url=row.animation_url,
        youtube_url=row.youtube_url,
        preview_url=row.preview_url,
        creator_account_address=row.creator_account_address,
        expiry_date=row.expiry_date,
        image_web3_storage_url=row.image_web3_storage_url,
        animation_web3_storage_url=row.animation_web3_storage_url,
        web3_storage_url=row.web3_storage_url,
        is_active=row.is_active,
    )


def _type_view(row: TokenTypeDefinition) -> TokenTypeView:
    return TokenTypeView(
        native_token_type=row.native_token_type,
        name=row.name,
        image_url=row.image_url,
        description=row.description,
    )


def _is_admin(ctx: RequestContext) -> bool:
    return ctx.principal.kind is PrincipalKind.ADMIN


def _only_active(ctx: RequestContext, active: bool | None) -> bool:
    """Non-admins see active tokens only, whatever they ask. Admins get active ones by default
    (the spec's ``active`` defaults to true) and every token with ``active=false``."""
    if not _is_admin(ctx):
        return True
    return active is not False


async def _details(
    session: AsyncSession, ctx: RequestContext, tokens: list[Token], env: Environment
) -> list[TokenDetail]:
    """Tokens with their items; admins see inactive items too (flagged), others active only."""
    nft_ids = [t.id for t in tokens if t.type is not TokenType.ERC20]
    rows = await repository.list_metadata(
        session, ctx.tenant, nft_ids, only_active=not _is_admin(ctx)
    )
    items: dict[uuid.UUID, list[TokenMetadataView]] = {i: [] for i in nft_ids}
    for row in rows:
        items[row.token_id].append(_metadata_view(row))
    return [
        TokenDetail(
            token=_view(t, env),
            metadata=None if t.type is TokenType.ERC20 else tuple(items[t.id]),
        )
        for t in tokens
    ]


async def _detail(
    session: AsyncSession, ctx: RequestContext, token: Token, env: Environment
) -> TokenDetail:
    return (await _details(session, ctx, [token], env))[0]


async def _require(
    session: AsyncSession,
    ctx: RequestContext,
    token_id: uuid.UUID,
    *,
    for_update: bool = False,
    env: Environment | None = None,
) -> Token:
    env = env or ctx.env
    token = await repository.get_token(session, ctx.tenant, env, token_id, for_update=for_update)
    if token is None:
        raise TokenNotFound(f"no token {token_id} in this tenant's {env}")
    return token


def _taken(exc: repository.UniqueTaken, address: str, env: Environment) -> Exception:
    constraint = exc.constraint or ""
    if "contract_address" in constraint:
        return TokenAddressTaken(f"another token already has {env} address {address}")
    if "credit" in constraint:
        return CreditTokenAlreadyActive()
    return Conflict(f"the token conflicts with an existing one ({constraint or 'unique'})")


async def _other_active_credit(
    session: AsyncSession, tenant_id: uuid.UUID, env: Environment, token_id: uuid.UUID
) -> uuid.UUID | None:
    """Under the tenant's credit lock: the id of another active ERC20 in ``env``, if any."""
    await repository.lock_credit_slot(session, tenant_id)
    active = await repository.active_credit_token(session, tenant_id, env)
    return active.id if active is not None and active.id != token_id else None


def resolve_decimals(
    token_type: TokenType, decimals: int | None, *, field: str = "body.decimals"
) -> int:
    """A token's decimals: ERC20 0..36, 18 when not given; NFTs none (omitted or 0). 400
    ``VALIDATION_ERROR`` naming ``field`` otherwise."""
    if token_type is TokenType.ERC20:
        value = DEFAULT_ERC20_DECIMALS if decimals is None else decimals
        if not 0 <= value <= MAX_DECIMALS:
            raise _invalid(field, f"must be between 0 and {MAX_DECIMALS}")
        return value
    if decimals not in (None, 0):
        raise _invalid(field, f"{token_type} tokens have no decimals")
    return 0


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


def _address(value: str, field: str, *, contract: bool = True) -> str:
    checksummed = checksum_address(value)
    if checksummed is None:
        raise _invalid(field, "not an EVM address (0x and 40 hex digits, valid EIP-55 checksum)")
    if contract and checksummed == ZERO_ADDRESS:
        raise _invalid(field, "the zero address is not a contract")
    return checksummed


# --- the chain check --------------------------------------------------------------------------


def side_chain(settings: Settings, env: Environment, chain_id: int) -> Chain:
    """The chain of a token's ``env`` side: a configured chain (422 ``CHAIN_NOT_CONFIGURED``),
    a testnet for the testnet side and not one for the mainnet side (422
    ``CHAIN_ENVIRONMENT_MISMATCH``: testnet credentials must never move value on a real chain,
    and mainnet balances must not live on a test chain)."""
    chain = chains.configured_chain(settings, chain_id)
    if chain.is_testnet != (env is Environment.TESTNET):
        kind = "a testnet" if chain.is_testnet else "not a testnet"
        needed = "a testnet" if env is Environment.TESTNET else "a chain that is not a testnet"
        raise ChainEnvironmentMismatch(
            f"chain {chain_id} is {kind}: the {env} side of a token needs {needed}",
            chainId=chain_id,
        )
    return chain


def _rejected(exc: probe.ContractRejected, chain: Chain, address: str, operator: str) -> PersError:
    where = {"chainId": chain.chain_id, "contractAddress": address}
    match exc.reason:
        case probe.Rejection.NOT_DEPLOYED:
            return ContractNotDeployed(exc.detail, **where)
        case probe.Rejection.OPERATOR_MISMATCH:
            return ContractOperatorMismatch(
                exc.detail, operatorAddress=operator, ownerAddress=exc.owner, **where
            )
        case probe.Rejection.DECIMALS_MISMATCH:
            return ContractDecimalsMismatch(exc.detail, contractDecimals=exc.decimals, **where)
        case probe.Rejection.INTERFACE_MISSING:
            return ContractInterfaceMissing(exc.detail, function=exc.function, **where)


async def verify_contract(
    rt: Runtime,
    tenant_id: uuid.UUID,
    chain: Chain,
    *,
    contract_address: str,
    token_type: TokenType,
    decimals: int,
) -> None:
    """Ask ``chain`` whether the contract at ``contract_address`` is a ``token_type`` token
    settlement can drive for this tenant: code there, pers's operator interface, ``owner()``
    the tenant's operator (its issuer wallet), ERC20 ``decimals()`` equal to ``decimals``. 422
    ``CONTRACT_NOT_DEPLOYED``, ``CONTRACT_INTERFACE_MISSING``, ``CONTRACT_OPERATOR_MISMATCH``
    (naming the operator to hand the ownership to) or ``CONTRACT_DECIMALS_MISMATCH``; 503
    ``CHAIN_UNAVAILABLE`` when the chain cannot be asked."""
    operator = ledger.issuer_address(rt.wallets, tenant_id)
    try:
        w3 = await rt.rpc.client(chain.rpc_url)
        await probe.check_token_contract(
            w3,
            chain_id=chain.chain_id,
            address=contract_address,
            kind=CONTRACT_OF[token_type],
            operator=operator,
            decimals=decimals if token_type is TokenType.ERC20 else None,
        )
    except RpcUnavailable as exc:
        raise ChainUnavailable(
            f"chain {chain.chain_id} could not be asked about the contract ({exc}); try again",
            chainId=chain.chain_id,
        ) from None
    except probe.ContractRejected as exc:
        raise _rejected(exc, chain, contract_address, operator) from None


# --- tokens -----------------------------------------------------------------------------------


async def _register(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    now: datetime,
    *,
    token_type: TokenType,
    address: str,
    chain_id: int,
    decimals: int,
    abi_url: str | None,
    name: str | None,
    symbol: str | None,
) -> Token:
    token_id = uuid7()
    is_active = True
    if token_type is TokenType.ERC20:
        is_active = (
            await _other_active_credit(session, tenant_id, Environment.TESTNET, token_id) is None
        )
    token = Token(
        tenant_id=tenant_id,
        id=token_id,
        type=token_type,
        name=name,
        symbol=symbol,
        decimals=decimals,
        abi_url=abi_url,
        is_gallery=False,
        testnet_contract_address=address,
        testnet_chain_id=chain_id,
        testnet_is_active=is_active,
        mainnet_contract_address=None,
        mainnet_chain_id=None,
        mainnet_is_active=False,
        last_metadata_incremental_id=0,
        created_at=now,
        updated_at=now,
    )
    try:
        await repository.add_token(session, token)
    except repository.UniqueTaken as exc:
        raise _taken(exc, address, Environment.TESTNET) from exc
    return token


async def create_token(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token_type: TokenType,
    contract_address: str,
    abi_url: str | None = None,
    decimals: int | None = None,
    chain_id: int | None = None,
    name: str | None = None,
    symbol: str | None = None,
) -> TokenDetail:
    """Register a testnet token contract (``chain_id`` defaults to the deployment's testnet
    chain) once the chain confirms it (``verify_contract``). It starts active, except an ERC20
    while another ERC20 is the active credit token: that one starts inactive, so registering a
    replacement never takes the current one down."""
    address = _address(contract_address, "body.contractAddress")
    token_decimals = resolve_decimals(token_type, decimals)
    chain = side_chain(
        rt.settings,
        Environment.TESTNET,
        rt.settings.testnet_chain_id if chain_id is None else chain_id,
    )
    await verify_contract(
        rt,
        ctx.tenant,
        chain,
        contract_address=address,
        token_type=token_type,
        decimals=token_decimals,
    )
    token = await _register(
        session,
        ctx.tenant,
        ctx.now,
        token_type=token_type,
        address=address,
        chain_id=chain.chain_id,
        decimals=token_decimals,
        abi_url=abi_url,
        name=name,
        symbol=symbol,
    )
    return await _detail(session, ctx, token, Environment.TESTNET)


async def register_deployed_token(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    now: datetime,
    *,
    token_type: TokenType,
    contract_address: str,
    chain_id: int,
    decimals: int,
    name: str,
    symbol: str,
) -> TokenView:
    """Register, on its testnet side, a contract pers itself deployed for the tenant (with the
    operator key, from pers's own bytecode): as ``create_token`` would, without asking the chain
    again. The caller has bound the session to the tenant."""
    address = _address(contract_address, "contractAddress")
    token = await _register(
        session,
        tenant_id,
        now,
        token_type=token_type,
        address=address,
        chain_id=chain_id,
        decimals=resolve_decimals(token_type, decimals),
        abi_url=None,
        name=name,
        symbol=symbol,
    )
    return _view(token, Environment.TESTNET)


def _mainnet_set(token: Token, address: str, chain_id: int) -> bool:
    """Whether ``token`` already has this mainnet contract; 409 when it has another."""
    if token.mainnet_contract_address is None:
        return False
    if (token.mainnet_contract_address, token.mainnet_chain_id) != (address, chain_id):
        raise MainnetAddressAlreadySet(
            f"token {token.id} is on mainnet at {token.mainnet_contract_address} "
            f"(chain {token.mainnet_chain_id})"
        )
    return True


async def set_mainnet_address(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    token_id: uuid.UUID,
    *,
    contract_address: str,
    chain_id: int,
) -> TokenDetail:
    """Give a token its mainnet contract, on a configured chain that is not a testnet, once
    that chain confirms it (``verify_contract``); answers the token as mainnet sees it.
    Repeating the call with the same address and chain is a no-op; another address is refused,
    because mainnet balances and history refer to the first one."""
    address = _address(contract_address, "path.contractAddress")
    chain = side_chain(rt.settings, Environment.MAINNET, chain_id)
    token = await repository.get_token_any_env(session, ctx.tenant, token_id)
    if token is None:
        raise TokenNotFound(f"no token {token_id} in this tenant")
    if _mainnet_set(token, address, chain_id):
        return await _detail(session, ctx, token, Environment.MAINNET)
    # Asked before the token row is locked: a slow chain must not hold the row.
    await verify_contract(
        rt,
        ctx.tenant,
        chain,
        contract_address=address,
        token_type=token.type,
        decimals=token.decimals,
    )
    await repository.refresh(session, token, for_update=True)
    if _mainnet_set(token, address, chain_id):
        return await _detail(session, ctx, token, Environment.MAINNET)
    is_active = True
    if token.type is TokenType.ERC20:
        is_active = (
            await _other_active_credit(session, ctx.tenant, Environment.MAINNET, token.id) is None
        )
    try:
        await repository.update_token(
            session,
            ctx.tenant,
            token.id,
            {
                "mainnet_contract_address": address,
                "mainnet_chain_id": chain_id,
                "mainnet_is_active": is_active,
                "updated_at": ctx.now,
            },
        )
    except repository.UniqueTaken as exc:
        raise _taken(exc, address, Environment.MAINNET) from exc
    await repository.refresh(session, token)
    return await _detail(session, ctx, token, Environment.MAINNET)


async def toggle_active(
    session: AsyncSession, ctx: RequestContext, token_id: uuid.UUID
) -> TokenDetail:
    """Flip the token's active flag in the request's environment. Activating an ERC20 while
    another ERC20 is active there answers 409 ``CREDIT_TOKEN_ALREADY_ACTIVE``: the credit token
    is what purchases and balances use, so it never changes as a side effect."""
    env = ctx.env
    token = await _require(session, ctx, token_id, for_update=True)
    activate = not token.is_active_in(env)
    if activate and token.type is TokenType.ERC20:
        other = await _other_active_credit(session, ctx.tenant, env, token.id)
        if other is not None:
            raise CreditTokenAlreadyActive(
                f"token {other} is the active credit token on {env}; deactivate it first",
                activeTokenId=str(other),
            )
    values = {f"{env.value}_is_active": activate, "updated_at": ctx.now}
    try:
        await repository.update_token(session, ctx.tenant, token.id, values)
    except repository.UniqueTaken as exc:
        raise _taken(exc, token.address_in(env) or "", env) from exc
    await repository.refresh(session, token)
    return await _detail(session, ctx, token, env)


async def update_token(
    session: AsyncSession, ctx: RequestContext, token_id: uuid.UUID, changes: dict[str, Any]
) -> TokenDetail:
    """Change the fields sent (``name``, ``symbol``, ``is_gallery``); they are the token's in
    both environments."""
    token = await _require(session, ctx, token_id, for_update=True)
    values = {k: v for k, v in changes.items() if k in UPDATABLE_FIELDS}
    if values:
        values["updated_at"] = ctx.now
        await repository.update_token(session, ctx.tenant, token.id, values)
        await repository.refresh(session, token)
    return await _detail(session, ctx, token, ctx.env)


async def list_tokens(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    token_type: TokenType | None = None,
    active: bool | None = None,
) -> list[TokenDetail]:
    """The tenant's tokens available in the request's environment (see ``_only_active``)."""
    env = ctx.env
    tokens = await repository.list_tokens(
        session, ctx.tenant, env, token_type=token_type, only_active=_only_active(ctx, active)
    )
    return await _details(session, ctx, tokens, env)


async def get_credit_token_detail(session: AsyncSession, ctx: RequestContext) -> TokenDetail:
    token = await repository.active_credit_token(session, ctx.tenant, ctx.env)
    if token is None:
        raise CreditTokenNotConfigured(f"no active ERC20 token on {ctx.env}")
    return await _detail(session, ctx, token, ctx.env)


# --- for other packages (ledger, campaigns, redemptions, purchases) ----------------------------


async def get_token(
    session: AsyncSession,
    ctx: RequestContext,
    token_id: uuid.UUID,
    *,
    env: Environment | None = None,
) -> TokenView:
    """The token as the request's environment (or ``env``) sees it, active or not (callers
    decide whether an inactive token may be used). 404 ``TOKEN_NOT_FOUND`` for a missing token,
    another tenant's, or one without an address in that environment."""
    env = env or ctx.env
    return _view(await _require(session, ctx, token_id, env=env), env)


async def token_details(
    session: AsyncSession,
    ctx: RequestContext,
    token_ids: Iterable[uuid.UUID],
    *,
    env: Environment,
) -> dict[uuid.UUID, TokenDetail]:
    """The tokens among ``token_ids`` available in ``env``, with their items (as the token
    lists show them to this principal), by id. Missing ones are left out."""
    tokens = await repository.get_tokens(session, ctx.tenant, env, list(dict.fromkeys(token_ids)))
    return {d.token.id: d for d in await _details(session, ctx, tokens, env)}


@dataclass(frozen=True)
class SeenToken:
    """A token as one environment sees it (None when it has no side there: a campaign or
    redemption shows such a unit without its token rather than dropping it), and its decimals."""

    detail: TokenDetail | None
    decimals: int


async def tokens_as_seen(
    session: AsyncSession,
    ctx: RequestContext,
    wanted: Iterable[tuple[uuid.UUID, Environment]],
) -> dict[tuple[uuid.UUID, Environment], SeenToken]:
    """Tokens by (id, environment) for the token units of campaigns and redemptions, in one
    statement per environment (plus one for tokens missing on their side). Ids of no token of
    the tenant are left out."""
    wanted = list(dict.fromkeys(wanted))
    seen: dict[Environment, dict[uuid.UUID, TokenDetail]] = {}
    for env in {env for _, env in wanted}:
        ids = [token_id for token_id, e in wanted if e is env]
        seen[env] = await token_details(session, ctx, ids, env=env)
    # Every token has its testnet side, which gives the decimals of one missing elsewhere.
    missing = [token_id for token_id, env in wanted if token_id not in seen[env]]
    fallback = await token_details(session, ctx, missing, env=Environment.TESTNET)
    out: dict[tuple[uuid.UUID, Environment], SeenToken] = {}
    for token_id, env in wanted:
        detail = seen[env].get(token_id)
        known = detail or fallback.get(token_id)
        if known is not None:
            out[(token_id, env)] = SeenToken(detail, known.token.decimals)
    return out


async def get_credit_token(session: AsyncSession, ctx: RequestContext) -> TokenView:
    """The tenant's active ERC20 in the request's environment; 422
    ``CREDIT_TOKEN_NOT_CONFIGURED`` when there is none."""
    row = await repository.active_credit_view_row(session, ctx.tenant, ctx.env)
    if row is None:
        raise CreditTokenNotConfigured(f"no active ERC20 token on {ctx.env}")
    token_id, token_type, name, symbol, decimals, address, chain, active, abi_url, gallery = row
    return TokenView(
        id=token_id, type=TokenType(token_type), name=name, symbol=symbol, decimals=decimals,
        contract_address=address, chain_id=chain, is_active=active, environment=ctx.env,
        abi_url=abi_url, is_gallery=gallery,
    )  # fmt: skip


async def get_by_contract_address(
    session: AsyncSession, ctx: RequestContext, address: str
) -> TokenView:
    """The token at ``address`` in the request's environment (any case spelling of the
    address); 404 ``TOKEN_NOT_FOUND`` otherwise."""
    checksummed = checksum_address(address)
    token = None
    if checksummed is not None:
        token = await repository.get_token_by_address(session, ctx.tenant, ctx.env, checksummed)
    if token is None:
        raise TokenNotFound(f"no token at {address} on {ctx.env}")
    return _view(token, ctx.env)


async def get_token_metadata(
    session: AsyncSession,
    ctx: RequestContext,
    token_id: uuid.UUID,
    incremental_id: int,
    *,
    env: Environment | None = None,
) -> TokenMetadataView:
    """One item of a token (available in the request's environment, or ``env``) by its
    incremental id, active or not; 404 otherwise."""
    await _require(session, ctx, token_id, env=env)
    row = await repository.get_metadata_by_incremental_id(
        session, ctx.tenant, token_id, incremental_id
    )
    if row is None:
        raise TokenMetadataNotFound(f"token {token_id} has no metadata {incremental_id}")
    return _metadata_view(row)


async def mintable_item(
    session: AsyncSession, ctx: RequestContext, token: TokenView, incremental_id: int
) -> bool:
    """Whether ``token`` (as the request's environment sees it: the caller resolved it) has
    the item ``incremental_id`` active; 404 ``TOKEN_METADATA_NOT_FOUND`` when it has no such
    item. One plain statement: mints ask it every time."""
    active = await repository.item_is_active(session, ctx.tenant, token.id, incremental_id)
    if active is None:
        raise TokenMetadataNotFound(f"token {token.id} has no metadata {incremental_id}")
    return active


# --- metadata ---------------------------------------------------------------------------------


async def create_metadata(
    session: AsyncSession, ctx: RequestContext, token_id: uuid.UUID, new: NewTokenMetadata
) -> TokenMetadataView:
    """Add an item to an NFT token with the next ``tokenMetadataIncrementalId`` (1, 2, 3...)."""
    token = await _require(session, ctx, token_id)
    if token.type is TokenType.ERC20:
        raise TokenMetadataNotSupported(f"token {token_id} is an ERC20 (credit) token")
    creator = None
    if new.creator_account_address is not None:
        creator = _address(
            new.creator_account_address, "body.creatorAccountAddress", contract=False
        )
    incremental_id = await repository.next_metadata_incremental_id(session, ctx.tenant, token.id)
    row = TokenMetadata(
        tenant_id=ctx.tenant,
        id=uuid7(),
        token_id=token.id,
        incremental_id=incremental_id,
        name=new.name,
        description=new.description,
        image_url=new.image_url,
        external_url=new.external_url,
        animation_url=new.animation_url,
        youtube_url=new.youtube_url,
        preview_url=new.preview_url,
        creator_account_address=creator,
        expiry_date=new.expiry_date,
        image_web3_storage_url=None,
        animation_web3_storage_url=None,
        web3_storage_url=None,
        is_active=True,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add_metadata(session, row)
    return _metadata_view(row)


async def toggle_metadata_active(
    session: AsyncSession, ctx: RequestContext, metadata_id: uuid.UUID
) -> TokenMetadataView:
    row = await repository.get_metadata(session, ctx.tenant, metadata_id, for_update=True)
    token = None
    if row is not None:
        token = await repository.get_token(session, ctx.tenant, ctx.env, row.token_id)
    if row is None or token is None:
        raise TokenMetadataNotFound(f"no token metadata {metadata_id} in this tenant's {ctx.env}")
    row.is_active = not row.is_active
    row.updated_at = ctx.now
    await session.flush()
    return _metadata_view(row)


# --- token types ------------------------------------------------------------------------------


async def define_token_type(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    native_token_type: TokenType,
    name: str | None,
    image_url: str | None,
    description: str | None,
) -> tuple[TokenTypeView, bool]:
    """Create the tenant's description of a native type, or replace it (the fields not sent
    become null). Returns the type and whether it was created."""
    row, created = await repository.upsert_type(
        session,
        {
            "tenant_id": ctx.tenant,
            "native_token_type": native_token_type,
            "name": name,
            "image_url": image_url,
            "description": description,
            "created_at": ctx.now,
            "updated_at": ctx.now,
        },
    )
    return _type_view(row), created


async def list_token_types(session: AsyncSession, ctx: RequestContext) -> list[TokenTypeView]:
    """The tenant's token types in the order ERC20, ERC721, ERC1155 (shared by testnet and
    mainnet: they only describe how the tenant presents each kind)."""
    order = list(TokenType)
    rows = await repository.list_types(session, ctx.tenant)
    return [_type_view(r) for r in sorted(rows, key=lambda r: order.index(r.native_token_type))]
