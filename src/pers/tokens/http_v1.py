"""Token module (seed 001): 12 operations. Every token is shown as the request's environment
(project key or JWT) sees it: its testnet or its mainnet address, chain and active flag."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import AwareDatetime, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.errors import PROBLEM_CONTENT_TYPE
from pers.kit.schemas import WireInput, WireModel
from pers.runtime import Runtime
from pers.tokens import service
from pers.tokens.abis import standard_abi
from pers.tokens.addresses import AccountAddress, ContractAddress
from pers.tokens.models import TokenType
from pers.tokens.service import TokenDetail, TokenMetadataView, TokenTypeView
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/token", route_class=PersRoute, tags=["Token"])

ADMIN = Access(PrincipalKind.ADMIN)
READERS = Access(
    PrincipalKind.PUBLIC,
    PrincipalKind.USER,
    PrincipalKind.ADMIN,
    PrincipalKind.SYSTEM,
    PrincipalKind.BUSINESS,
)
Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]

MAX_CHAIN_ID = 2**63 - 1
URL_MAX = 2048
ABI_URL_PATTERN = r"^(https?|ipfs|ar)://\S+$"
ACTIVE_DOC = (
    "Filter for active tokens only (default: true). Only admins can pass `false`, which lists "
    "inactive tokens too; everyone else always gets active tokens only."
)

Url = Annotated[str, Field(max_length=URL_MAX)]


# --- wire schemas -----------------------------------------------------------------------------


class TokenMetadataRead(WireModel):
    image_url: str | None = Field(default=None, description="URL of the item's image.")
    external_url: str | None = Field(default=None, description="URL shown below the image.")
    description: str | None = Field(default=None, description="Markdown description.")
    name: str | None = Field(default=None, description="Name of the item.")
    expiry_date: AwareDatetime | None = Field(
        default=None, description="Expiry date in case of a utility reward."
    )
    animation_url: str | None = Field(default=None, description="Multi-media attachment URL.")
    youtube_url: str | None = Field(default=None, description="YouTube video URL.")
    creator_account_address: str | None = Field(default=None, description="Creator address.")
    preview_url: str | None = Field(default=None, description="Preview URL.")
    id: uuid.UUID = Field(description="Token metadata id.")
    animation_web3_storage_url: str | None = Field(
        default=None, description="web3 storage URL of the animation (not pinned by pers: null)."
    )
    image_web3_storage_url: str | None = Field(
        default=None, description="web3 storage URL of the image (not pinned by pers: null)."
    )
    web3_storage_url: str | None = Field(
        default=None, description="Storage URL (not pinned by pers: null)."
    )
    token_metadata_incremental_id: int = Field(
        description="The item's number within its token (1, 2, 3...): its on-chain token id."
    )
    is_active: bool


class TokenRead(WireModel):
    id: uuid.UUID = Field(description="Id of the token.")
    contract_address: str = Field(
        description="Address of the token contract in the request's environment (EIP-55)."
    )
    metadata: list[TokenMetadataRead] | None = Field(
        description="The token's items (ERC721/ERC1155); null for ERC20 (credit) tokens. "
        "Admins also see inactive items."
    )
    abi: list[dict[str, Any]] = Field(
        description="The contract interface: pers's built-in ABI of the token's type."
    )
    chain_id: int = Field(description="Chain id of the contract in the request's environment.")
    abi_url: str | None = Field(description="The ABI URL given at registration, or null.")
    name: str | None = Field(description="Name of the token contract.")
    symbol: str | None = Field(description="Symbol of the token contract.")
    decimals: int = Field(description="Decimals of an ERC20 token; 0 for ERC721 and ERC1155.")
    is_active: bool = Field(description="Whether the token is usable in this environment.")
    is_gallery: bool = Field(description="Whether the token is shown as a gallery.")
    type: TokenType = Field(description="The underlying web3 native type of the contract.")


class TokenCreate(WireInput):
    contract_address: ContractAddress = Field(
        description="Address of the token contract on the testnet chain."
    )
    abi_url: Url | None = Field(
        default=None,
        pattern=ABI_URL_PATTERN,
        description="URL of the contract ABI (http, https, ipfs or ar). Optional: the token's "
        "`abi` is always pers's built-in ABI of its type.",
    )
    type: TokenType
    decimals: int | None = Field(
        default=None,
        ge=0,
        le=service.MAX_DECIMALS,
        description="Decimals of an ERC20 token (default 18). ERC721/ERC1155 have none: omit "
        "it or send 0.",
    )
    chain_id: int | None = Field(
        default=None,
        gt=0,
        le=MAX_CHAIN_ID,
        description="pers extension: the testnet chain id (default: the deployment's "
        "`PERS_TESTNET_CHAIN_ID`).",
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="pers extension: token name."
    )
    symbol: str | None = Field(
        default=None, min_length=1, max_length=32, description="pers extension: token symbol."
    )

    @model_validator(mode="after")
    def _nft_without_decimals(self) -> TokenCreate:
        if self.type is not TokenType.ERC20 and self.decimals not in (None, 0):
            raise ValueError(f"decimals: {self.type} tokens have no decimals (omit it or send 0)")
        return self


class TokenUpdate(WireInput):
    is_gallery: bool | None = Field(
        default=None, description="Whether the token should be shown as a gallery."
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    symbol: str | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("is_gallery")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class TokenMetadataCreate(WireInput):
    image_url: Url | None = None
    external_url: Url | None = None
    description: str | None = Field(default=None, max_length=10_000)
    name: str | None = Field(default=None, max_length=500)
    expiry_date: AwareDatetime | None = Field(
        default=None, description="ISO 8601 date-time with a time zone."
    )
    animation_url: Url | None = None
    youtube_url: Url | None = None
    creator_account_address: AccountAddress | None = None
    preview_url: Url | None = None

    def to_new(self) -> service.NewTokenMetadata:
        return service.NewTokenMetadata(
            name=self.name,
            description=self.description,
            image_url=self.image_url,
            external_url=self.external_url,
            animation_url=self.animation_url,
            youtube_url=self.youtube_url,
            preview_url=self.preview_url,
            creator_account_address=self.creator_account_address,
            expiry_date=self.expiry_date,
        )


class TokenTypeCreate(WireInput):
    native_token_type: TokenType = Field(
        description="ERC20: credits; ERC721: stamps and NFTs; ERC1155: rewards."
    )
    name: str | None = Field(default=None, max_length=200, description="Token type name.")
    image_url: Url | None = Field(default=None, description="Token type image URL.")
    description: str | None = Field(default=None, max_length=5000)


class TokenTypeRead(WireModel):
    native_token_type: TokenType
    name: str | None = None
    image_url: str | None = None
    description: str | None = None


# --- mapping ----------------------------------------------------------------------------------


def metadata_read(m: TokenMetadataView) -> TokenMetadataRead:
    return TokenMetadataRead(
        image_url=m.image_url,
        external_url=m.external_url,
        description=m.description,
        name=m.name,
        expiry_date=m.expiry_date,
        animation_url=m.animation_url,
        youtube_url=m.youtube_url,
        creator_account_address=m.creator_account_address,
        preview_url=m.preview_url,
        id=m.id,
        animation_web3_storage_url=m.animation_web3_storage_url,
        image_web3_storage_url=m.image_web3_storage_url,
        web3_storage_url=m.web3_storage_url,
        token_metadata_incremental_id=m.incremental_id,
        is_active=m.is_active,
    )


def token_read(d: TokenDetail) -> TokenRead:
    t = d.token
    return TokenRead(
        id=t.id,
        contract_address=t.contract_address,
        metadata=None if d.metadata is None else [metadata_read(m) for m in d.metadata],
        abi=standard_abi(t.type),
        chain_id=t.chain_id,
        abi_url=t.abi_url,
        name=t.name,
        symbol=t.symbol,
        decimals=t.decimals,
        is_active=t.is_active,
        is_gallery=t.is_gallery,
        type=t.type,
    )


def type_read(v: TokenTypeView) -> TokenTypeRead:
    return TokenTypeRead(
        native_token_type=v.native_token_type,
        name=v.name,
        image_url=v.image_url,
        description=v.description,
    )


# --- admin operations -------------------------------------------------------------------------


@router.post(
    "/admin",
    summary="ADMIN: Create a new testnet token contract",
    response_model=TokenRead,
    status_code=201,
)
async def create_token(
    body: TokenCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TokenRead:
    """Register a token contract on testnet; it can later get a mainnet address. The chain is
    asked first: code must exist at the address (422 `CONTRACT_NOT_DEPLOYED`), offer pers's
    operator interface for its type (422 `CONTRACT_INTERFACE_MISSING`), be owned by the
    tenant's operator (422 `CONTRACT_OPERATOR_MISMATCH`, naming it) and, for an ERC20, have the
    registered decimals (422 `CONTRACT_DECIMALS_MISMATCH`); an unreachable chain answers 503
    `CHAIN_UNAVAILABLE`. The answer shows the testnet side. A new token is active, except an
    ERC20 while another ERC20 is the active credit token: it starts inactive (409 on activation
    until the other is off)."""
    detail = await service.create_token(
        session,
        rt,
        ctx,
        token_type=body.type,
        contract_address=body.contract_address,
        abi_url=body.abi_url,
        decimals=body.decimals,
        chain_id=body.chain_id,
        name=body.name,
        symbol=body.symbol,
    )
    return token_read(detail)


@router.put(
    "/admin/{id}/mainnet/{contractAddress}/chain/{chainId}",
    summary="ADMIN: Create mainnet token Address for existing token",
    response_model=TokenRead,
)
async def set_mainnet_address(
    session: Session,
    rt: Rt,
    id: uuid.UUID,
    contractAddress: str = Path(max_length=42),
    chainId: int = Path(gt=0, le=MAX_CHAIN_ID),
    ctx: RequestContext = Depends(ADMIN),
) -> TokenRead:
    """Give the token its mainnet contract on a configured chain that is not a testnet (422
    `CHAIN_NOT_CONFIGURED`, `CHAIN_ENVIRONMENT_MISMATCH`); the chain must confirm the contract
    as for the registration (422 `CONTRACT_*`, 503 `CHAIN_UNAVAILABLE`). The answer shows the
    mainnet side. Until then the token does not exist for mainnet requests. The same address
    again is a no-op; another one answers 409 `TOKEN_MAINNET_ADDRESS_ALREADY_SET`."""
    detail = await service.set_mainnet_address(
        session, rt, ctx, id, contract_address=contractAddress, chain_id=chainId
    )
    return token_read(detail)


@router.put(
    "/admin/{id}/toggle-active", summary="ADMIN: Toggle token active", response_model=TokenRead
)
async def toggle_token_active(
    session: Session, id: uuid.UUID, ctx: RequestContext = Depends(ADMIN)
) -> TokenRead:
    """Toggle the token's active flag in the request's environment. At most one ERC20 is
    active per environment: activating a second answers 409 `CREDIT_TOKEN_ALREADY_ACTIVE`."""
    return token_read(await service.toggle_active(session, ctx, id))


@router.put("/admin/{id}", summary="ADMIN: Update token", response_model=TokenRead)
async def update_token(
    session: Session,
    id: uuid.UUID,
    body: TokenUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> TokenRead:
    """Change the fields sent; `null` clears `name` or `symbol`."""
    return token_read(await service.update_token(session, ctx, id, body.changes()))


@router.post(
    "/admin/{id}/metadata",
    summary="ADMIN: Create token metadata",
    response_model=TokenMetadataRead,
    status_code=201,
)
async def create_token_metadata(
    session: Session,
    id: uuid.UUID,
    body: TokenMetadataCreate,
    ctx: RequestContext = Depends(ADMIN),
) -> TokenMetadataRead:
    """Add an item to an ERC721 or ERC1155 token; it gets the token's next
    `tokenMetadataIncrementalId` (1, 2, 3...). ERC20 tokens answer 422
    `TOKEN_METADATA_NOT_SUPPORTED`."""
    return metadata_read(await service.create_metadata(session, ctx, id, body.to_new()))


@router.put(
    "/admin/metadata/{id}/toggle-active",
    summary="ADMIN: Toggle token metadata active",
    response_model=TokenMetadataRead,
)
async def toggle_token_metadata_active(
    session: Session, id: uuid.UUID, ctx: RequestContext = Depends(ADMIN)
) -> TokenMetadataRead:
    """Toggle an item's active flag (in both environments: items are shared)."""
    return metadata_read(await service.toggle_metadata_active(session, ctx, id))


