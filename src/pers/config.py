"""Deployment settings, read from ``PERS_*`` environment variables."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_CHAIN_ID = 131277322940537
# EIP-2294: the largest chain id wallets can sign for (and it fits a PostgreSQL bigint).
MAX_CHAIN_ID = 9223372036854775771
RPC_SCHEMES = frozenset({"http", "https", "ws", "wss"})
WEB_SCHEMES = frozenset({"http", "https"})


def check_url(value: str, schemes: frozenset[str], *, credentials: bool = True) -> str:
    """``value`` when it is an absolute URL with one of ``schemes`` and a host; with
    ``credentials=False`` it must also carry no user name or password. Messages never repeat
    the URL: it may hold a provider's key."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc})") from None
    if parts.scheme.lower() not in schemes or not parts.hostname or not port_ok:
        allowed = ", ".join(sorted(schemes))
        raise ValueError(f"not an absolute URL with a host ({allowed})")
    if not credentials and (parts.username is not None or parts.password is not None):
        raise ValueError("a public URL must not carry a user name or password")
    return value


class _ChainSettingModel(BaseModel):
    """camelCase or snake_case keys; unknown keys are refused (a typo is not ignored)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )


class NativeCurrencySetting(_ChainSettingModel):
    name: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=16)
    decimals: int = Field(default=18, ge=0, le=36)


ETHER = NativeCurrencySetting(name="Ether", symbol="ETH", decimals=18)


class ChainSetting(_ChainSettingModel):
    """One configured chain, an element of ``PERS_CHAINS``.

    ``rpc_url`` is what pers itself calls and may embed the provider's credentials (an Infura
    key sits in the path): it is never served. ``public_rpc_url`` is the endpoint the Web3 Chain
    API tells clients about, published only when the operator sets it.
    """

    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    name: str = Field(min_length=1, max_length=100)
    rpc_url: str = Field(max_length=2048)
    public_rpc_url: str | None = Field(default=None, max_length=2048)
    is_testnet: bool = False
    confirmations: int = Field(default=12, ge=0, le=10_000)
    explorer_url: str | None = Field(default=None, max_length=2048)
    native_currency: NativeCurrencySetting = ETHER

    @field_validator("rpc_url")
    @classmethod
    def _rpc_url(cls, value: str) -> str:
        return check_url(value, RPC_SCHEMES)

    @field_validator("public_rpc_url")
    @classmethod
    def _public_rpc_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value, RPC_SCHEMES, credentials=False)

    @field_validator("explorer_url")
    @classmethod
    def _explorer_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value, WEB_SCHEMES, credentials=False)


def check_chains(
    chains: list[ChainSetting], testnet_chain_id: int, mainnet_chain_id: int | None
) -> None:
    """The rules that tie ``PERS_CHAINS`` to the environments' chain ids (ValueError)."""
    seen: set[int] = set()
    for chain in chains:
        if chain.chain_id in seen:
            raise ValueError(f"PERS_CHAINS: chain id {chain.chain_id} is configured twice")
        seen.add(chain.chain_id)
    by_id = {chain.chain_id: chain for chain in chains}
    testnet = by_id.get(testnet_chain_id)
    if testnet is not None and not testnet.is_testnet:
        raise ValueError(
            f"PERS_CHAINS: chain {testnet_chain_id} is PERS_TESTNET_CHAIN_ID, so its entry "
            "must say isTestnet: true"
        )
    if mainnet_chain_id is None:
        return
    if mainnet_chain_id == testnet_chain_id:
        raise ValueError("PERS_MAINNET_CHAIN_ID and PERS_TESTNET_CHAIN_ID must differ")
    mainnet = by_id.get(mainnet_chain_id)
    if mainnet is None:
        raise ValueError(f"PERS_MAINNET_CHAIN_ID {mainnet_chain_id} is not a chain of PERS_CHAINS")
    if mainnet.is_testnet:
        raise ValueError(f"PERS_MAINNET_CHAIN_ID {mainnet_chain_id} names a chain marked isTestnet")


