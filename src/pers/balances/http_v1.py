"""Balance (v1.7): token balances of the current user and of any account address."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import PrincipalNotAllowed
from pers.balances import service
from pers.balances.service import TokenBalance
from pers.errors import BadRequest
from pers.kit.addresses import checksum_address
from pers.kit.amounts import WireAmount
from pers.kit.schemas import WireModel
from pers.users import service as users_service
from pers.web import Access, PersRoute, get_session

router = APIRouter(prefix="/balance", route_class=PersRoute, tags=["Balance"])
Session = Annotated[AsyncSession, Depends(get_session)]
ANYONE = Access(
    PrincipalKind.PUBLIC, PrincipalKind.USER, PrincipalKind.ADMIN, PrincipalKind.SYSTEM,
    PrincipalKind.BUSINESS,
)  # fmt: skip


class InvalidAddress(BadRequest):
    code = "INVALID_ADDRESS"
    title = "Not an EVM address (0x and 40 hex digits, valid EIP-55 checksum)"


class TokenBalanceRead(WireModel):
    contract_address: str
    chain_id: int
    balance: WireAmount
    token_name: str | None = None
    token_symbol: str | None = None
    token_type: Literal["ERC20", "ERC721", "ERC1155"]
    token_id: str | None = Field(description="On-chain token id (NFTs); null for ERC20")
    metadata_uri: str | None
    token_metadata_incremental_id: int | None = None


def balance_read(b: TokenBalance) -> TokenBalanceRead:
    return TokenBalanceRead(
        contract_address=b.contract_address,
        chain_id=b.chain_id,
        balance=b.balance,
        token_name=b.token_name,
        token_symbol=b.token_symbol,
        token_type=b.token_type,
        token_id=b.token_id,
        metadata_uri=b.metadata_uri,
        token_metadata_incremental_id=b.token_metadata_incremental_id,
    )


class AccountBalances(WireModel):
    account_address: str
    token_balances: list[TokenBalanceRead]


IncludeInactive = Annotated[
    bool, Query(alias="includeInactive", description="Also list tokens that are not active")
]


@router.get("/auth/me", summary="AUTH USER: Get my token balances", response_model=AccountBalances)
async def my_balances(
    session: Session,
    include_inactive: IncludeInactive = False,
    ctx: RequestContext = Depends(Access(PrincipalKind.USER)),
) -> AccountBalances:
    """The logged-in user's balances in the request's environment."""
    if ctx.principal.id is None:
        raise PrincipalNotAllowed("this operation is for a logged-in user")
    user = await users_service.get_user_view(session, ctx, ctx.principal.id)
    lines = await service.token_balances(
        session, ctx, user.account_address, include_inactive=include_inactive
    )
    return AccountBalances(
        account_address=user.account_address, token_balances=[balance_read(b) for b in lines]
    )


@router.get("/account/{accountAddress}", summary="Get token balances of an account address",
            response_model=AccountBalances)  # fmt: skip
async def account_balances(
    accountAddress: str,
    session: Session,
    include_inactive: IncludeInactive = False,
    ctx: RequestContext = Depends(ANYONE),
) -> AccountBalances:
    """What any address holds in this tenant's books (balances are public on-chain too)."""
    address = checksum_address(accountAddress)
    if address is None:
        raise InvalidAddress(f"{accountAddress!r} is not an EVM address")
    lines = await service.token_balances(session, ctx, address, include_inactive=include_inactive)
    return AccountBalances(account_address=address, token_balances=[balance_read(b) for b in lines])
