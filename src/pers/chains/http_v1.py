"""Web3 Chain and Web3 Contract modules of v1.7 (catalog section 7).

``GET /chain/{chainId}`` is the v1.7 path the catalog infers (the page was not stored; v2 has
``GET /chains/{chainId}``); ``GET /chain`` is an extension listing every configured chain.
``POST /contract`` declares no security in v1.7 (the backend's own TODO says "add auth
decorators"): pers requires a tenant admin, and adds the reads ``GET /contract`` and
``GET /contract/{id}``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.chains import service
from pers.chains.models import ContractType, NativeTokenType
from pers.chains.registry import Chain
from pers.chains.service import ContractView, NewContract
from pers.config import MAX_CHAIN_ID
from pers.kit.enums import Environment
from pers.kit.schemas import EvmAddress, WireInput, WireModel
from pers.runtime import Runtime
from pers.web import Access, PersRoute, get_runtime, get_session

chain_router = APIRouter(prefix="/chain", route_class=PersRoute, tags=["Web3 Chain"])
contract_router = APIRouter(prefix="/contract", route_class=PersRoute, tags=["Web3 Contract"])

ADMIN = Access(PrincipalKind.ADMIN)
READERS = Access(
    PrincipalKind.PUBLIC,
    PrincipalKind.USER,
    PrincipalKind.BUSINESS,
    PrincipalKind.SYSTEM,
    PrincipalKind.ADMIN,
)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]
ChainId = Annotated[
    int, Path(alias="chainId", ge=1, le=MAX_CHAIN_ID, description="The EIP-155 chain id")
]
ContractId = Annotated[uuid.UUID, Path(alias="id", description="The id of the contract")]


# --- wire schemas ---------------------------------------------------------------------------


class NativeCurrencyRead(WireModel):
    name: str = Field(description="Name of the chain's native currency (gas token)")
    symbol: str
    decimals: int


class ChainRead(WireModel):
    chain_id: int = Field(description="EIP-155 chain id")
    name: str
    is_testnet: bool
    environment: Environment | None = Field(
        description="The tenant environment this deployment settles on the chain "
        "(testnet, mainnet), or null"
    )
    confirmations: int = Field(
        description="Blocks on top of a transaction's block before settlement counts it final"
    )
    rpc_url: str | None = Field(
        description="Public JSON-RPC endpoint, when the operator published one. The URL pers "
        "itself calls is never shown (it may carry the provider's credentials)."
    )
    explorer_url: str | None = Field(description="Block explorer, if any")
    native_currency: NativeCurrencyRead
    is_dev_chain: bool = Field(description="The embedded development chain of pers")


class ContractCreate(WireInput):
    contract_address: EvmAddress = Field(description="Address of the deployed contract")
    chain_id: int = Field(ge=1, le=MAX_CHAIN_ID, description="Chain the contract lives on")
    contract_type: ContractType
    implementation_address: EvmAddress | None = Field(
        default=None, description="The implementation behind a proxy (required for proxies)"
    )
    owner_address: EvmAddress | None = None
    factory_address: EvmAddress | None = Field(
        default=None, description="The factory that deployed the contract"
    )
    contract_version: str | None = Field(default=None, min_length=1, max_length=64)
    native_token_type: NativeTokenType | None = Field(
        default=None, description="Token contracts only; defaults to contractType"
    )
    salt: str | None = Field(
        default=None, min_length=1, max_length=256, description="CREATE2 salt (proxy factories)"
    )
    tx_hash: str | None = Field(
        default=None, pattern=r"^0x[0-9a-fA-F]{64}$", description="The deployment transaction"
    )
    abi_url: str | None = Field(default=None, min_length=1, max_length=2048)


class ContractRead(WireModel):
    id: uuid.UUID
    contract_address: str
    chain_id: int
    contract_type: ContractType
    implementation_address: str | None
    owner_address: str | None
    factory_address: str | None
    contract_version: str | None
    native_token_type: NativeTokenType | None
    salt: str | None
    tx_hash: str | None
    abi_url: str | None
    is_proxy: bool = Field(description="True when the contract names an implementation")
    created_at: datetime
    updated_at: datetime


# --- mapping --------------------------------------------------------------------------------


def chain_read(chain: Chain) -> ChainRead:
    currency = chain.native_currency
    return ChainRead(
        chain_id=chain.chain_id,
        name=chain.name,
        is_testnet=chain.is_testnet,
        environment=chain.environment,
        confirmations=chain.confirmations,
        rpc_url=chain.public_rpc_url,
        explorer_url=chain.explorer_url,
        native_currency=NativeCurrencyRead(
            name=currency.name, symbol=currency.symbol, decimals=currency.decimals
        ),
        is_dev_chain=chain.is_dev_chain,
    )


def contract_read(view: ContractView) -> ContractRead:
    return ContractRead(
        id=view.id,
        contract_address=view.contract_address,
        chain_id=view.chain_id,
        contract_type=view.contract_type,
        implementation_address=view.implementation_address,
        owner_address=view.owner_address,
        factory_address=view.factory_address,
        contract_version=view.contract_version,
        native_token_type=view.native_token_type,
        salt=view.salt,
        tx_hash=view.tx_hash,
        abi_url=view.abi_url,
        is_proxy=view.is_proxy,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


# --- chains ---------------------------------------------------------------------------------


@chain_router.get(
    "", summary="Extension: Get all configured chains", response_model=list[ChainRead]
)
async def list_chains(rt: Rt, ctx: RequestContext = Depends(READERS)) -> list[ChainRead]:
    """Every chain of the deployment: the built-in dev chain (unless configured), then
    `PERS_CHAINS` in order. `environment` says which one each tenant environment uses."""
    return [chain_read(chain) for chain in service.list_chains(rt.settings)]


@chain_router.get("/{chainId}", summary="Get chain data", response_model=ChainRead)
async def get_chain(chain_id: ChainId, rt: Rt, ctx: RequestContext = Depends(READERS)) -> ChainRead:
    """A configured chain: name, testnet flag, confirmation depth, public RPC endpoint,
    explorer and native currency. 404 `CHAIN_NOT_FOUND` for any other chain id."""
    return chain_read(service.get_chain(rt.settings, chain_id))


# --- contracts ------------------------------------------------------------------------------


@contract_router.post(
    "", summary="ADMIN: Create a new contract", response_model=ContractRead, status_code=201
)
async def create_contract(
    body: ContractCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> ContractRead:
    """Register a contract of the tenant on a configured chain (422 `CHAIN_NOT_CONFIGURED`
    otherwise). One registration per chain and address (409 `CONTRACT_ALREADY_REGISTERED`).
    A `SMART_WALLET_PROXY` names its `implementationAddress`; `nativeTokenType` belongs to
    token contracts only. Whether code exists at the address is not checked yet."""
    new = NewContract(
        contract_address=body.contract_address,
        chain_id=body.chain_id,
        contract_type=body.contract_type,
        implementation_address=body.implementation_address,
        owner_address=body.owner_address,
        factory_address=body.factory_address,
        contract_version=body.contract_version,
        native_token_type=body.native_token_type,
        salt=body.salt,
        tx_hash=body.tx_hash,
        abi_url=body.abi_url,
    )
    return contract_read(await service.register_contract(session, rt.settings, ctx, new))


@contract_router.get(
    "", summary="Extension: ADMIN: Get the tenant's contracts", response_model=list[ContractRead]
)
async def list_contracts(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    chain_id: int | None = Query(
        default=None, alias="chainId", ge=1, le=MAX_CHAIN_ID, description="Only this chain"
    ),
    contract_type: ContractType | None = Query(
        default=None, alias="contractType", description="Only this type"
    ),
    page: int = Query(default=1, ge=1, description="Page number, from 1"),
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Per page"),
) -> list[ContractRead]:
    """The tenant's registered contracts in registration order."""
    views = await service.list_contracts(
        session, ctx, chain_id=chain_id, contract_type=contract_type,
        limit=limit, offset=(page - 1) * limit,
    )  # fmt: skip
    return [contract_read(v) for v in views]


@contract_router.get(
    "/{id}", summary="Extension: ADMIN: Get a contract", response_model=ContractRead
)
async def get_contract(
    contract_id: ContractId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> ContractRead:
    """A contract of the tenant; another tenant's answers 404 like a missing one."""
    return contract_read(await service.get_contract(session, ctx, contract_id))
