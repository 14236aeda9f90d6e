"""The long-lived parts of a running deployment, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from pers.auth.oidc import JwksCache
from pers.auth.tokens import TokenSigner
from pers.chain.rpc import RpcClients
from pers.config import Settings
from pers.db import Database
from pers.deployment import Deployment
from pers.kit.clock import Clock
from pers.kit.crypto import SecretBox, derive_key
from pers.wallets.derivation import WalletDeriver


@dataclass
class Runtime:
    settings: Settings
    deployment: Deployment
    db: Database
    signer: TokenSigner
    jwks: JwksCache
    http: httpx.AsyncClient
    clock: Clock
    secrets: SecretBox
    wallets: WalletDeriver
    rpc: RpcClients

    @classmethod
    def build(cls, deployment: Deployment, db: Database, clock: Clock) -> Runtime:
        settings = deployment.settings
        http = httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
        return cls(
            settings=settings,
            deployment=deployment,
            db=db,
            signer=TokenSigner(deployment.jwt_private_key, settings.jwt_issuer),
            jwks=JwksCache(http, settings.jwks_cache_seconds),
            http=http,
            clock=clock,
            secrets=SecretBox(derive_key(deployment.master_secret, "pers/stored-secrets")),
            wallets=WalletDeriver(deployment.master_secret),
            rpc=RpcClients(settings.chain_rpc_timeout_seconds),
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.rpc.close()
        await self.db.dispose()
