"""Token balances of an account: ledger positions joined with the token registry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import RequestContext
from pers.errors import NotFound
from pers.kit.amounts import from_base_units
from pers.ledger import service as ledger
from pers.tokens import service as tokens_service
from pers.tokens.models import TokenType


@dataclass(frozen=True)
class TokenBalance:
    """One holding of an account (the spec's TokenBalanceDTO); ``balance`` in token units."""

    contract_address: str
    chain_id: int
    balance: Decimal
    token_type: str  # ERC20 | ERC721 | ERC1155
    token_id: str | None
    metadata_uri: str | None
    token_name: str | None = None
    token_symbol: str | None = None
    token_metadata_incremental_id: int | None = None


async def token_balances(
    session: AsyncSession, ctx: RequestContext, address: str, *, include_inactive: bool = False
) -> list[TokenBalance]:
    """Every positive holding of ``address`` in the request's environment. NFT holdings carry
    their token id and the item's metadata URI (its web3 storage URL when the item has one)."""
    lines = await ledger.balances_of(session, ctx.tenant, ctx.env, address)
    out: list[TokenBalance] = []
    for token_id in dict.fromkeys(line.token_id for line in lines):
        try:
            token = await tokens_service.get_token(session, ctx, token_id)
        except NotFound:
            continue  # a token no longer served in this environment
        if not token.is_active and not include_inactive:
            continue
        held = [line for line in lines if line.token_id == token_id]
        items: dict[int, int | None] = {}
        if token.type is TokenType.ERC721:
            items = await ledger.nft_metadata(
                session, ctx.tenant, ctx.env, token.id, [line.token_key for line in held]
            )
        for line in held:
            metadata_id = (
                line.token_key if token.type is TokenType.ERC1155 else items.get(line.token_key)
            )
            uri = None
            if metadata_id is not None:
                try:
                    item = await tokens_service.get_token_metadata(
                        session, ctx, token.id, metadata_id
                    )
                    uri = item.web3_storage_url
                except NotFound:
                    uri = None
            out.append(
                TokenBalance(
                    contract_address=token.contract_address,
                    chain_id=token.chain_id,
                    balance=from_base_units(line.amount, token.decimals),
                    token_type=token.type.value,
                    token_id=None if token.type is TokenType.ERC20 else str(line.token_key),
                    metadata_uri=uri,
                    token_name=token.name,
                    token_symbol=token.symbol,
                    token_metadata_incremental_id=metadata_id,
                )
            )
    return out
