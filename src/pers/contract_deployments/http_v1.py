"""pers extension of the Token module: deploy a token contract for the tenant.

``POST /token/admin/deploy`` records the deployment (202): the settlement relayer sends it with
the tenant's operator key, and the token appears once the chain confirms it
(``GET /token/admin/deploy/{id}`` says when: ``status`` and ``tokenId``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.contract_deployments import service
from pers.contract_deployments.models import DeploymentKind, DeploymentStatus
from pers.contract_deployments.service import DeploymentView
from pers.kit.enums import Environment
from pers.kit.schemas import WireInput, WireModel
from pers.runtime import Runtime
from pers.tokens.models import TokenType
from pers.tokens.service import MAX_DECIMALS
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/token/admin/deploy", route_class=PersRoute, tags=["Token"])

ADMIN = Access(PrincipalKind.ADMIN)
Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The contracts keep base URIs of up to 432 bytes (checked in bytes by the service).
BASE_URI_MAX = 432


class DeploymentCreate(WireInput):
    type: TokenType = Field(description="ERC20 (credit), ERC721 (status) or ERC1155 (reward).")
    name: str = Field(min_length=1, max_length=200, description="The token's name.")
    symbol: str = Field(min_length=1, max_length=32, description="The token's symbol.")
    decimals: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DECIMALS,
        description="Decimals of an ERC20 token (default 18). ERC721/ERC1155 have none: omit "
        "it or send 0.",
    )
    base_uri: str | None = Field(
        default=None,
        min_length=1,
        max_length=BASE_URI_MAX,
        description="ERC721/ERC1155: the metadata base URI (a token's URI is it followed by "
        "the decimal id). ERC20 has none.",
    )

    @model_validator(mode="after")
    def _per_type(self) -> DeploymentCreate:
        if self.type is not TokenType.ERC20 and self.decimals not in (None, 0):
            raise ValueError(f"decimals: {self.type} tokens have no decimals (omit it or send 0)")
        if self.type is TokenType.ERC20 and self.base_uri is not None:
            raise ValueError("baseUri: ERC20 tokens have no base URI")
        return self


class DeploymentRead(WireModel):
    id: uuid.UUID = Field(description="Id of the deployment.")
    type: TokenType
    kind: DeploymentKind = Field(description="pers's contract: credit, status or reward.")
    name: str
    symbol: str
    decimals: int
    base_uri: str | None
    environment: Environment = Field(description="Where the token is registered (testnet).")
    chain_id: int
    status: DeploymentStatus = Field(
        description="created, processing (being sent), broadcasted (sent), succeeded (the "
        "token is registered: `tokenId`) or failed (`failureReason`)."
    )
    contract_address: str | None = Field(description="Once succeeded: the contract (EIP-55).")
    token_id: uuid.UUID | None = Field(description="Once succeeded: the registered token.")
    transaction_hash: str | None = Field(description="Once sent: the creation transaction.")
    failure_reason: str | None
    chain_send_id: uuid.UUID | None = Field(
        description="The settlement relayer's record of the transaction, once claimed."
    )
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


def deployment_read(v: DeploymentView) -> DeploymentRead:
    return DeploymentRead(
        id=v.id,
        type=v.token_type,
        kind=v.kind,
        name=v.name,
        symbol=v.symbol,
        decimals=v.decimals,
        base_uri=v.base_uri,
        environment=v.environment,
        chain_id=v.chain_id,
        status=v.status,
        contract_address=v.contract_address,
        token_id=v.token_id,
        transaction_hash=v.transaction_hash,
        failure_reason=v.failure_reason,
        chain_send_id=v.chain_send_id,
        created_at=v.created_at,
        updated_at=v.updated_at,
        completed_at=v.completed_at,
    )


@router.post(
    "",
    summary="Extension: ADMIN: Deploy a new token contract",
    response_model=DeploymentRead,
    status_code=202,
)
async def request_deployment(
    body: DeploymentCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> DeploymentRead:
    """Deploy pers's credit (ERC20), status (ERC721) or reward (ERC1155) contract for the tenant
    on its testnet chain, owned by the tenant's operator. Accepted (202) as a deployment in
    status `created`: the settlement relayer sends it, and once the chain confirms it the token
    is registered (as `POST /token/admin` would) and the deployment `succeeded` with its
    `tokenId`."""
    view = await service.request_deployment(
        session,
        rt,
        ctx,
        token_type=body.type,
        name=body.name,
        symbol=body.symbol,
        decimals=body.decimals,
        base_uri=body.base_uri,
    )
    return deployment_read(view)


@router.get(
    "",
    summary="Extension: ADMIN: Get the tenant's contract deployments",
    response_model=list[DeploymentRead],
)
async def list_deployments(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    status: DeploymentStatus | None = Query(default=None, description="Only this status"),
    page: int = Query(default=1, ge=1, description="Page number, from 1"),
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Per page"),
) -> list[DeploymentRead]:
    """The tenant's contract deployments, oldest first (plain array)."""
    views = await service.list_deployments(
        session, ctx, status=status, limit=limit, offset=(page - 1) * limit
    )
    return [deployment_read(v) for v in views]


@router.get(
    "/{id}",
    summary="Extension: ADMIN: Get a contract deployment",
    response_model=DeploymentRead,
)
async def get_deployment(
    id: uuid.UUID, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> DeploymentRead:
    """A deployment of the tenant; another tenant's answers 404 like a missing one."""
    return deployment_read(await service.get_deployment(session, ctx, id))
