"""A tenant whose tokens are real contracts on an in-memory dev chain, and a stand-in for the
relayer: it applies a transaction's effect on chain with the tenant's operator key, then marks
the transaction succeeded (or leaves the chain alone, to make differences on purpose)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import RPCEndpoint, TxReceipt

from pers.chain.compile import CompiledContract, compile_all
from pers.chain.contracts import ContractName
from pers.chain.devchain import DevChainServer
from pers.config import Settings
from pers.db import async_url
from pers.ledger.service import issuer_address
from pers.runtime import Runtime
from pers.wallets.derivation import OwnerType
from tests.chain.conftest import CACHE_DIR
from tests.conftest import TenantHandle, create_tenant
from tests.transactions.conftest import DEV_CHAIN_ID, Economy

ZERO = "0x" + "00" * 20


@pytest.fixture(scope="session")
def builds() -> dict[ContractName, CompiledContract]:
    return compile_all(CACHE_DIR)


@pytest.fixture(scope="module")
def chain_server(devchains: dict[int, DevChainServer]) -> DevChainServer:
    """The tenants' testnet chain (the id their tokens are registered on): the session's."""
    return devchains[DEV_CHAIN_ID]


@pytest.fixture(scope="module")
def w3(chain_server: DevChainServer) -> Web3:
    return Web3(HTTPProvider(chain_server.url, request_kwargs={"timeout": 60}))


@pytest.fixture
def chain_settings(settings: Settings) -> Settings:
    """The test deployment's settings: their testnet chain is the session's dev chain."""
    return settings


@pytest.fixture(scope="session")
async def owner_engine(owner_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(owner_url), pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


@dataclass
class World:
    """One tenant: its operator, three deployed token contracts registered as its tokens."""

    economy: Economy
    runtime: Runtime
    w3: Web3
    engine: AsyncEngine
    operator: LocalAccount
    issuer: str
    contracts: dict[str, Contract]  # by token type
    tokens: dict[str, dict[str, Any]]  # the API's tokens, by type

    @property
    def tenant(self) -> TenantHandle:
        return self.economy.tenant

    @property
    def client(self) -> httpx.AsyncClient:
        return self.economy.client

    def transact(self, call: ContractFunction | ContractConstructor) -> TxReceipt:
        return send(self.w3, self.operator, call)

    async def mint(
        self, token_type: str, recipient: str, amount: Any, item: int | None = None
    ) -> dict[str, Any]:
        body = {
            "amount": amount, "tokenAddress": self.tokens[token_type]["contractAddress"],
            "chainId": DEV_CHAIN_ID, "recipientAddress": recipient,
            "tokenMetadataIncrementalId": item,
        }  # fmt: skip
        response = await self.client.post(
            "/v1.7/transaction/admin/mint/token", json=body, headers=self.economy.admin
        )
        assert response.status_code == 201, response.text
        tx: dict[str, Any] = response.json()
        return tx

    async def row(self, tx_id: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    text(
                        "SELECT token_type, token_address, contract_token_id, amount, "
                        "sender_address, recipient_address, status "
                        "FROM transactions WHERE id = :id"
                    ),
                    {"id": uuid.UUID(tx_id)},
                )
            ).one()
        return dict(found._mapping)

    def _party(self, address: str) -> str:
        return ZERO if address.lower() == self.issuer.lower() else address

    async def apply(self, tx_id: str) -> TxReceipt:
        """Do on chain what the transaction says, as the relayer will: one operatorBatch move,
        the issuer standing for the zero address (a mint from it, a burn to it)."""
        row = await self.row(tx_id)
        contract = self.contracts[row["token_type"]]
        sender, receiver = self._party(row["sender_address"]), self._party(row["recipient_address"])
        amount, token_id = int(row["amount"]), int(row["contract_token_id"] or 0)
        batch = contract.functions.operatorBatch
        if row["token_type"] == "ERC20":
            return self.transact(batch([sender], [receiver], [amount]))
        if row["token_type"] == "ERC721":
            return self.transact(batch([sender], [receiver], [token_id]))
        return self.transact(batch([sender], [receiver], [token_id], [amount]))

    async def mark(
        self, tx_id: str, status: str, tx_hash: str | None = None, reason: str | None = None
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE transactions SET status = :status, transaction_hash = :hash, "
                    "chain_id = :chain, failure_reason = :reason, updated_at = now() "
                    "WHERE id = :id"
                ),
                {
                    "status": status, "hash": tx_hash, "chain": DEV_CHAIN_ID, "reason": reason,
                    "id": uuid.UUID(tx_id),
                },
            )  # fmt: skip

    async def settle(self, tx: dict[str, Any]) -> None:
        receipt = await self.apply(tx["id"])
        await self.mark(tx["id"], "succeeded", "0x" + bytes(receipt["transactionHash"]).hex())


def send(
    w3: Web3, account: LocalAccount, call: ContractFunction | ContractConstructor
) -> TxReceipt:
    params = {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
    transaction = call.build_transaction(params)  # type: ignore[arg-type]
    raw = account.sign_transaction(dict(transaction)).raw_transaction
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw), timeout=30)
    assert receipt["status"] == 1
    return receipt


def deploy(w3: Web3, operator: LocalAccount, build: CompiledContract, *args: Any) -> Contract:
    factory = w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
    address = send(w3, operator, factory.constructor(*args))["contractAddress"]
    assert address is not None
    return w3.eth.contract(address=address, abi=build.abi)


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    runtime: Runtime,
    w3: Web3,
    owner_engine: AsyncEngine,
    builds: dict[ContractName, CompiledContract],
) -> World:
    tenant = await create_tenant(client, "Reconciled")
    allow = await client.put(
        "/v1.7/tenant/admin", json={"allowJWTForUnauthenticatedUsers": True}, headers=tenant.admin
    )
    assert allow.status_code == 200, allow.text
    key = runtime.wallets.private_key(tenant.id, OwnerType.TENANT, tenant.id)
    operator: LocalAccount = Account.from_key(key)
    issuer = issuer_address(runtime.wallets, tenant.id)
    assert operator.address == issuer  # the operator is the issuer: the zero address on chain
    funded = w3.provider.make_request(RPCEndpoint("pers_fund"), [issuer, hex(10**20)])
    w3.eth.wait_for_transaction_receipt(funded["result"])
    contracts = {
        "ERC20": deploy(w3, operator, builds[ContractName.CREDIT], "Points", "PTS", 2),
        "ERC721": deploy(w3, operator, builds[ContractName.STATUS], "Status", "ST", ""),
        "ERC1155": deploy(w3, operator, builds[ContractName.REWARD], "Rewards", "RW", ""),
    }
    tokens: dict[str, dict[str, Any]] = {}
    for kind, contract in contracts.items():
        body: dict[str, Any] = {"contractAddress": contract.address, "type": kind}
        if kind == "ERC20":
            body |= {"decimals": 2, "symbol": "PTS"}
        response = await client.post("/v1.7/token/admin", json=body, headers=tenant.admin)
        assert response.status_code == 201, response.text
        tokens[kind] = response.json()
    economy = Economy(client, tenant, tokens["ERC20"])
    return World(economy, runtime, w3, owner_engine, operator, issuer, contracts, tokens)
