"""The built-in ABIs served for tokens registered without an ``abiUrl``: the ABIs of the contracts
pers deploys (``pers.chain.contracts``, compiled from our Vyper sources), one per token type:
credit (ERC20), status (ERC721), reward (ERC1155). Each has its standard's functions and events
plus the operator's (``owner``/``transferOwnership``, mint, burn, operator transfers and
batches), so a wallet or explorer reading the served ABI sees what settlement calls.
"""

from __future__ import annotations

from pers.chain.contracts import Abi, ContractName, shared_abi
from pers.tokens.models import TokenType

CONTRACT_OF = {
    TokenType.ERC20: ContractName.CREDIT,
    TokenType.ERC721: ContractName.STATUS,
    TokenType.ERC1155: ContractName.REWARD,
}

__all__ = ["Abi", "standard_abi"]


def standard_abi(token_type: TokenType) -> Abi:
    """The ABI of ``token_type``'s contract, shared by every caller: read it, never change it
    (a token's response shows it, and claims and redeems show tokens on every request)."""
    return shared_abi(CONTRACT_OF[token_type])
