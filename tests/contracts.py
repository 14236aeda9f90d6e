"""Token contracts the tests can register: deployed on the session's dev chains by the tenant's
operator (so ``owner()`` is that tenant's operator, as the registration check demands), from
pers's own bytecode.

Deploying costs real py-evm time (about 15 ms a contract, 8 ms to fund an operator once per
chain), so contracts are deployed when a test asks for one, never in advance: a pool cannot be
shared, because each tenant has its own operator and a contract has one owner. Transactions go
to the chain in-process (no HTTP): this is test set-up; the registration check itself asks the
chain over HTTP as production does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

from pers.chain.contracts import ContractName
from pers.chain.deploy import init_code
from pers.chain.devchain import DevChain, DevChainServer
from pers.wallets.derivation import OwnerType, WalletDeriver

DEV_CHAIN_ID = 131277322940537
# The tests' mainnet chain: a second in-memory dev chain configured in PERS_CHAINS under
# Polygon's id, which the mainnet tests have always used.
MAINNET_CHAIN_ID = 137
CACHE_DIR = Path(__file__).resolve().parent.parent / ".pers-test" / "contracts"
KINDS = {
    "ERC20": ContractName.CREDIT,
    "ERC721": ContractName.STATUS,
    "ERC1155": ContractName.REWARD,
}
GAS = 6_000_000
MAX_FEE = 100 * 10**9
OPERATOR_FUNDS = 10**20


@dataclass
class Deployer:
    """Deploys contracts owned by a tenant's operator on the session's dev chains."""

    servers: dict[int, DevChainServer]
    wallets: WalletDeriver
    funded: set[tuple[int, str]] = field(default_factory=set)
    deployed: int = 0

    def chain(self, chain_id: int) -> DevChain:
        return self.servers[chain_id].chain

    def operator(self, tenant_id: uuid.UUID) -> Any:
        return Account.from_key(self.wallets.private_key(tenant_id, OwnerType.TENANT, tenant_id))

    def send(self, chain_id: int, account: Any, data: bytes, to: str | None = None) -> Any:
        """Sign and send a transaction from ``account`` (funded on first use); its receipt."""
        chain = self.chain(chain_id)
        if (chain_id, account.address) not in self.funded:
            chain.fund(account.address, OPERATOR_FUNDS)
            self.funded.add((chain_id, account.address))
        nonce = int(chain.request("eth_getTransactionCount", [account.address, "latest"]), 16)
        transaction = {
            "type": 2, "chainId": chain_id, "nonce": nonce, "to": to or b"", "value": 0,
            "gas": GAS, "maxPriorityFeePerGas": 10**9, "maxFeePerGas": MAX_FEE, "data": data,
        }  # fmt: skip
        raw = "0x" + bytes(account.sign_transaction(transaction).raw_transaction).hex()
        receipt = chain.request("eth_getTransactionReceipt", [chain.send_raw_transaction(raw)])
        assert receipt["status"] == "0x1", receipt
        return receipt

    def deploy(
        self,
        tenant_id: uuid.UUID,
        token_type: str = "ERC20",
        *,
        decimals: int | None = None,
        chain_id: int = DEV_CHAIN_ID,
        name: str = "Test token",
        symbol: str = "TST",
        account: Any = None,
    ) -> str:
        """A fresh ``token_type`` contract whose owner is ``tenant_id``'s operator (or
        ``account``, which also deploys it)."""
        kind = KINDS[token_type]
        if kind is ContractName.CREDIT:
            decimals, base_uri = (18 if decimals is None else decimals), ""
        else:
            decimals, base_uri = 0, "https://pers.test/meta/"
        data = init_code(kind, name, symbol, decimals, base_uri, cache_dir=CACHE_DIR)
        receipt = self.send(chain_id, account or self.operator(tenant_id), data)
        self.deployed += 1
        return str(to_checksum_address(receipt["contractAddress"]))


_deployer: Deployer | None = None


def install(deployer: Deployer | None) -> None:
    global _deployer
    _deployer = deployer


def deployer() -> Deployer:
    assert _deployer is not None, "the session's dev chains are not running"
    return _deployer


def deployed(
    tenant_id: uuid.UUID,
    token_type: str = "ERC20",
    *,
    decimals: int | None = None,
    chain_id: int = DEV_CHAIN_ID,
) -> str:
    """A contract ``tenant_id`` can register as a ``token_type`` token (ERC20: with
    ``decimals``, default 18) on ``chain_id``."""
    return deployer().deploy(tenant_id, token_type, decimals=decimals, chain_id=chain_id)


def registrable(tenant_id: uuid.UUID, body: dict[str, Any]) -> str:
    """A contract matching a ``POST /token/admin`` body (its type and decimals)."""
    token_type = str(body.get("type", "ERC20"))
    decimals = body.get("decimals") if token_type == "ERC20" else None
    return deployed(tenant_id, token_type, decimals=decimals if isinstance(decimals, int) else None)
