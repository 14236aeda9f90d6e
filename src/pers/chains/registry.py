"""The deployment's chains, built from settings: ``PERS_CHAINS`` plus the built-in dev chain.

The registry is derived from the settings it is asked about (and remembered per distinct set
of values), so it never disagrees with them. The tenants' testnet environment settles on the
chain ``PERS_TESTNET_CHAIN_ID`` names, mainnet on ``PERS_MAINNET_CHAIN_ID``'s (or nowhere).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from pers.config import ChainSetting, Settings, check_chains
from pers.kit.enums import Environment

DEV_CHAIN_NAME = "pers dev chain"
# The dev chain mines a block per transaction and none without: depth 1 is final there.
DEV_CHAIN_CONFIRMATIONS = 1


@dataclass(frozen=True, slots=True)
class NativeCurrency:
    name: str
    symbol: str
    decimals: int


@dataclass(frozen=True, slots=True)
class Chain:
    chain_id: int
    name: str
    # What pers calls; may embed the provider's credentials, so it is never served.
    rpc_url: str
    # What clients are told; None unless the operator published one.
    public_rpc_url: str | None
    is_testnet: bool
    confirmations: int
    explorer_url: str | None
    native_currency: NativeCurrency
    is_dev_chain: bool
    # The tenant environment this deployment settles on the chain, if any.
    environment: Environment | None


class ChainRegistry:
    def __init__(
        self, chains: Iterable[Chain], *, testnet_chain_id: int, mainnet_chain_id: int | None
    ) -> None:
        self._chains = {chain.chain_id: chain for chain in chains}
        self.testnet_chain_id = testnet_chain_id
        self.mainnet_chain_id = mainnet_chain_id

    def all(self) -> list[Chain]:
        return list(self._chains.values())

    def get(self, chain_id: int) -> Chain | None:
        return self._chains.get(chain_id)

    def for_environment(self, env: Environment) -> Chain | None:
        chain_id = self.testnet_chain_id if env is Environment.TESTNET else self.mainnet_chain_id
        return None if chain_id is None else self._chains.get(chain_id)

    @property
    def dev_chain(self) -> Chain | None:
        """The built-in dev chain, unless ``PERS_CHAINS`` configures the testnet chain."""
        chain = self._chains.get(self.testnet_chain_id)
        return chain if chain is not None and chain.is_dev_chain else None


def without_credentials(url: str) -> str:
    """``url`` without user name, password, query and fragment (where credentials hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _environment(
    chain_id: int, testnet_chain_id: int, mainnet_chain_id: int | None
) -> Environment | None:
    if chain_id == testnet_chain_id:
        return Environment.TESTNET
    if chain_id == mainnet_chain_id:
        return Environment.MAINNET
    return None


def _configured(setting: ChainSetting, env: Environment | None) -> Chain:
    currency = setting.native_currency
    return Chain(
        chain_id=setting.chain_id,
        name=setting.name,
        rpc_url=setting.rpc_url,
        public_rpc_url=setting.public_rpc_url,
        is_testnet=setting.is_testnet,
        confirmations=setting.confirmations,
        explorer_url=setting.explorer_url,
        native_currency=NativeCurrency(currency.name, currency.symbol, currency.decimals),
        is_dev_chain=False,
        environment=env,
    )


def _dev_chain(chain_id: int, url: str) -> Chain:
    # Our own unauthenticated node: its URL is published, minus anything credential-shaped in
    # case the operator put the dev chain behind an authenticating proxy.
    return Chain(
        chain_id=chain_id,
        name=DEV_CHAIN_NAME,
        rpc_url=url,
        public_rpc_url=without_credentials(url),
        is_testnet=True,
        confirmations=DEV_CHAIN_CONFIRMATIONS,
        explorer_url=None,
        native_currency=NativeCurrency("Ether", "ETH", 18),
        is_dev_chain=True,
        environment=Environment.TESTNET,
    )


@lru_cache(maxsize=8)
def _build(
    chains: tuple[ChainSetting, ...],
    testnet_chain_id: int,
    mainnet_chain_id: int | None,
    devchain_url: str,
) -> ChainRegistry:
    check_chains(list(chains), testnet_chain_id, mainnet_chain_id)
    built: list[Chain] = []
    if all(c.chain_id != testnet_chain_id for c in chains):
        built.append(_dev_chain(testnet_chain_id, devchain_url))
    built.extend(
        _configured(c, _environment(c.chain_id, testnet_chain_id, mainnet_chain_id)) for c in chains
    )
    return ChainRegistry(
        built, testnet_chain_id=testnet_chain_id, mainnet_chain_id=mainnet_chain_id
    )


def registry_of(settings: Settings) -> ChainRegistry:
    """The chains ``settings`` describe (ValueError when they contradict each other)."""
    return _build(
        tuple(settings.chains),
        settings.testnet_chain_id,
        settings.mainnet_chain_id,
        settings.devchain_url,
    )