@router.post(
    "/admin/type",
    summary="ADMIN: Create a new token type",
    response_model=TokenTypeRead,
    status_code=201,
    responses={200: {"description": "The existing type of this `nativeTokenType`, replaced"}},
)
async def create_token_type(
    body: TokenTypeCreate,
    session: Session,
    response: Response,
    ctx: RequestContext = Depends(ADMIN),
) -> TokenTypeRead:
    """Describe how the tenant presents a native type. One type per `nativeTokenType`: posting
    one that exists replaces it (200; fields not sent become null)."""
    view, created = await service.define_token_type(
        session,
        ctx,
        native_token_type=body.native_token_type,
        name=body.name,
        image_url=body.image_url,
        description=body.description,
    )
    response.status_code = 201 if created else 200
    return type_read(view)


# --- reads ------------------------------------------------------------------------------------


@router.get("/type", summary="Get all token types", response_model=list[TokenTypeRead])
async def list_token_types(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[TokenTypeRead]:
    """The tenant's token types (ERC20, ERC721, ERC1155 order)."""
    return [type_read(v) for v in await service.list_token_types(session, ctx)]


@router.get("", summary="Get all token contracts", response_model=list[TokenRead])
async def list_tokens(
    session: Session,
    ctx: RequestContext = Depends(READERS),
    active: bool | None = Query(None, description=ACTIVE_DOC),
) -> list[TokenRead]:
    """The tenant's token contracts in the request's environment."""
    return [token_read(d) for d in await service.list_tokens(session, ctx, active=active)]


@router.get(
    "/credit",
    summary="Get active credit token contracts",
    response_model=TokenRead,
    responses={
        422: {
            "description": "No active credit token (CREDIT_TOKEN_NOT_CONFIGURED)",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
async def credit_token(session: Session, ctx: RequestContext = Depends(READERS)) -> TokenRead:
    """The tenant's active ERC20 (credit) token in the request's environment; 422
    `CREDIT_TOKEN_NOT_CONFIGURED` when there is none."""
    return token_read(await service.get_credit_token_detail(session, ctx))


@router.get("/reward", summary="Get all reward token contracts", response_model=list[TokenRead])
async def reward_tokens(
    session: Session,
    ctx: RequestContext = Depends(READERS),
    active: bool | None = Query(None, description=ACTIVE_DOC),
) -> list[TokenRead]:
    """The tenant's ERC1155 (reward) tokens in the request's environment."""
    details = await service.list_tokens(session, ctx, token_type=TokenType.ERC1155, active=active)
    return [token_read(d) for d in details]


@router.get("/status", summary="Get all status token contracts", response_model=list[TokenRead])
async def status_tokens(
    session: Session,
    ctx: RequestContext = Depends(READERS),
    active: bool | None = Query(None, description=ACTIVE_DOC),
) -> list[TokenRead]:
    """The tenant's ERC721 (status) tokens in the request's environment."""
    details = await service.list_tokens(session, ctx, token_type=TokenType.ERC721, active=active)
    return [token_read(d) for d in details]


METADATA_ID_MAX = 2**31 - 1  # tokenMetadataIncrementalId is stored as a PostgreSQL integer


def metadata_incremental_id(value: object) -> int | None:
    """``tokenMetadataIncrementalId`` of a request body: the spec types it as a number, a string
    or an object in different bodies; accept a positive integer (up to the stored integer's
    bound) in any of those spellings. For ``field_validator(..., mode="before")``."""
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is None or not 1 <= number <= METADATA_ID_MAX:
        raise ValueError("tokenMetadataIncrementalId must be a positive integer")
    return number
