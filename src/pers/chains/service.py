"""Chains and the contract registry.

Chains are the deployment's (``PERS_CHAINS`` and the built-in dev chain); anyone of a tenant
reads them. Contracts are the tenant's: its admins register them on a configured chain and read
them back. Registering records what the admin states; that code exists at the address (and
offers the interface its type implies) is not checked yet.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import RequestContext
from pers.chains import repository
from pers.chains.errors import (
    ChainNotConfigured,
    ChainNotFound,
    ContractAlreadyRegistered,
    ContractNotFound,
)
from pers.chains.models import TOKEN_CONTRACT_TYPES, Contract, ContractType, NativeTokenType
from pers.chains.registry import Chain, registry_of
from pers.config import Settings
from pers.errors import ValidationFailed
from pers.kit.addresses import checksum_address
from pers.kit.enums import Environment
from pers.kit.ids import uuid7

ZERO_ADDRESS = "0x" + "0" * 40
_TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


# --- chains -----------------------------------------------------------------------------------


def list_chains(settings: Settings) -> list[Chain]:
    """Every configured chain: the built-in dev chain first (unless replaced), then
    ``PERS_CHAINS`` in its order."""
    return registry_of(settings).all()


def get_chain(settings: Settings, chain_id: int) -> Chain:
    chain = registry_of(settings).get(chain_id)
    if chain is None:
        raise ChainNotFound(f"no chain {chain_id} is configured on this deployment")
    return chain


def chain_for_environment(settings: Settings, env: Environment) -> Chain | None:
    """The chain a tenant environment settles on (mainnet may have none)."""
    return registry_of(settings).for_environment(env)


def configured_chain(settings: Settings, chain_id: int) -> Chain:
    """``chain_id`` as a business rule of a write: 422 when it is not configured."""
    chain = registry_of(settings).get(chain_id)
    if chain is None:
        known = ", ".join(str(c.chain_id) for c in registry_of(settings).all())
        raise ChainNotConfigured(
            f"chain {chain_id} is not configured on this deployment (configured: {known})",
            chainId=chain_id,
        )
    return chain


# --- contracts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewContract:
    contract_address: str
    chain_id: int
    contract_type: ContractType
    implementation_address: str | None = None
    owner_address: str | None = None
    factory_address: str | None = None
    contract_version: str | None = None
    native_token_type: NativeTokenType | None = None
    salt: str | None = None
    tx_hash: str | None = None
    abi_url: str | None = None


@dataclass(frozen=True)
class ContractView:
    id: uuid.UUID
    chain_id: int
    contract_address: str
    contract_type: ContractType
    implementation_address: str | None
    owner_address: str | None
    factory_address: str | None
    contract_version: str | None
    native_token_type: NativeTokenType | None
    salt: str | None
    tx_hash: str | None
    abi_url: str | None
    is_proxy: bool
    created_at: datetime
    updated_at: datetime


def _view(row: Contract) -> ContractView:
    return ContractView(
        id=row.id,
        chain_id=row.chain_id,
        contract_address=row.contract_address,
        contract_type=row.contract_type,
        implementation_address=row.implementation_address,
        owner_address=row.owner_address,
        factory_address=row.factory_address,
        contract_version=row.contract_version,
        native_token_type=row.native_token_type,
        salt=row.salt,
        tx_hash=row.tx_hash,
        abi_url=row.abi_url,
        is_proxy=row.implementation_address is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


def _address(value: str | None, field: str, *, contract: bool = False) -> str | None:
    if value is None:
        return None
    checksummed = checksum_address(value)
    if checksummed is None:
        raise _invalid(field, "not an EVM address (0x and 40 hex digits, valid EIP-55 checksum)")
    if contract and checksummed == ZERO_ADDRESS:
        raise _invalid(field, "the zero address is not a contract")
    return checksummed


def _native_token_type(new: NewContract) -> NativeTokenType | None:
    """Token contracts carry their standard (stated or implied by ``contractType``); wallet
    contracts have none."""
    if new.contract_type in TOKEN_CONTRACT_TYPES:
        implied = NativeTokenType(new.contract_type.value)
        if new.native_token_type not in (None, implied):
            raise _invalid(
                "body.nativeTokenType",
                f"a {new.contract_type} contract has nativeTokenType {implied}",
            )
        return implied
    if new.native_token_type is not None:
        raise _invalid("body.nativeTokenType", "only token contracts have a nativeTokenType")
    return None


def _checked(new: NewContract) -> Contract:
    address = _address(new.contract_address, "body.contractAddress", contract=True)
    assert address is not None
    implementation = _address(
        new.implementation_address, "body.implementationAddress", contract=True
    )
    if new.contract_type is ContractType.SMART_WALLET_PROXY and implementation is None:
        raise _invalid(
            "body.implementationAddress", "a SMART_WALLET_PROXY names its implementation"
        )
    if implementation == address:
        raise _invalid("body.implementationAddress", "a proxy is not its own implementation")
    tx_hash = new.tx_hash
    if tx_hash is not None:
        if not _TX_HASH.match(tx_hash):
            raise _invalid("body.txHash", "not a transaction hash (0x and 64 hex digits)")
        tx_hash = tx_hash.lower()
    return Contract(
        chain_id=new.chain_id,
        contract_address=address,
        contract_type=new.contract_type,
        implementation_address=implementation,
        owner_address=_address(new.owner_address, "body.ownerAddress"),
        factory_address=_address(new.factory_address, "body.factoryAddress", contract=True),
        contract_version=new.contract_version,
        native_token_type=_native_token_type(new),
        salt=new.salt,
        tx_hash=tx_hash,
        abi_url=new.abi_url,
    )


async def register_contract(
    session: AsyncSession, settings: Settings, ctx: RequestContext, new: NewContract
) -> ContractView:
    """Record a contract of the tenant on a configured chain: 400 for malformed fields, 422
    ``CHAIN_NOT_CONFIGURED`` for an unknown chain, 409 when the tenant already registered the
    address on that chain."""
    contract = _checked(new)
    configured_chain(settings, new.chain_id)
    contract.tenant_id = ctx.tenant
    contract.id = uuid7()
    contract.created_at = ctx.now
    contract.updated_at = ctx.now
    try:
        await repository.add(session, contract)
    except repository.AddressTaken:
        existing = await repository.get_by_address(
            session, ctx.tenant, contract.chain_id, contract.contract_address
        )
        raise ContractAlreadyRegistered(
            f"contract {contract.contract_address} on chain {contract.chain_id} is already "
            "registered",
            contractId=None if existing is None else str(existing.id),
        ) from None
    return _view(contract)


async def get_contract(
    session: AsyncSession, ctx: RequestContext, contract_id: uuid.UUID
) -> ContractView:
    row = await repository.get(session, ctx.tenant, contract_id)
    if row is None:
        raise ContractNotFound(f"no contract {contract_id} in this tenant")
    return _view(row)


async def list_contracts(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    chain_id: int | None = None,
    contract_type: ContractType | None = None,
    limit: int,
    offset: int = 0,
) -> list[ContractView]:
    """The tenant's contracts in registration order, optionally of one chain and type."""
    rows = await repository.list_contracts(
        session, ctx.tenant, chain_id=chain_id, contract_type=contract_type,
        limit=limit, offset=offset,
    )  # fmt: skip
    return [_view(row) for row in rows]


async def latest_contract(
    session: AsyncSession, ctx: RequestContext, chain_id: int, contract_type: ContractType
) -> ContractView | None:
    """The tenant's most recently registered contract of a type on a chain (the wallet
    factory settlement should use, for one)."""
    row = await repository.latest_of_type(session, ctx.tenant, chain_id, contract_type)
    return None if row is None else _view(row)
