"""Deployment settings, read from ``PERS_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a deployment. Unset secrets are generated into ``data_dir`` on first start."""

    model_config = SettingsConfigDict(env_prefix="PERS_", extra="ignore")

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
        default=131277322940537,
        gt=0,
        description="Chain id of testnet token contracts registered without one (default: the "
        "embedded dev chain, eth-tester's py-evm chain id).",
    )
    testnet_rpc_url: str | None = Field(
        default=None,
        description="JSON-RPC URL of the testnet chain. Unset: the embedded dev chain (py-evm), "
        "which `pers serve` starts on devchain_host:devchain_port.",
    )
    devchain_host: str = Field(
        default="127.0.0.1", description="Where the embedded dev chain listens (keep loopback)."
    )
    devchain_port: int = Field(
        default=8545, ge=1, le=65535, description="Port of the embedded dev chain's JSON-RPC."
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
    run_migrations: bool | None = Field(
        default=None,
        description="Run migrations at start. Default: only with the embedded database.",
    )

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def devchain(self) -> bool:
        """No testnet chain configured: the embedded dev chain stands in for it."""
        return not self.testnet_rpc_url

    @property
    def testnet_rpc(self) -> str:
        """The testnet chain's JSON-RPC URL: the configured one, else the dev chain's."""
        if self.testnet_rpc_url:
            return self.testnet_rpc_url
        return f"http://{self.devchain_host}:{self.devchain_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