class Settings(BaseSettings):
    """Every knob of a deployment. Unset secrets are generated into ``data_dir`` on first start."""

    # Errors name the setting, never echo its value: RPC URLs and keys are secrets.
    model_config = SettingsConfigDict(env_prefix="PERS_", extra="ignore", hide_input_in_errors=True)

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the owner role (runs migrations). Unset: embedded pgserver.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="Optional URL of a dedicated login role for the API (must not own tables).",
    )
    db_app_role: str = Field(
        default="pers_app",
        description="Role the API runs queries as (SET ROLE at connect); does not own the tables.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="Connections kept open per process. Requests beyond it wait for one.",
    )
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description=(
            "Extra connections opened under load and closed when returned. Under sustained "
            "load they are opened and closed all the time (a new backend, its caches and "
            "prepared statements each time): raise the pool size instead."
        ),
    )
    db_fast_pool_size: int = Field(
        default=20,
        ge=1,
        description=(
            "Connections the fast lane keeps open per process, apart from the pool "
            '(docs/decisions.md, "The fast lane"). Its requests beyond it wait for one.'
        ),
    )
    fast_lane: bool = Field(
        default=True,
        description=(
            "Answer the hottest operations' successful case (credit mints by an admin, credit "
            "payments by a user, claims by a user or a system) with one database statement; "
            "anything else, and every refusal, goes through the regular path "
            '(docs/decisions.md, "The fast lane").'
        ),
    )
    data_dir: Path = Field(default=Path(".pers"))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    platform_api_key: str | None = None
    open_signup: bool = False
    secret_key: str | None = Field(
        default=None,
        description="Master secret (hex, 32+ bytes); derives encryption keys. Unset: generated.",
    )
    jwt_private_key: str | None = Field(
        default=None, description="PEM of the EC P-256 key signing PERS JWTs. Unset: generated."
    )
    jwt_issuer: str = "pers"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    tenant_admin_jwt_ttl_days: int = Field(default=365, ge=1)
    jwks_cache_seconds: int = Field(default=600, ge=0)
    http_timeout_seconds: float = Field(default=5.0, gt=0)
    testnet_chain_id: int = Field(
        default=DEV_CHAIN_ID,
        gt=0,
        le=MAX_CHAIN_ID,
        description="Chain id of the tenants' testnet environment, and of testnet token "
        "contracts registered without one (default: the embedded dev chain, eth-tester's "
        "py-evm chain id). Unless PERS_CHAINS configures it, it is the built-in dev chain.",
    )
    mainnet_chain_id: int | None = Field(
        default=None,
        gt=0,
        le=MAX_CHAIN_ID,
        description="Chain id of the tenants' mainnet environment; one of PERS_CHAINS, not a "
        "testnet. Unset or empty: mainnet has no chain.",
    )
    chains: Annotated[list[ChainSetting], NoDecode] = Field(
        default_factory=list,
        description="The chains of the deployment, a JSON list of objects: chainId, name, "
        "rpcUrl (required); publicRpcUrl, isTestnet, confirmations, explorerUrl, "
        "nativeCurrency {name, symbol, decimals}. An entry for PERS_TESTNET_CHAIN_ID replaces "
        "the built-in dev chain.",
    )
    devchain_host: str = Field(
        default="127.0.0.1",
        description="Where the embedded dev chain listens and is reached (keep loopback). It "
        "stands in for the testnet chain unless PERS_CHAINS has an entry for "
        "PERS_TESTNET_CHAIN_ID.",
    )
    devchain_port: int = Field(
        default=8545, ge=1, le=65535, description="Port of the embedded dev chain's JSON-RPC."
    )
    chain_rpc_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Timeout of one JSON-RPC call a request makes to a chain (the check of a "
        "token contract at registration); no retries. Exceeded: 503 CHAIN_UNAVAILABLE.",
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Let URLs that admins send (mint from URL) reach loopback, private, "
        "link-local and other non-public addresses. Off in production: SSRF.",
    )
    mint_url_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        description="Largest file (decoded bytes) a mint from URL downloads.",
    )
    country_header: str | None = Field(
        default=None,
        description="Request header in which the operator's edge (CDN, gateway) sends the "
        "caller's ISO 3166-1 alpha-2 country (e.g. CF-IPCountry). Trusted by redemption country "
        "restrictions; unset, they use the user's customData.countryCode.",
    )
    mint_url_max_rows: int = Field(
        default=100_000, ge=1, description="Most rows one mint from URL processes."
    )
    mint_url_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest a mint from URL may spend downloading its file, all reads together.",
    )
    stripe_api_base: str = Field(
        default="https://api.stripe.com",
        description="Base URL of the Stripe API the Purchase module calls with each tenant's "
        "stripeApiKey (a stand-in or proxy for tests and air-gapped setups).",
    )
    stripe_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Timeout of one call to the Stripe API."
    )
    settlement_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="How often an idle settlement worker looks for new intents and for the "
        "receipts of what it sent.",
    )
    settlement_batch_max: int = Field(
        default=100,
        ge=1,
        le=512,
        description="Most intents of one token settled by one chain transaction (operatorBatch). "
        "1 turns batching off: one transaction per intent.",
    )
    settlement_in_flight_max: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Most unconfirmed chain transactions per (chain, signer) at a time.",
    )
    settlement_rebroadcast_seconds: float = Field(
        default=15.0,
        gt=0,
        description="A sent transaction with no receipt after this long is sent again (same "
        "signed bytes: harmless if the node has it).",
    )
    settlement_stuck_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A sent transaction with no receipt after this long is replaced by one with "
        "the same nonce and higher fees (fee bump).",
    )
    settlement_fee_bump_percent: int = Field(
        default=25,
        ge=10,
        le=1000,
        description="How much a replacement raises both fee caps (nodes require 10% or more).",
    )
    settlement_rpc_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one JSON-RPC call of the settlement worker."
    )
    run_migrations: bool | None = Field(
        default=None,
        description="Run migrations at start. Default: only with the embedded database.",
    )

    @field_validator("mainnet_chain_id", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("chains", mode="before")
    @classmethod
    def _chains_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"PERS_CHAINS is not valid JSON: {exc}") from None
            if not isinstance(value, list):
                raise ValueError("PERS_CHAINS must be a JSON list of chain objects")
        return value

    @model_validator(mode="after")
    def _chains_agree(self) -> Self:
        check_chains(self.chains, self.testnet_chain_id, self.mainnet_chain_id)
        return self

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def testnet_chain(self) -> ChainSetting | None:
        """The configured testnet chain: the PERS_CHAINS entry of PERS_TESTNET_CHAIN_ID."""
        return next((c for c in self.chains if c.chain_id == self.testnet_chain_id), None)

    @property
    def devchain(self) -> bool:
        """No testnet chain configured: the embedded dev chain stands in for it."""
        return self.testnet_chain is None

    @property
    def devchain_url(self) -> str:
        return f"http://{self.devchain_host}:{self.devchain_port}"

    @property
    def testnet_rpc(self) -> str:
        """The testnet chain's JSON-RPC URL: the configured one, else the dev chain's."""
        configured = self.testnet_chain
        return self.devchain_url if configured is None else configured.rpc_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
