"""Settlement on a real (in-process, served over HTTP) dev chain: a tenant whose token contracts
are deployed by its own operator, ledger movements made through the API, and a relayer that
settles them over JSON-RPC exactly as ``pers worker`` does."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from pers.chain.compile import CompiledContract, compile_all
from pers.chain.contracts import ContractName
from pers.chain.devchain import DevChainServer
from pers.chains.registry import ChainRegistry, registry_of
from pers.config import Settings
from pers.reconcile.service import Options, reconcile
from pers.runtime import Runtime
from pers.settlement.relayer import Checkpoint, Relayer
from pers.wallets.derivation import OwnerType
from tests.conftest import TenantHandle, create_tenant
from tests.contracts import DEV_CHAIN_ID

CACHE_DIR = Path(__file__).resolve().parents[2] / ".pers-test" / "contracts"
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="session")
def compiled() -> dict[ContractName, CompiledContract]:
    return compile_all(CACHE_DIR)


@pytest.fixture(scope="module")
def registry(settings: Settings) -> ChainRegistry:
    return registry_of(settings)


@pytest.fixture(scope="module")
def w3(devchains: dict[int, DevChainServer]) -> Web3:
    return Web3(HTTPProvider(devchains[DEV_CHAIN_ID].url, request_kwargs={"timeout": 60}))


@dataclass
class Settlement:
    """A tenant, its operator, its contracts on the dev chain, and relayers to settle with."""

    client: httpx.AsyncClient
    rt: Runtime
    w3: Web3
    registry: ChainRegistry
    compiled: dict[ContractName, CompiledContract]
    tenant: TenantHandle
    operator: LocalAccount
    contracts: dict[str, Contract] = field(default_factory=dict)
    relayers: list[Relayer] = field(default_factory=list)

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin

    def relayer(self, checkpoint: Checkpoint | None = None, **overrides: Any) -> Relayer:
        rt = self.rt
        if overrides:
            rt = Runtime(**{**rt.__dict__, "settings": rt.settings.model_copy(update=overrides)})
        kwargs: dict[str, Any] = {"registry": self.registry, "tenants": frozenset({self.tenant.id})}
        if checkpoint is not None:
            kwargs["checkpoint"] = checkpoint
        relayer = Relayer(rt, **kwargs)
        self.relayers.append(relayer)
        return relayer

    async def settle(self, **overrides: Any) -> None:
        """A worker settles everything queued, then stops (letting go of its lanes)."""
        relayer = self.relayer(**overrides)
        try:
            await relayer.drain()
        finally:
            await relayer.close()

    def fund_operator(self) -> None:
        answer = self.w3.provider.make_request(
            RPCEndpoint("pers_fund"), [self.operator.address, hex(10**21)]
        )
        assert "result" in answer, answer

    def deploy(self, name: ContractName, *args: Any) -> Contract:
        build = self.compiled[name]
        factory = self.w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
        tx = factory.constructor(*args).build_transaction(
            {
                "from": self.operator.address,
                "nonce": self.w3.eth.get_transaction_count(self.operator.address, "pending"),
            }
        )
        raw = self.operator.sign_transaction(dict(tx)).raw_transaction
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=build.abi)

    def operator_transact(self, call: Any) -> None:
        """A transaction of the operator made outside pers (the chain then disagrees)."""
        tx = call.build_transaction(
            {
                "from": self.operator.address,
                "nonce": self.w3.eth.get_transaction_count(self.operator.address, "pending"),
            }
        )
        raw = self.operator.sign_transaction(dict(tx)).raw_transaction
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1

    async def token(self, token_type: str, **fields: Any) -> dict[str, Any]:
        """Deploy the contract of ``token_type`` and register it as a token of the tenant."""
        symbol = fields.get("symbol", "T" + secrets.token_hex(2).upper())
        if token_type == "ERC20":
            contract = self.deploy(
                ContractName.CREDIT, "Points", symbol, fields.get("decimals", 18)
            )
        elif token_type == "ERC721":
            contract = self.deploy(ContractName.STATUS, "Status", symbol, "")
        else:
            contract = self.deploy(ContractName.REWARD, "Rewards", symbol, "")
        body = {"contractAddress": contract.address, "type": token_type, **fields}
        response = await self.client.post("/v1.7/token/admin", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        self.contracts[created["contractAddress"]] = contract
        return created

    async def item(self, token_id: str, name: str = "Gold") -> int:
        response = await self.client.post(
            f"/v1.7/token/admin/{token_id}/metadata", json={"name": name}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        body = response.json()
        items = body.get("metadata", [body])
        return int(items[-1]["tokenMetadataIncrementalId"])

    async def user(self, email: str) -> dict[str, Any]:
        response = await self.client.post(
            "/v1.7/user/admin", json={"email": email}, headers=self.admin
        )
        assert response.status_code in (200, 201), response.text
        user: dict[str, Any] = response.json()
        return user

    async def mint_credits(self, email: str, amount: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/v1.7/transaction/admin/mint/credits",
            json={"userEmail": email, "userIdentifier": "email", "amount": amount},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        tx: dict[str, Any] = response.json()
        return tx

    async def transaction(self, tx_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1.7/transaction/{tx_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def assert_reconciled(self) -> None:
        """``pers reconcile`` (its service) finds the tenant's chain equal to its ledger."""
        report = await reconcile(
            self.rt.db, self.rt.settings, self.rt.wallets,
            Options(tenant=self.tenant.id, rpc_timeout=30),
        )  # fmt: skip
        assert report.differences == []
        assert report.failed == []
        assert report.clean

    async def close(self) -> None:
        for relayer in self.relayers:
            await relayer.close()


@pytest.fixture
async def settlement(
    client: httpx.AsyncClient,
    runtime: Runtime,
    w3: Web3,
    registry: ChainRegistry,
    compiled: dict[ContractName, CompiledContract],
) -> Any:
    tenant = await create_tenant(client, "Settled")
    key = runtime.wallets.private_key(tenant.id, OwnerType.TENANT, tenant.id)
    operator: LocalAccount = Account.from_key(key)
    harness = Settlement(client, runtime, w3, registry, compiled, tenant, operator)
    harness.fund_operator()
    yield harness
    await harness.close()
