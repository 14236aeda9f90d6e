"""The built-in ABIs: the standard interfaces (checked against their ERC-165 interface ids and
well-known selectors), the operator functions, and which one each token serves."""

from __future__ import annotations

from functools import reduce
from typing import Any

import httpx
import pytest
from eth_utils.abi import event_abi_to_log_topic, function_abi_to_4byte_selector

from pers.chain import contracts
from pers.tokens.abis import standard_abi
from pers.tokens.models import TokenType
from tests.conftest import TenantHandle
from tests.tokens.conftest import create_token, list_tokens


def functions(abi: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Functions by their canonical signature, e.g. ``transfer(address,uint256)``."""
    return {
        f"{e['name']}({','.join(i['type'] for i in e['inputs'])})": e
        for e in abi
        if e["type"] == "function"
    }


def selector(abi: list[dict[str, Any]], signature: str) -> int:
    return int.from_bytes(function_abi_to_4byte_selector(functions(abi)[signature]), "big")


def interface_id(abi: list[dict[str, Any]], *signatures: str) -> int:
    return reduce(lambda acc, sig: acc ^ selector(abi, sig), signatures, 0)


def topic(abi: list[dict[str, Any]], name: str) -> str:
    [event] = [e for e in abi if e["type"] == "event" and e["name"] == name]
    return "0x" + event_abi_to_log_topic(event).hex()


TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def test_erc20_abi_has_the_standard_selectors_and_events() -> None:
    abi = standard_abi(TokenType.ERC20)
    expected = {
        "totalSupply()": 0x18160DDD,
        "balanceOf(address)": 0x70A08231,
        "transfer(address,uint256)": 0xA9059CBB,
        "transferFrom(address,address,uint256)": 0x23B872DD,
        "approve(address,uint256)": 0x095EA7B3,
        "allowance(address,address)": 0xDD62ED3E,
        "decimals()": 0x313CE567,
        "name()": 0x06FDDE03,
        "symbol()": 0x95D89B41,
    }
    for signature, value in expected.items():
        assert selector(abi, signature) == value, signature
    assert topic(abi, "Transfer") == TRANSFER_TOPIC
    assert functions(abi)["decimals()"]["outputs"][0]["type"] == "uint8"


def test_erc721_abi_implements_erc721_and_its_metadata_extension() -> None:
    abi = standard_abi(TokenType.ERC721)
    erc721 = interface_id(
        abi,
        "balanceOf(address)",
        "ownerOf(uint256)",
        "approve(address,uint256)",
        "getApproved(uint256)",
        "setApprovalForAll(address,bool)",
        "isApprovedForAll(address,address)",
        "transferFrom(address,address,uint256)",
        "safeTransferFrom(address,address,uint256)",
        "safeTransferFrom(address,address,uint256,bytes)",
    )
    assert erc721 == 0x80AC58CD
    assert interface_id(abi, "name()", "symbol()", "tokenURI(uint256)") == 0x5B5E139F
    assert selector(abi, "supportsInterface(bytes4)") == 0x01FFC9A7
    assert topic(abi, "Transfer") == TRANSFER_TOPIC  # same signature as ERC20, tokenId indexed


def test_erc1155_abi_implements_erc1155_and_its_metadata_uri_extension() -> None:
    abi = standard_abi(TokenType.ERC1155)
    erc1155 = interface_id(
        abi,
        "safeTransferFrom(address,address,uint256,uint256,bytes)",
        "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
        "balanceOf(address,uint256)",
        "balanceOfBatch(address[],uint256[])",
        "setApprovalForAll(address,bool)",
        "isApprovedForAll(address,address)",
    )
    assert erc1155 == 0xD9B67A26
    assert interface_id(abi, "uri(uint256)") == 0x0E89341C
    assert {"TransferSingle", "TransferBatch", "ApprovalForAll", "URI"} <= {
        e["name"] for e in abi if e["type"] == "event"
    }


@pytest.mark.parametrize(
    ("token_type", "operator_functions"),
    [
        (
            TokenType.ERC20,
            {"mint(address,uint256)", "burn(uint256)", "burnFrom(address,uint256)"},
        ),
        (TokenType.ERC721, {"safeMint(address,uint256,string)", "burn(uint256)"}),
        (
            TokenType.ERC1155,
            {
                "mint(address,uint256,uint256,bytes)",
                "mintBatch(address,uint256[],uint256[],bytes)",
                "burn(address,uint256,uint256)",
                "burnBatch(address,uint256[],uint256[])",
                "setURI(uint256,string)",
            },
        ),
    ],
)
def test_every_abi_has_the_operator_functions_pers_contracts_offer(
    token_type: TokenType, operator_functions: set[str]
) -> None:
    abi = standard_abi(token_type)
    names = set(functions(abi))
    assert operator_functions <= names
    assert {"owner()", "transferOwnership(address)"} <= names
    for signature in operator_functions:
        assert functions(abi)[signature]["stateMutability"] == "nonpayable"
    assert len(names) == len([e for e in abi if e["type"] == "function"]), "duplicate signature"


def test_standard_abi_is_parsed_once_and_shared_while_abi_gives_copies() -> None:
    """Responses show the ABI of every token they embed (claims, redeems): it is parsed once
    per process and shared read-only; ``pers.chain.contracts.abi`` still gives a copy a caller
    may change."""
    shared = standard_abi(TokenType.ERC20)
    assert standard_abi(TokenType.ERC20) is shared
    assert shared == contracts.abi(contracts.ContractName.CREDIT)
    copy = contracts.abi(contracts.ContractName.CREDIT)
    copy.clear()
    assert contracts.abi(contracts.ContractName.CREDIT) == shared
    assert shared


@pytest.mark.parametrize("token_type", list(TokenType))
async def test_each_token_serves_the_built_in_abi_of_its_type(
    client: httpx.AsyncClient, tenant: TenantHandle, token_type: TokenType
) -> None:
    plain = await create_token(client, tenant, token_type.value)
    with_url = await create_token(
        client, tenant, token_type.value, abiUrl="ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3e/abi"
    )
    assert plain["abi"] == standard_abi(token_type)
    assert plain["abiUrl"] is None
    assert with_url["abi"] == standard_abi(token_type)
    assert with_url["abiUrl"] == "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3e/abi"
    listed = {t["id"]: t for t in await list_tokens(client, tenant.public)}
    assert listed[plain["id"]]["abi"] == standard_abi(token_type)
